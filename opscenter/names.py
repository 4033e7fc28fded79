"""Names beside ids: every answer that refers to a department, a user, a service, an instance or a contract says
its name too (``department_name`` beside ``department_id``), read in one query per kind of id for a whole answer.

A public schema declares a name field beside the id it names, with the source its names come from::

    department_id: uuid.UUID
    department_name: str | None = name_of("department_id", ORGANIZATIONS)

and the house fills every such field of an answer, nested ones included (a page's items, a request's items, a
statement's lines), just before the answer leaves the handler (``opscenter.web``, and ``opscenter.idempotency``
before it keeps an answer for replay): ``fill(session, answer)`` collects the ids of each source across the whole
answer, reads them all in one statement (a ``UNION ALL`` of one ``WHERE key IN (...)`` per source), and sets the
names. So a page of 1 and a page of 200 cost the same number of statements (one more than without names), and no
domain can forget a name on one of its answers.

The core cannot import the domains: a domain declares the ``NameSource`` of its own tables (``contracts/names.py``:
services, instances, contract numbers); organizations and users are the core's own, here. Sources name their
tables by their SQL names and resolve them on first use, so a models module may declare names of tables it could
not import (its own identity module included). An id field may hold a list of ids (an asset's instances): its
name field is then the list of their names, in order.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from typing import Any, TypeVar, get_args, get_origin

from litestar import Response
from pydantic import BaseModel
from sqlalchemy import String, bindparam, cast, func, literal, null, select, union_all
from sqlmodel import Field, Session, SQLModel

__all__ = ["ORGANIZATIONS", "USERS", "NameOf", "NameSource", "fill", "lookup", "name_fields", "name_of"]


@dataclass(frozen=True, eq=False)
class NameSource:
    """Where one kind of id finds its names: ``parts()`` gives the id column, the columns read beside it (by the
    name a field asks for, ``"name"`` unless said otherwise) and (table, on clause) joins for columns of other
    tables (an instance's service name). Called on first use, so a source may name a table by its name alone
    (``of_table``): a module declares the names of a table it may not import."""

    noun: str
    parts: Callable[[], tuple[Any, Mapping[str, Any], tuple[tuple[Any, Any], ...]]]

    @classmethod
    def of_table(cls, noun: str, table: str, **columns: str) -> "NameSource":
        """Names from ``columns`` of ``table`` (its SQL name), keyed by its ``id``."""

        def parts() -> tuple[Any, Mapping[str, Any], tuple[tuple[Any, Any], ...]]:
            found = SQLModel.metadata.tables[table]
            return found.c.id, {name: found.c[column] for name, column in columns.items()}, ()

        return cls(noun, parts)

    @cached_property
    def _resolved(self) -> tuple[Any, Mapping[str, Any], tuple[tuple[Any, Any], ...]]:
        return self.parts()


class NameOf(dict[str, Any]):
    """What a name field names: the id field beside it, the source, the column of the source it shows.

    Kept as the field's ``json_schema_extra``: as a mapping it says ``readOnly`` in the JSON schema (what the
    OpenAPI generator accepts there), as this class it tells ``fill`` what to read."""

    def __init__(self, id_field: str, source: NameSource, column: str = "name") -> None:
        super().__init__(readOnly=True)
        self.id_field, self.source, self.column = id_field, source, column


def name_of(id_field: str, source: NameSource, column: str = "name", *, description: str | None = None) -> Any:
    """A read-only name field beside ``id_field``; null when the id is null (or names nothing any more)."""
    text = (
        description or f"The {source.noun}'s {column} of `{id_field}` (of each, in order, for a list), as it reads now"
    )
    return Field(default=None, description=text, schema_extra={"json_schema_extra": NameOf(id_field, source, column)})


ORGANIZATIONS = NameSource.of_table("organization", "organization", name="name")


def _user_parts() -> tuple[Any, Mapping[str, Any], tuple[tuple[Any, Any], ...]]:
    user = SQLModel.metadata.tables["user"]
    # A person as people call them: the display name, else the login name.
    return user.c.id, {"name": func.coalesce(func.nullif(user.c.display_name, ""), user.c.name)}, ()


USERS = NameSource("user", _user_parts)


def lookup(session: Session, source: NameSource, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The columns of ``source`` for each of ``ids`` that exists, in one query (none for no ids)."""
    wanted = sorted({value for value in ids if value is not None}, key=str)
    if not wanted:
        return {}
    key, columns, joins = source._resolved
    names = list(columns)
    query = select(key, *columns.values())
    for table, on in joins:
        query = query.join(table, on)
    found: dict[uuid.UUID, dict[str, Any]] = {}
    # Chunked so that a huge export stays under the databases' bound-parameter limits; a page is one chunk.
    for start in range(0, len(wanted), 5000):
        for row in session.execute(query.where(key.in_(wanted[start : start + 5000]))):
            found[row[0]] = dict(zip(names, row[1:], strict=True))
    return found


def name_fields(model: type[BaseModel]) -> frozenset[str]:
    """The name fields ``model`` declares: filled by the house, never read from a row."""
    return frozenset(name for name, _ in _plan(model).names)


_ONE_STATEMENT_IDS = 5000


def _read(session: Session, wanted: Mapping[NameSource, set[uuid.UUID]]) -> dict[NameSource, dict[uuid.UUID, Any]]:
    """Every source's names in one statement (UNION ALL of one SELECT per source): one round trip per answer
    however many kinds of id it holds. Beyond a page's worth of ids, one ``lookup`` per source (chunked)."""
    sources = [(source, sorted({i for i in ids if i is not None}, key=str)) for source, ids in wanted.items()]
    sources = [(source, ids) for source, ids in sources if ids]
    if not sources:
        return {}
    if sum(len(ids) for _, ids in sources) > _ONE_STATEMENT_IDS:
        return {source: lookup(session, source, ids) for source, ids in sources}
    statement = _names_statement(tuple(source for source, _ in sources))
    ids = {f"ids_{index}": source_ids for index, (_, source_ids) in enumerate(sources)}
    found: dict[NameSource, dict[uuid.UUID, Any]] = {source: {} for source, _ in sources}
    for row in session.connection().execute(statement, ids):
        source = sources[row[0]][0]
        found[source][row[1]] = dict(zip(source._resolved[1], row[2:], strict=False))
    return found


@lru_cache(maxsize=256)
def _names_statement(sources: tuple[NameSource, ...]) -> Any:
    """The UNION ALL reading ``sources`` (in this order), their ids bound as ``ids_0``, ``ids_1``, …: built once per
    combination of sources, since an answer's kinds of id are the same on every request (building and keying the
    statement cost more than running it)."""
    width = max(len(source._resolved[1]) for source in sources)
    selects = []
    for index, source in enumerate(sources):
        key, columns, joins = source._resolved
        values = [cast(column, String) for column in columns.values()]
        values += [cast(null(), String)] * (width - len(values))
        query = select(literal(index).label("source"), key.label("key"), *values).where(
            key.in_(bindparam(f"ids_{index}", expanding=True))
        )
        for table, on in joins:
            query = query.join(table, on)
        selects.append(query)
    return selects[0] if len(selects) == 1 else union_all(*selects)


@dataclass(frozen=True)
class _Plan:
    names: tuple[tuple[str, NameOf], ...]  # (name field, what it names)
    nested: tuple[str, ...]  # fields that may hold models with names of their own


def fill(session: Session, answer: Any) -> None:
    """Set every declared name field in ``answer`` (a model, a list of them, a page, a Response around one)."""
    targets: list[tuple[BaseModel, str, NameOf]] = []
    wanted: dict[NameSource, set[uuid.UUID]] = defaultdict(set)
    _collect(answer.content if isinstance(answer, Response) else answer, targets, wanted)
    if not targets:
        return
    found = _read(session, wanted)
    for model, name_field, spec in targets:
        value = model.__dict__.get(spec.id_field)
        names = found.get(spec.source, {})
        if isinstance(value, list | tuple):
            named: Any = [names.get(item, {}).get(spec.column) for item in value]
        else:
            named = None if value is None else names.get(value, {}).get(spec.column)
        model.__dict__[name_field] = named  # set as read: also on frozen models, no validation needed


def _collect(
    value: Any, targets: list[tuple[BaseModel, str, NameOf]], wanted: dict[NameSource, set[uuid.UUID]]
) -> None:
    if isinstance(value, list | tuple):
        for item in value:
            _collect(item, targets, wanted)
        return
    if not isinstance(value, BaseModel):
        return
    plan = _plan(type(value))
    for name_field, spec in plan.names:
        ids = value.__dict__.get(spec.id_field)
        if isinstance(ids, list | tuple):
            wanted[spec.source].update(ids)
        elif ids is not None:
            wanted[spec.source].add(ids)
        targets.append((value, name_field, spec))
    for nested in plan.nested:
        _collect(value.__dict__.get(nested), targets, wanted)


@cache
def _plan(model: type[BaseModel]) -> _Plan:
    names, nested = [], []
    for name, info in model.model_fields.items():
        if isinstance(info.json_schema_extra, NameOf):
            names.append((name, info.json_schema_extra))
        elif _may_hold_models(info.annotation):
            nested.append(name)
    return _Plan(tuple(names), tuple(nested))


def _may_hold_models(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    if isinstance(annotation, TypeVar) or annotation is Any:  # a page built as CursorPage[M]: look at run time
        return True
    if get_origin(annotation) is dict:
        return False  # not walked: no answer keeps named models in a mapping
    return any(_may_hold_models(argument) for argument in get_args(annotation))
