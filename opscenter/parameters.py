"""Query, path and header parameters made strict for every handler the house decorators register.

Handlers declare plain types (``fiscal_year: FromQuery[int | None]``, ``since: FromQuery[datetime | None]``);
``harden(fn)`` rewrites what Litestar reads of their signature, so that every domain gets, for free:

- integers bounded to what every integer column and SQL parameter holds (PostgreSQL ``integer``), stated
  as ``minimum``/``maximum`` in the OpenAPI document; beyond them a 400 naming the parameter;
- instants as RFC 3339 strings only (a bare number is not read as a Unix time); an instant beyond the
  accepted calendar is taken as that calendar's edge, which a filter means anyway;
- text a database can store: a NUL in a parameter is a 400 naming it, never a database error.
"""

import dataclasses
import inspect
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from types import NoneType, UnionType
from typing import Annotated, Any, TypeVar

from litestar.di import Dependency
from litestar.params import BodyKwarg, DependencyKwarg, KwargDefinition, ParameterKwarg

from opscenter.errors import InvalidInput
from opscenter.schemas import EARLIEST, INT_MAX, INT_MIN, LATEST, read_rfc3339, unstorable

F = TypeVar("F", bound=Callable[..., Any])

_EARLIEST_INSTANT = datetime.combine(EARLIEST, datetime.min.time(), tzinfo=UTC)
_LATEST_INSTANT = datetime.combine(LATEST, datetime.max.time(), tzinfo=UTC)


def parse_instant(name: str, text: str) -> datetime:
    """An RFC 3339 instant, aware and in UTC; clamped to the accepted calendar. 400 naming ``name`` otherwise."""
    try:
        local = read_rfc3339(text)
    except ValueError as exc:
        raise InvalidInput(name, f"is not a valid instant: {exc}", parameter=True) from exc
    if local is None:
        raise InvalidInput(name, "must be an RFC 3339 instant, e.g. 2026-11-01T00:00:00Z", parameter=True)
    if local.year < EARLIEST.year:
        return _EARLIEST_INSTANT
    if local.year > LATEST.year:
        return _LATEST_INSTANT
    return local.astimezone(UTC)


def _split(hint: Any) -> tuple[Any, list[Any]]:
    """``Annotated[T, m1, m2]`` → (T, [m1, m2]); anything else → (hint, [])."""
    if typing.get_origin(hint) is Annotated:
        base, *metadata = typing.get_args(hint)
        return base, metadata
    return hint, []


def _is(base: Any, wanted: type) -> tuple[bool, bool]:
    """Whether ``base`` is ``wanted`` or ``wanted | None``, and whether it is optional."""
    if base is wanted:
        return True, False
    if isinstance(base, UnionType) or typing.get_origin(base) is typing.Union:
        members = set(typing.get_args(base))
        if members == {wanted, NoneType}:
            return True, True
    return False, False


def _with(metadata: list[Any], **changes: Any) -> list[Any]:
    """The metadata with its parameter definition given ``changes`` (unless it already sets them)."""
    for index, item in enumerate(metadata):
        if isinstance(item, KwargDefinition):
            wanted = {key: value for key, value in changes.items() if getattr(item, key, None) is None}
            return [*metadata[:index], dataclasses.replace(item, **wanted), *metadata[index + 1 :]]
    return [*metadata, ParameterKwarg(**changes)]


def harden(fn: F) -> F:
    """Rewrite ``fn``'s parameter annotations (see the module doc) and check its text parameters at call time."""
    hints = typing.get_type_hints(fn, include_extras=True)
    signature = inspect.signature(fn)
    instants: set[str] = set()
    texts: set[str] = set()
    rewritten = dict(hints)
    for name, hint in hints.items():
        if name in ("return", "data", "self"):
            continue
        base, metadata = _split(hint)
        if any(isinstance(item, Dependency | DependencyKwarg | BodyKwarg) for item in metadata):
            continue  # a dependency (session, actor, the expected version, …), not a parameter of the request
        is_int, _ = _is(base, int)
        is_instant, optional = _is(base, datetime)
        if _is(base, str)[0]:
            texts.add(name)
        if is_int:
            rewritten[name] = Annotated[(base, *_with(metadata, ge=INT_MIN, le=INT_MAX))]
        elif is_instant:
            instants.add(name)
            text_type = str | None if optional else str
            doc = {"format": "date-time", "description": "An RFC 3339 instant, e.g. 2026-11-01T00:00:00Z"}
            rewritten[name] = Annotated[(text_type, *_with(metadata, **doc))]
    if not instants and not texts and rewritten == hints:
        return fn

    def checked(*args: Any, **kwargs: Any) -> Any:
        for name in texts:
            value = kwargs.get(name)
            if isinstance(value, str) and (character := unstorable(value)) is not None:
                raise InvalidInput(name, f"contains {character}, which cannot be stored", parameter=True)
        for name in instants:
            if isinstance(kwargs.get(name), str):
                kwargs[name] = parse_instant(name, kwargs[name])
        return fn(*args, **kwargs)

    checked.__name__, checked.__qualname__, checked.__module__ = fn.__name__, fn.__qualname__, fn.__module__
    checked.__doc__ = fn.__doc__
    checked.__annotations__ = rewritten
    parameters = [
        parameter.replace(annotation=rewritten.get(parameter.name, parameter.annotation))
        for parameter in signature.parameters.values()
    ]
    checked.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return typing.cast(F, checked)
