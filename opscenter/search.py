"""Search (``q``) and order (``sort``) on the lists people browse.

``q`` is a case-insensitive substring over the fields people search (titles, descriptions, numbers, names),
Chinese included: ``matches(haystack(Ticket.number, Ticket.title, Ticket.description), q)``. The user's ``%``,
``_`` and ``\\`` are matched as themselves. The SQL is the same shape on both databases:

- PostgreSQL: ``<haystack> ILIKE '%…%'``, served by a ``pg_trgm`` GIN index on exactly that haystack expression
  (migration 0021); a text of three characters or more (Chinese too: the database's ``C.UTF-8`` ctype counts CJK as
  word characters) is looked up through the index; a shorter one walks the list's order and filters.
- SQLite: ``<haystack> LIKE '%…%' ESCAPE '\\'``, SQLite's LIKE being case-insensitive for ASCII already: an honest
  scan in the list's order that stops once the page is full (bench/names_search.py measures it at 100,000 rows).

A haystack joins its columns with a space, so the index expression and the query's are the same text; a search
that spans two fields with that space matches, as it would in one text box.

A list's ``sort`` is an enum of its orders, each a keyset order (``opscenter/pagination.py``): a cursor is bound
to its list's SQL, order included, so a cursor reused with another ``sort`` is refused (400 naming ``cursor``).
"""

from typing import Annotated, Any

from litestar.params import QueryParameter
from sqlalchemy import Boolean, ColumnElement, Text, bindparam, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

__all__ = ["SEARCH_MAX_LENGTH", "SearchQuery", "haystack", "matches"]

SEARCH_MAX_LENGTH = 100

SearchQuery = Annotated[
    str | None,
    QueryParameter(
        max_length=SEARCH_MAX_LENGTH,
        description="A part of the text to find, case-insensitive, e.g. 证书 or t-2026-0001 "
        "(`%` and `_` are matched as themselves; empty: no search)",
    ),
]
"""A ``q`` parameter: at most 100 characters (400 naming it otherwise), documented the same on every list."""

_SEPARATOR = "' '"


def haystack(*columns: Any) -> ColumnElement[str]:
    """The columns people search, joined by a space: ``a || ' ' || b``. Columns must be NOT NULL (a NULL would
    blank the whole text); the migration indexes the very same expression on PostgreSQL."""
    joined: ColumnElement[str] = columns[0]
    for column in columns[1:]:
        joined = joined.concat(literal_column(_SEPARATOR)).concat(column)
    return joined


def like_pattern(text: str) -> str:
    """``%text%`` with the user's ``\\``, ``%`` and ``_`` escaped (backslash, PostgreSQL's default escape)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _Contains(ColumnElement[bool]):
    """``haystack`` contains the user's text, case-insensitive: ILIKE on PostgreSQL, LIKE on SQLite."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: no "= 1" after it on SQLite
    _traverse_internals = [
        ("haystack", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, haystack: ColumnElement[str], pattern: str) -> None:
        self.haystack = haystack
        self.pattern = bindparam("q_pattern", pattern, type_=Text(), unique=True)


@compiles(_Contains)
def _like(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite: LIKE ignores ASCII case by default; it has no default escape character, so it is named.
    return f"({compiler.process(element.haystack, **kw)}) LIKE {compiler.process(element.pattern, **kw)} ESCAPE '\\'"


@compiles(_Contains, "postgresql")
def _ilike(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    # No ESCAPE clause: backslash is the default, and the bare operator is what the trigram index serves.
    return f"({compiler.process(element.haystack, **kw)}) ILIKE {compiler.process(element.pattern, **kw)}"


def matches(haystack: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """Rows whose ``haystack`` contains ``text``, case-insensitive (see the module docstring)."""
    return _Contains(haystack, like_pattern(text))
