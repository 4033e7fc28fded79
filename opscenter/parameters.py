"""Query, path and header parameters made strict for every handler the house decorators register.

Handlers declare plain types (``fiscal_year: FromQuery[int | None]``, ``since: FromQuery[datetime | None]``);
``harden(fn)`` rewrites what Litestar reads of their signature, so that every domain gets, for free:

- integers bounded to what every integer column and SQL parameter holds (PostgreSQL ``integer``), stated
  as ``minimum``/``maximum`` in the OpenAPI document; beyond them a 400 naming the parameter;
- instants as RFC 3339 strings only (a bare number is not read as a Unix time); an instant beyond the
  accepted calendar is taken as that calendar's edge, which a filter means anyway;
- text a database can store: a NUL in a parameter is a 400 naming it, never a database error.

``check_query`` (a ``before_request`` hook) holds every request's query string to what its operation declares:
an unknown parameter, a single-valued one given twice, an enum value outside its enumeration are each a 400
naming the parameter (the enum's allowed values listed with their Chinese labels).
"""

import dataclasses
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import NoneType, UnionType
from typing import Annotated, Any, TypeVar

from litestar import Litestar, Request
from litestar.di import Dependency
from litestar.params import BodyKwarg, DependencyKwarg, KwargDefinition, ParameterKwarg
from litestar.routes import HTTPRoute

from opscenter.errors import FieldError, InvalidInput, InvalidInputs
from opscenter.schemas import EARLIEST, INT_MAX, INT_MIN, LATEST, LabeledEnum, read_rfc3339, unstorable

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

    if inspect.iscoroutinefunction(fn):
        # A coroutine handler stays one (Litestar awaits it): the checks run, then its coroutine is awaited.
        plain_check = checked

        async def checked_coroutine(*args: Any, **kwargs: Any) -> Any:
            return await plain_check(*args, **kwargs)

        checked = checked_coroutine

    checked.__name__, checked.__qualname__, checked.__module__ = fn.__name__, fn.__qualname__, fn.__module__
    checked.__doc__ = fn.__doc__
    checked.__annotations__ = rewritten
    parameters = [
        parameter.replace(annotation=rewritten.get(parameter.name, parameter.annotation))
        for parameter in signature.parameters.values()
    ]
    checked.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return typing.cast(F, checked)


# ---- the query string as a whole -----------------------------------------------------------------------------------

# A handler's ``opt`` key: the ``QueryRules`` its query string is held to (set at startup by ``learn_query_rules``).
QUERY_RULES = "query_rules"

# Parameters people send by habit from other APIs, refused with what to do instead (where the operation takes the
# named replacement): a client still paging by offset would otherwise read page 1 forever.
_INSTEAD = {"offset": ("cursor", "lists page by cursor: pass the previous page's next_cursor")}


@dataclass(frozen=True)
class QueryRules:
    """What an operation's query string may hold: the names it declares (its own and its dependencies', the page's
    ``limit``/``cursor``/``count`` among them), which of them may repeat, and the enumeration each enum one takes."""

    known: frozenset[str]
    repeatable: frozenset[str]
    enums: Mapping[str, type[LabeledEnum]]


def _labeled_enum(annotation: Any) -> type[LabeledEnum] | None:
    """The ``LabeledEnum`` a parameter's type holds (``E``, ``E | None``, ``list[E] | None``), or None."""
    if isinstance(annotation, type) and issubclass(annotation, LabeledEnum):
        return annotation
    for argument in typing.get_args(annotation):
        if (found := _labeled_enum(argument)) is not None:
            return found
    return None


def learn_query_rules(app: Litestar, *, exempt: tuple[str, ...]) -> None:
    """Give every operation (except those under the ``exempt`` path prefixes: the OpenAPI pages, static files)
    the ``QueryRules`` of what its signature declares, read from Litestar's own model of the handler's kwargs."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(exempt):
            continue
        for handler, kwargs_model in route.route_handler_map.values():
            # The handler's own parameters, then its dependencies' (the page's, an asset filter's).
            signatures = [handler.parsed_fn_signature]
            signatures += [provide.parsed_fn_signature for provide in handler.resolve_dependencies().values()]
            enums = {}
            for parameter in kwargs_model.expected_query_params:
                for signature in signatures:
                    field = signature.parameters.get(parameter.field_name)
                    if field is not None and (found := _labeled_enum(field.annotation)) is not None:
                        enums[parameter.field_alias] = found
                        break
            handler.opt[QUERY_RULES] = QueryRules(
                known=frozenset(parameter.field_alias for parameter in kwargs_model.expected_query_params),
                repeatable=frozenset(kwargs_model.sequence_query_parameter_names),
                enums=enums,
            )


async def check_query(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: the query string holds only what the operation declares, each name once unless it
    may repeat, each enum value one of its enumeration. Otherwise a 400 naming every offending parameter; a
    parameter the server ignored silently would answer a question the caller did not ask."""
    rules: QueryRules | None = request.route_handler.opt.get(QUERY_RULES)
    if rules is None:
        return
    errors: list[FieldError] = []
    query = request.query_params
    for name in query:
        values = query.getall(name)
        if name not in rules.known:
            replacement, hint = _INSTEAD.get(name, ("", ""))
            takes = ", ".join(sorted(rules.known)) or "no parameters"
            message = hint if replacement in rules.known else f"is not a parameter of this operation (it takes {takes})"
            errors.append(FieldError(name, message))
        elif len(values) > 1 and name not in rules.repeatable:
            errors.append(FieldError(name, f"is given {len(values)} times; it takes one value"))
        elif (enum := rules.enums.get(name)) is not None:
            for value in values:
                if value not in enum._value2member_map_:
                    errors.append(FieldError(name, f"{value!r} is not one of: {enum.allowed()}"))
                    break
    if errors:
        summary = "; ".join(f"{error.field}: {error.message}" for error in errors)
        raise InvalidInputs(summary, errors, parameters=True)
