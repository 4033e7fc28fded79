"""What every controller shares: the session per request, the acting user, pages, ETags and If-Match."""

import re
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, ParamSpec, TypeVar

import litestar
from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, QueryParameter
from pydantic import BaseModel
from sqlmodel import Session

from opscenter.auth.actor import Actor
from opscenter.db import Database, PageRequest
from opscenter.errors import InvalidParameter, PreconditionRequired
from opscenter.replica import reads_from_replica
from opscenter.schemas import Page
from opscenter.settings import Settings

M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")
R = TypeVar("R")

# Set on every handler registered through the house decorators below; the route-walking test refuses a
# handler that takes a session without it (its transaction would never commit).
HOUSE_TRANSACTION = "__opscenter_transaction__"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_IF_MATCH = re.compile(r'^\s*"(\d{1,18})"\s*$')


def provide_session(request: Request[Any, Any, Any]) -> Session:
    """The request's session: a read transaction for GET, a write transaction otherwise.

    Creating it touches no connection; its transaction begins at the handler's first statement and
    ends in the handler's own thread (see ``_transactional``).
    """
    db: Database = request.app.state.db
    if db.replica is not None and request.method in _SAFE_METHODS and reads_from_replica(request.route_handler):
        return db.list_session()  # may lag the primary: see opscenter/replica.py
    return db.session(write=request.method not in _SAFE_METHODS)


def _transactional(fn: Callable[P, R], *, write: bool) -> Callable[P, R]:
    """End the request's transaction in the thread that ran the handler, once its answer is built.

    A failed commit raises from here and becomes an error response, never a success that did not
    happen. Committing anywhere else would need a second worker thread per request, and handlers
    blocked on a lock (SQLite's write lock, a PostgreSQL row lock) could hold every thread while the
    transaction holding that lock waited for one in order to commit: a deadlock under load.
    """

    @wraps(fn)
    def handler(*args: P.args, **kwargs: P.kwargs) -> R:
        session = kwargs.get("session")
        if not isinstance(session, Session):
            return fn(*args, **kwargs)
        try:
            answer = fn(*args, **kwargs)
        except BaseException:
            session.close()  # rolls back
            raise
        Database.finish(session, commit=write)
        return answer

    setattr(handler, HOUSE_TRANSACTION, "write" if write else "read")
    return handler


def _route(decorator: Any, *, write: bool) -> Callable[..., Callable[[Callable[P, R]], Any]]:
    def route(path: str = "/", **options: Any) -> Callable[[Callable[P, R]], Any]:
        def register(fn: Callable[P, R]) -> Any:
            return decorator(path, sync_to_thread=True, **options)(_transactional(fn, write=write))

        return register

    return route


# The house's route decorators: every handler runs in a worker thread inside one transaction.
get = _route(litestar.get, write=False)
post = _route(litestar.post, write=True)
patch = _route(litestar.patch, write=True)
put = _route(litestar.put, write=True)
delete = _route(litestar.delete, write=True)


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = request.user
    if not isinstance(actor, Actor):  # the auth middleware guarantees this for every guarded route
        raise RuntimeError("route reached without an authenticated actor")
    return actor


def provide_page(
    request: Request[Any, Any, Any],
    limit: Annotated[int | None, QueryParameter(ge=1, description="Page size (bounded)")] = None,
    offset: Annotated[int, QueryParameter(ge=0, description="Rows to skip")] = 0,
) -> PageRequest:
    settings: Settings = request.app.state.settings
    if limit is None:
        limit = settings.page_size_default
    if limit > settings.page_size_max:
        # Too large is an error, not a silent clamp that would hide rows from the caller.
        raise InvalidParameter("limit", f"must be at most {settings.page_size_max}")
    return PageRequest(limit=limit, offset=offset)


def provide_expected_version(
    if_match: Annotated[
        str | None, HeaderParameter(name="If-Match", description='The ETag as last read, e.g. "3"')
    ] = None,
) -> int:
    """The version the caller read (from ``If-Match``); 428 when absent."""
    if if_match is None:
        raise PreconditionRequired(
            'This action needs If-Match with the ETag of the object as you last read it, e.g. If-Match: "3".'
        )
    match = _IF_MATCH.match(if_match)
    if match is None:
        raise InvalidParameter("If-Match", 'must be one ETag as this API sends it, e.g. "3"; not "*" or a list')
    return int(match.group(1))


# What handlers declare, by name: ``session: DbSession, actor: CurrentActor``.
DbSession = NamedDependency[Session]
CurrentActor = NamedDependency[Actor]
Paging = NamedDependency[PageRequest]
ExpectedVersion = NamedDependency[int]

DEPENDENCIES = {
    "session": Provide(provide_session, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "page": Provide(provide_page, sync_to_thread=False),
    "expected_version": Provide(provide_expected_version, sync_to_thread=False),
}


def etag(version: int) -> str:
    return f'"{version}"'


def with_etag(model: M, *, status_code: int = 200) -> Response[M]:
    """A versioned object's answer, carrying its ETag for the next If-Match."""
    return Response(model, status_code=status_code, headers={"ETag": etag(model.version)})  # type: ignore[attr-defined]


def page_of(items: list[M], total: int, page: PageRequest) -> Page[M]:
    return Page[M](items=items, total=total, limit=page.limit, offset=page.offset)
