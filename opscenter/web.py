"""What every controller shares: the session per request, the acting user, pages, ETags and If-Match."""

import re
from collections.abc import Iterator
from typing import Annotated, Any, TypeVar

from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, QueryParameter
from pydantic import BaseModel
from sqlmodel import Session

from opscenter.auth.actor import Actor
from opscenter.db import Database, PageRequest
from opscenter.errors import InvalidParameter, PreconditionRequired
from opscenter.schemas import Page
from opscenter.settings import Settings

M = TypeVar("M", bound=BaseModel)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_IF_MATCH = re.compile(r'^\s*"(\d{1,18})"\s*$')


def provide_session(request: Request[Any, Any, Any]) -> Iterator[Session]:
    """One transaction per request: reads take a read transaction, everything else a write one.

    The commit happens after the handler has built its answer and before the answer is sent, so a
    failed commit becomes an error response, never a success that did not happen.
    """
    db: Database = request.app.state.db
    with db.transaction(write=request.method not in _SAFE_METHODS) as session:
        yield session


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
        raise InvalidParameter(
            "If-Match", 'must be one ETag as this API sends it, e.g. "3"; not "*" or a list'
        )
    return int(match.group(1))


# What handlers declare, by name: ``session: DbSession, actor: CurrentActor``.
DbSession = NamedDependency[Session]
CurrentActor = NamedDependency[Actor]
Paging = NamedDependency[PageRequest]
ExpectedVersion = NamedDependency[int]

DEPENDENCIES = {
    "session": Provide(provide_session),
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
