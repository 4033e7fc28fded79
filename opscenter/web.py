"""What every controller shares: the session per request, pages, the answer with its ETag and Location, and
If-Match. (Who acts, ``actor: CurrentActor``, comes from ``opscenter.identity.actor``; the wiring registers both.)"""

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Annotated, Any, ParamSpec, TypeVar

import anyio.to_thread
import litestar
from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, QueryParameter
from pydantic import BaseModel
from sqlmodel import Session

from opscenter import names
from opscenter.db import Database, Transactions
from opscenter.errors import InvalidInput, PreconditionRequired
from opscenter.pagination import CursorPage, PageRequest, load_cursor_key
from opscenter.parameters import harden
from opscenter.replica import ReadReplica
from opscenter.schemas import INT_MAX
from opscenter.settings import Settings
from opscenter.sheets import Limits
from opscenter.timekeeping import PERIOD_PATTERN, Period

M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# Set on every handler registered through the house decorators below: which transaction it ends ("read" or
# "write"). tests/test_permissions.py walks every route and fails on a handler that takes a session without it:
# one registered with a bare litestar.post would answer 200 and commit nothing.
HOUSE_TRANSACTION = "__opscenter_transaction__"

CURSOR_MAX_LENGTH = 2000
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# One ETag as this API sends it. The OpenAPI document states this very pattern, so that what it calls
# valid is exactly what is accepted.
IF_MATCH_PATTERN = r'^"[0-9]{1,9}"$'
_IF_MATCH = re.compile(IF_MATCH_PATTERN, re.ASCII)


def provide_session(request: Request[Any, Any, Any]) -> Session:
    """The request's session: a read transaction for GET, a write transaction otherwise.

    Creating it touches no connection; its transaction begins at the handler's first statement and
    ends in the handler's own thread (see ``_transactional``).
    """
    db: Database = request.app.state.db
    if request.method not in _SAFE_METHODS:
        return db.session(write=True)
    replica: ReadReplica | None = request.app.state.replica  # set by the wiring: None without a replica
    if replica is not None and reads_from_replica(request.route_handler):
        # May lag the primary (opscenter/replica.py); while the replica is down, the primary answers.
        return replica.session() or db.session(write=False)
    return db.session(write=False)


def reads_from_replica(route_handler: Any) -> bool:
    """Whether a GET handler's reads may go to the replica: its answer is a list page, or it opted in."""
    chosen = route_handler.opt.get("replica")
    if chosen is not None:
        return bool(chosen)
    answer = route_handler.parsed_fn_signature.return_type.annotation
    return isinstance(answer, type) and issubclass(answer, CursorPage)


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
            names.fill(session, answer)  # names beside ids, one query per kind for the whole answer
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
            if inspect.iscoroutinefunction(fn):
                # Answers from what the request already carries (e.g. /me): no thread, no session, no database.
                return decorator(path, **options)(harden(fn))
            return decorator(path, sync_to_thread=True, **options)(_transactional(harden(fn), write=write))

        return register

    return route


# The house's route decorators: every handler runs in a worker thread inside one transaction, with its
# parameters made strict (opscenter/parameters.py); the OpenAPI hook (opscenter/openapi.py) documents the
# errors each can answer from what its signature declares. An ``async def`` handler runs on the event loop
# instead and must not touch the database.
get = _route(litestar.get, write=False)
post = _route(litestar.post, write=True)
patch = _route(litestar.patch, write=True)
put = _route(litestar.put, write=True)
delete = _route(litestar.delete, write=True)


EXPORT_BATCH = 1000
"""Rows an export reads per short transaction (``opscenter.exports.paged``)."""


@dataclass(frozen=True)
class ExportSource:
    """What an export route reads its rows with once its answer has begun: short read transactions of its own (the
    request's has ended by then), and the cursor key, so that it pages through exactly the list's query."""

    transactions: Transactions
    cursor_key: bytes

    def page(self, after: str | None) -> PageRequest:
        """The list's page request for the batch after the cursor ``after`` (None: the first)."""
        return PageRequest(limit=EXPORT_BATCH, cursor=after, cursor_key=self.cursor_key)


async def provide_export_source(request: Request[Any, Any, Any]) -> ExportSource:
    state = request.app.state
    if getattr(state, "cursor_key", None) is None:
        state.cursor_key = await anyio.to_thread.run_sync(load_cursor_key, state.db)
    return ExportSource(transactions=state.db, cursor_key=state.cursor_key)


async def provide_page(
    request: Request[Any, Any, Any],
    limit: Annotated[
        int | None, QueryParameter(ge=1, le=INT_MAX, description="Page size; at most the page size maximum")
    ] = None,
    cursor: Annotated[
        str | None,
        QueryParameter(
            max_length=CURSOR_MAX_LENGTH, description="`next_cursor` of the previous page; omit for the first page"
        ),
    ] = None,
    count: Annotated[bool, QueryParameter(description="Also count every matching row into `total`")] = False,
) -> PageRequest:
    settings: Settings = request.app.state.settings
    if limit is None:
        limit = settings.page_size_default
    if limit > settings.page_size_max:
        # Too large is an error, not a silent clamp that would hide rows from the caller.
        raise InvalidInput("limit", f"must be at most {settings.page_size_max}", parameter=True)
    state = request.app.state
    if getattr(state, "cursor_key", None) is None:  # once per process, on the first list it serves
        state.cursor_key = await anyio.to_thread.run_sync(load_cursor_key, state.db)
    return PageRequest(limit=limit, cursor=cursor, count=count, cursor_key=state.cursor_key)


def provide_expected_version(
    if_match: Annotated[
        str | None,
        HeaderParameter(name="If-Match", description='The ETag as last read, e.g. "3"'),
    ] = None,
) -> int:
    """The version the caller read (from ``If-Match``); 428 when absent."""
    if if_match is None:
        raise PreconditionRequired(
            'This action needs If-Match with the ETag of the object as you last read it, e.g. If-Match: "3".'
        )
    if _IF_MATCH.fullmatch(if_match.strip()) is None:
        raise InvalidInput(
            "If-Match", 'must be one ETag as this API sends it, e.g. "3"; not "*" or a list', parameter=True
        )
    return int(if_match.strip().strip('"'))


def provide_upload_limits(request: Request[Any, Any, Any]) -> Limits:
    """What one uploaded file may make the server do, from the ``upload_*`` settings."""
    settings: Settings = request.app.state.settings
    return Limits(
        rows=settings.upload_max_rows,
        cell_chars=settings.upload_max_cell_chars,
        unpacked_bytes=settings.upload_max_unpacked_bytes,
        seconds=settings.upload_parse_seconds,
    )


# What handlers declare, by name: ``session: DbSession, page: Paging``.
DbSession = NamedDependency[Session]
Paging = NamedDependency[PageRequest]  # ``page: Paging``: limit, cursor, count (see opscenter/pagination.py)
ExpectedVersion = NamedDependency[int]
UploadLimits = NamedDependency[Limits]  # ``limits: UploadLimits``: for a route that reads an uploaded file
Exporting = NamedDependency[ExportSource]  # ``exporting: Exporting``: for a route that streams an export

DEPENDENCIES = {
    "session": Provide(provide_session, sync_to_thread=False),
    "page": Provide(provide_page),
    "expected_version": Provide(provide_expected_version, sync_to_thread=False),
    "limits": Provide(provide_upload_limits, sync_to_thread=False),
    "exporting": Provide(provide_export_source),
}


def etag(version: int) -> str:
    return f'"{version}"'


def respond(model: M, *, created: str | None = None) -> Response[M]:
    """An object's answer, with what the caller's next request needs: the object's ``ETag`` when it is versioned
    (for the next If-Match), and, when the request ``created`` it, 201 with ``Location``: the URL a GET reads it
    back from. Every creation answers through here; the OpenAPI document declares Location on every 201."""
    headers = {}
    version = getattr(model, "version", None)
    if version is not None:
        headers["ETag"] = etag(version)
    if created is not None:
        headers["Location"] = created
    return Response(model, status_code=200 if created is None else 201, headers=headers)


AnyOf = Annotated[
    list[T] | None,
    QueryParameter(description="Repeat to keep rows with any of several values: `?status=new&status=acknowledged`"),
]
"""A list filter on an enum that may repeat, meaning OR: ``status: AnyOf[TicketStatus] = None``; documented as an
array in the OpenAPI document. Services apply it with ``opscenter.filters.any_of``."""

PeriodQuery = Annotated[
    str | None,
    QueryParameter(pattern=PERIOD_PATTERN, description="A month, YYYY-MM (Asia/Shanghai), e.g. 2026-10"),
]
"""A ``period`` filter: the house's month, checked (400 naming it) and documented with its pattern."""


def as_period(text: str | None) -> Period | None:
    """The month of a ``PeriodQuery`` parameter (already matched against its pattern), or None."""
    return None if text is None else Period.parse(text)
