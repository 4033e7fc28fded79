"""Keyset (cursor) pagination: every list costs the same on page 1 and on page 2,000.

A service orders its query and returns ``keyset(session, query, page)``: the rows after the caller's cursor
(``WHERE`` <order keys> after <the last row seen> ``LIMIT n+1``: a range scan, never an OFFSET walk; a COUNT
only with ``?count=true``) as a ``Slice``. The controller answers ``rows.page_of([XPublic.model_validate(row)
for row in rows])``, a ``CursorPage``: ``{"items": [...], "limit": 50, "next_cursor": "…" | null, "total":
null | 1234}``; ``next_cursor`` is null on the last page.

The query orders by NOT NULL columns of the listed entity (``asc``/``desc`` as you like), the last one unique
(the id) so the order is total, with an index that starts with its equality filters and goes on with the order
keys; ``keyset`` refuses an order it cannot page. The same request must give the same SQL (no ``now()`` in a
filter): the cursor is signed (HMAC-SHA256, with a key kept in the database, ``CursorKey``) and bound to the
list's SQL and parameters, the caller's scope included, so a cursor of another list, other filters or another
department is refused with 400 naming ``cursor``. Cursors do not survive a deploy that changes a list's query.
"""

import base64
import binascii
import enum
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, ColumnElement, and_, insert, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import Field, Session, SQLModel, func, select
from sqlmodel.sql.expression import SelectOfScalar

from opscenter.db import Database
from opscenter.errors import InvalidInput

T = TypeVar("T")
M = TypeVar("M")

__all__ = ["CursorKey", "CursorPage", "PageRequest", "Slice", "keyset", "load_cursor_key"]


@dataclass(frozen=True)
class PageRequest:
    """What a list's caller asked for: ``limit`` rows after ``cursor``; ``count`` asks for the total as well."""

    limit: int
    cursor: str | None = None
    count: bool = False
    cursor_key: bytes | None = field(default=None, repr=False)  # signs cursors; set by the web layer


class CursorKey(SQLModel, table=True):
    """The key that signs cursors: made once per database, so every process of a deployment shares it."""

    __tablename__ = "cursor_key"

    id: int = Field(default=1, primary_key=True)
    secret: str = Field(max_length=64)


def load_cursor_key(db: Database) -> bytes:
    """This database's cursor key, made on first use (two processes racing agree: the first insert wins)."""
    with db.transaction(write=False) as session:
        row = session.get(CursorKey, 1)
        if row is not None:
            return bytes.fromhex(row.secret)
    try:
        with db.transaction(write=True) as session:
            if session.get(CursorKey, 1) is None:
                session.execute(insert(CursorKey).values(id=1, secret=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another process made it between our read and our insert: use theirs
    with db.transaction(write=False) as session:
        return bytes.fromhex(session.get_one(CursorKey, 1).secret)


class CursorPage(BaseModel, Generic[M]):
    """The list envelope: a page of items and the cursor of the next page (null on the last)."""

    model_config = ConfigDict(frozen=True)

    items: list[M]
    limit: int
    next_cursor: str | None
    total: int | None


@dataclass(frozen=True)
class Slice(Generic[T]):
    """One page of rows as ``keyset`` read them; iterate it for the rows, ``page_of`` to answer."""

    rows: list[T]
    limit: int
    next_cursor: str | None
    total: int | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def page_of(self, items: list[M]) -> CursorPage[M]:
        """The envelope, around ``items``: the public shapes of ``rows``, in the same order."""
        return CursorPage[M](items=items, limit=self.limit, next_cursor=self.next_cursor, total=self.total)


@dataclass(frozen=True)
class _Key:
    column: Column[Any]
    descending: bool


def keyset(session: Session, query: SelectOfScalar[T], page: PageRequest) -> Slice[T]:
    """The page of ``query`` after ``page.cursor`` (the first page without one); see the module docstring."""
    if page.cursor_key is None:
        raise RuntimeError("keyset needs the PageRequest the web layer made (it carries the cursor key)")
    keys = _order_keys(query)
    binding = _fingerprint(session, query)
    total = None
    if page.count:
        total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    paged = query
    if page.cursor is not None:
        values = _decode(page.cursor, page.cursor_key, binding, keys)
        paged = query.where(_after(keys, values))
    rows = list(session.exec(paged.limit(page.limit + 1)).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, key.column.key) for key in keys], page.cursor_key, binding)
    return Slice(rows=rows, limit=page.limit, next_cursor=next_cursor, total=total)


def _order_keys(query: SelectOfScalar[Any]) -> list[_Key]:
    keys = []
    for clause in query._order_by_clauses:
        descending = isinstance(clause, UnaryExpression) and clause.modifier is operators.desc_op
        element = clause.element if isinstance(clause, UnaryExpression) else clause
        if not isinstance(element, Column):
            raise TypeError(f"keyset pages order by plain columns of the listed entity, not {element!r}")
        keys.append(_Key(element, descending))
    if not keys:
        raise TypeError("keyset needs an ordered query")
    last = keys[-1].column
    if not (last.primary_key or last.unique):
        raise TypeError(f"the last order key of a keyset page must be unique (e.g. the id), not {last.key}")
    return keys


def _after(keys: list[_Key], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys``: (a, b) after (x, y) ⇔ a > x or (a = x and b > y)."""
    alternatives = []
    for index, key in enumerate(keys):
        beyond = key.column < values[index] if key.descending else key.column > values[index]
        alternatives.append(and_(*(keys[i].column == values[i] for i in range(index)), beyond))
    predicate = or_(*alternatives)
    if len(keys) > 1:  # a bound on the leading key lets the database start its index scan there
        first = keys[0]
        predicate = and_(first.column <= values[0] if first.descending else first.column >= values[0], predicate)
    return predicate


# The SQL text of each list's query shape, compiled once per process: SQLAlchemy's cache key names the
# shape, its bound parameters (in a fixed order) carry the values that differ between callers.
_SQL_BY_SHAPE: dict[Any, str] = {}
_SHAPES_KEPT = 1000


def _fingerprint(session: Session, query: SelectOfScalar[Any]) -> str:
    """What the cursor is bound to: the list's SQL and its parameters (filters and the caller's scope)."""
    cache_key = query._generate_cache_key()
    if cache_key is None:  # a construct SQLAlchemy cannot cache: compile it every time
        compiled = query.compile(dialect=session.get_bind().dialect)
        sql, values = str(compiled), list(compiled.params.values())
    else:
        sql = _SQL_BY_SHAPE.get(cache_key.key) or _remember(cache_key.key, query, session)
        values = [parameter.effective_value for parameter in cache_key.bindparams]
    params = json.dumps([_plain(value) for value in values])
    return hashlib.sha256(f"{sql}\n{params}".encode()).hexdigest()[:32]


def _remember(shape: Any, query: SelectOfScalar[Any], session: Session) -> str:
    if len(_SQL_BY_SHAPE) >= _SHAPES_KEPT:
        _SQL_BY_SHAPE.clear()
    sql = _SQL_BY_SHAPE[shape] = str(query.compile(dialect=session.get_bind().dialect))
    return sql


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, uuid.UUID | Decimal | datetime | date):
        return value.isoformat() if isinstance(value, datetime | date) else str(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return repr(value)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encode(values: list[Any], key: bytes, binding: str) -> str:
    payload = json.dumps([binding, [_plain(value) for value in values]], separators=(",", ":")).encode()
    signature = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(signature)}"


_REFUSED = "is not a cursor of this list for you: pass next_cursor as this list gave it, or start without one"


def _decode(cursor: str, key: bytes, binding: str, keys: list[_Key]) -> list[Any]:
    try:
        encoded_payload, _, encoded_signature = cursor.partition(".")
        payload, signature = _unb64(encoded_payload), _unb64(encoded_signature)
    except (binascii.Error, ValueError):
        raise InvalidInput("cursor", _REFUSED, parameter=True) from None
    if not hmac.compare_digest(signature, hmac.new(key, payload, hashlib.sha256).digest()[:16]):
        raise InvalidInput("cursor", _REFUSED, parameter=True)
    bound_to, values = json.loads(payload)
    if bound_to != binding or len(values) != len(keys):
        raise InvalidInput("cursor", _REFUSED, parameter=True)
    try:
        return [_typed(key.column, value) for key, value in zip(keys, values, strict=True)]
    except (TypeError, ValueError):
        raise InvalidInput("cursor", _REFUSED, parameter=True) from None


def _typed(column: Column[Any], value: Any) -> Any:
    """A cursor value back in its column's Python type (signed, so only our own encoding arrives here)."""
    python_type = column.type.python_type
    if isinstance(value, str) and python_type is not str:
        if python_type is uuid.UUID:
            return uuid.UUID(value)
        if python_type is datetime:
            return datetime.fromisoformat(value)
        if python_type is date:
            return date.fromisoformat(value)
        if python_type is Decimal:
            return Decimal(value)
        if issubclass(python_type, enum.Enum):
            return python_type(value)
    if not isinstance(value, python_type):
        raise TypeError(f"{column.key}: {value!r}")
    return value
