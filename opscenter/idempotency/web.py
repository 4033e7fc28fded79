"""The house decorator for idempotent POSTs: ``idempotent_post``, and the ``IdempotencyKey`` it needs."""

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Annotated, Any

from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter
from litestar.serialization import encode_json
from pydantic_core import to_jsonable_python
from sqlmodel import Session

from opscenter import names
from opscenter.errors import InvalidInput
from opscenter.idempotency import service
from opscenter.idempotency.service import HEADER, Answer, Claim
from opscenter.identity.actor import Actor
from opscenter.web import post

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, e.g. a UUID
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class IdempotentRequest:
    """The key a request carries and what identifies the request besides its body."""

    key: str
    method: str
    path: str
    query: dict[str, list[str]]


def provide_idempotency_key(
    request: Request[Any, Any, Any],
    header: Annotated[
        str | None,
        HeaderParameter(
            name=HEADER,
            required=True,
            schema_extra={"pattern": _KEY.pattern},  # documented; checked below, naming the header
            description="A unique key per logical request (e.g. a UUID), 1–255 visible ASCII characters. "
            "Retrying with the same key and body returns the first answer and changes nothing; the same key "
            "with another body is refused (422). Keys are scoped to your organization and kept 24 hours.",
        ),
    ] = None,
) -> IdempotentRequest:
    if header is None:
        raise InvalidInput(
            HEADER, "required: send a unique key per request (e.g. a UUID) so it can be retried", parameter=True
        )
    if not _KEY.match(header):
        raise InvalidInput(HEADER, "must be 1 to 255 visible ASCII characters, e.g. a UUID", parameter=True)
    query = {name: sorted(request.query_params.getall(name)) for name in sorted(request.query_params.keys())}
    return IdempotentRequest(header, request.method, request.url.path, query)


def provide_optional_idempotency_key(
    request: Request[Any, Any, Any],
    header: Annotated[
        str | None,
        HeaderParameter(
            name=HEADER,
            required=False,
            schema_extra={"pattern": _KEY.pattern},
            description="Optional; send a unique key per logical request (e.g. a UUID) to make retrying safe: "
            "retrying with the same key and body returns the first answer and creates nothing more; the same key "
            "with another body is refused (422). Without one, every request creates. Keys are scoped to your "
            "organization and kept 24 hours.",
        ),
    ] = None,
) -> IdempotentRequest | None:
    return None if header is None else provide_idempotency_key(request, header)


IdempotencyKey = NamedDependency[IdempotentRequest]
OptionalIdempotencyKey = NamedDependency[IdempotentRequest | None]


def idempotent_post(
    path: str = "/", *, key_required: bool = True, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """The house ``post``, made safe to retry with an ``Idempotency-Key`` (see :mod:`opscenter.idempotency`).

    The handler declares ``session``, ``actor``, its body as ``data`` (if any) and
    ``idempotency_key: IdempotencyKey``. It runs only for the first request with a key; its answer is
    stored in the same transaction and sent to every replay. With ``key_required=False`` (a creation that
    predates the rule, where clients send no key today) the key is optional (``OptionalIdempotencyKey``): a
    request with one is kept and replayed as above, one without runs as a plain post.
    """
    default_status = int(options.get("status_code", 201))
    provider = provide_idempotency_key if key_required else provide_optional_idempotency_key
    dependencies = {
        **options.pop("dependencies", {}),
        "idempotency_key": Provide(provider, sync_to_thread=False),
    }

    def register(fn: Callable[..., Any]) -> Any:
        missing = {"session", "actor", "idempotency_key"} - set(inspect.signature(fn).parameters)
        if missing:
            raise TypeError(f"{fn.__qualname__} must declare {sorted(missing)} to be idempotent")

        @wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> Response[Any]:
            session: Session = kwargs["session"]
            actor: Actor = kwargs["actor"]
            request: IdempotentRequest | None = kwargs["idempotency_key"]
            if request is None:
                return fn(*args, **kwargs)  # type: ignore[no-any-return]
            body = to_jsonable_python(kwargs.get("data"))
            outcome = service.claim(
                session,
                organization_id=actor.required_organization_id,
                user_id=actor.user_id,
                key=request.key,
                method=request.method,
                path=request.path,
                fingerprint=service.fingerprint(request.method, request.path, request.query, body),
            )
            if isinstance(outcome, Answer):
                return _response(outcome, replayed=True)
            first = fn(*args, **kwargs)
            names.fill(session, first)  # before it is kept: every replay carries the names the first answer had
            answer = _frozen(first, default_status)
            service.remember(session, outcome, answer)
            return _response(answer, replayed=False)

        return post(path, dependencies=dependencies, **options)(handler)

    return register


def _frozen(answer: Any, default_status: int) -> Answer:
    """The handler's answer as the bytes Litestar would send, so the first answer and every replay match."""
    if isinstance(answer, Response):
        headers = {str(name): str(value) for name, value in answer.headers.items()}
        media_type = str(answer.media_type or "application/json")
        return Answer(answer.status_code or default_status, _encoded(answer.content), media_type, headers)
    return Answer(default_status, _encoded(answer))


def _encoded(content: Any) -> bytes:
    return content if isinstance(content, bytes) else encode_json(to_jsonable_python(content))


def _response(answer: Answer, *, replayed: bool) -> Response[bytes]:
    headers = {**answer.headers, REPLAYED_HEADER: "true"} if replayed else dict(answer.headers)
    return Response(answer.body, status_code=answer.status_code, media_type=answer.media_type, headers=headers)


__all__ = [
    "Claim",
    "IdempotencyKey",
    "IdempotentRequest",
    "OptionalIdempotencyKey",
    "idempotent_post",
    "provide_idempotency_key",
    "provide_optional_idempotency_key",
]
