"""Shapes every domain shares in its schemas: the strict input base, labeled enums, the list envelope and the
public record.

Every request body model (``XCreate``, ``XUpdate``, ``XIn``, and any model nested in one) derives from
``StrictInput``. That one base gives every domain the house's input rules for free:

- unknown fields are refused (422), each named; a server-owned field (``id``, ``status``, ``version``,
  ``department_id``, …) is named as one the caller cannot write;
- types are strict as JSON means them: ``true`` is not a quantity, ``"7"`` is not an integer, a number is
  not a date;
- text must be storable by both databases alike: no NUL character anywhere, keys of objects included;
- free JSON (an asset's ``spec``) is what every JSON reader, both databases and the audit trail take alike:
  finite numbers only (no NaN or Infinity), objects and arrays nested at most ``MAX_JSON_DEPTH`` deep;
- integers fit a 32-bit column; dates and instants stay inside ``EARLIEST``…``LATEST``, so no computation
  over them can overflow.

Values with a form of their own have one house type each, used by every body that takes one: ``Instant`` (an
RFC 3339 instant with its offset, inside the calendar) and ``PeriodText`` (a month, ``YYYY-MM``). A body model
that declares a bare ``datetime`` is refused when its class is built.

``tests/opscenter/test_strict_input.py`` walks every route and fails on a body model that is not strict.
"""

import math
import re
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from types import NoneType, UnionType
from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    JsonValue,
    PlainSerializer,
    ValidationInfo,
    computed_field,
    field_validator,
)
from pydantic import Field as PydanticField
from pydantic_core import CoreSchema, core_schema
from sqlmodel import Field, SQLModel

from opscenter.timekeeping import PERIOD_PATTERN, Period

T = TypeVar("T")

# The calendar the API accepts: wide enough for any contract, narrow enough that adding a month, a year
# or a time zone to any accepted date never leaves Python's calendar (year 1 … 9999).
EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)
EARLIEST_INSTANT = datetime.combine(EARLIEST, time.min, tzinfo=UTC)
LATEST_INSTANT = datetime.combine(LATEST, time.max, tzinfo=UTC)

# How deep objects and arrays of free JSON may nest: far beyond any real spec sheet, far below a recursion limit.
MAX_JSON_DEPTH = 32

# What every integer column and SQL parameter holds on both databases (PostgreSQL `integer` is 32-bit).
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

# Fields the server sets. Sent in a body where they are not writable, they are named as such.
SERVER_OWNED = frozenset(
    {"id", "version", "status", "created_at", "updated_at", "department_id", "organization_id", "supplier_id"}
)
_SERVER_OWNED_SUFFIXES = ("_by_id", "_label")

# Characters a database cannot store alike: PostgreSQL refuses NUL in text, SQLite keeps it.
_UNSTORABLE = {"\x00": "NUL"}


def unstorable(text: str) -> str | None:
    """The name of the first character of ``text`` that a database cannot store, or None."""
    for character, name in _UNSTORABLE.items():
        if character in text:
            return name
    for character in text:
        if "\ud800" <= character <= "\udfff":
            return "a lone surrogate"
    return None


def check_json(value: Any) -> None:
    """Refuse (ValueError) what a database or a JSON reader would not take alike, anywhere in ``value``: text with
    NUL or a lone surrogate (keys too), a number that is not finite (NaN, Infinity: JSON has none), objects and
    arrays nested deeper than ``MAX_JSON_DEPTH``. Walks without recursion, however deep ``value`` is."""
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    while pending:
        item, where, depth = pending.pop()
        if isinstance(item, str):
            if (name := unstorable(item)) is not None:
                raise ValueError(f"text{where} contains {name}, which cannot be stored")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError(f"number{where} is {item!r}: JSON numbers are finite (no NaN or Infinity)")
        elif isinstance(item, Mapping | list | tuple):
            if depth >= MAX_JSON_DEPTH:
                raise ValueError(f"is nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, Mapping):
                for key, child in item.items():
                    if isinstance(key, str) and (name := unstorable(key)) is not None:
                        raise ValueError(f"text (a key){where} contains {name}, which cannot be stored")
                    pending.append((child, f" at [{key!r}]{where}" if isinstance(key, str) else where, depth + 1))
            else:
                pending.extend((child, f" at [{index}]{where}", depth + 1) for index, child in enumerate(item))


def _in_calendar(value: Any) -> Any:
    """A date inside ``EARLIEST``…``LATEST`` (an instant is an ``Instant``, checked as it was read)."""
    if isinstance(value, date) and not isinstance(value, datetime) and not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


# ---- instants ------------------------------------------------------------------------------------------------------

# RFC 3339 as the API reads it: a date, a time and an offset, every part in its range; years of the calendar.
INSTANT_PATTERN = (
    r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:"
    r"([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_INSTANT = re.compile(INSTANT_PATTERN, re.ASCII)
# Written as an instant but lacking a part: a date alone, or a date and a time without an offset.
_BARE_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)
_NAIVE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$", re.ASCII)
RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)
_INSTANT_YEARS = re.compile(r"19[7-9][0-9]|2[0-9]{3}", re.ASCII)  # the pattern's years, in the offset written
_NEEDS = "an instant needs a date, a time and an offset (Z or ±hh:mm)"
_NO_OFFSET = "has no offset; an offset is required (Z or ±hh:mm), e.g. 2027-01-10T01:00:00+08:00"
INSTANT_RULE = (
    f"An RFC 3339 instant with its offset (Z or ±hh:mm), e.g. 2026-10-15T22:00:00+08:00, from "
    f"{EARLIEST_INSTANT:%Y-%m-%dT%H:%M:%SZ} to {LATEST_INSTANT:%Y-%m-%dT%H:%M:%SZ}"
)


def read_rfc3339(text: str) -> datetime | None:
    """The aware instant ``text`` writes in RFC 3339, in its own offset (not converted to UTC: near the ends of
    Python's calendar that could overflow), or None when ``text`` is not of that form. ValueError when a part is
    out of its range (month 13, an offset of a day or more). A leap second (:60) is the last instant of its minute,
    as Python has no second 60; digits beyond microseconds are dropped."""
    match = RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, offset = match.group(7) or "0", match.group(8)
    if offset in ("Z", "z"):
        zone = UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    return datetime(year, month, day, hour, minute, min(second, 59), int(fraction[:6].ljust(6, "0")), zone)


def _instant(value: object) -> datetime:
    """An ``Instant`` as read from a body: aware, in the calendar, in UTC; ValueError saying what is wrong."""
    if value is None:  # an ``OptionalInstant`` left out (for an ``Instant``, pydantic then refuses the null)
        return None  # type: ignore[return-value]
    if isinstance(value, datetime):  # a model built in Python (a service, the demo): the same rules
        if value.utcoffset() is None:
            raise ValueError(_NO_OFFSET)
        local = value
    elif not isinstance(value, str):
        raise ValueError(f"must be a string, an RFC 3339 instant with its offset, not {_json_type(value)}")
    else:
        try:
            read = read_rfc3339(value)
        except ValueError as exc:
            raise ValueError(f"is not a valid instant: {exc}") from None
        if read is None:
            if _BARE_DATE.fullmatch(value):
                raise ValueError(f"is a date without a time or an offset; {_NEEDS}, e.g. {value}T00:00:00+08:00")
            if _NAIVE.fullmatch(value):
                raise ValueError(_NO_OFFSET)
            raise ValueError(f"must be an RFC 3339 instant; {_NEEDS}, e.g. 2026-10-15T22:00:00+08:00")
        if EARLIEST.year <= read.year <= LATEST.year and not _INSTANT.fullmatch(value):
            raise ValueError(f"is not a valid instant; {_NEEDS}, e.g. 2026-10-15T22:00:00+08:00")
        local = read
    # Compared, not converted: an aware comparison never overflows, a conversion near year 1 or 9999 may.
    if not (EARLIEST_INSTANT <= local <= LATEST_INSTANT and _INSTANT_YEARS.fullmatch(f"{local.year:04d}")):
        raise ValueError(
            f"must be between {EARLIEST_INSTANT:%Y-%m-%dT%H:%M:%SZ} and {LATEST_INSTANT:%Y-%m-%dT%H:%M:%SZ}"
        )
    return local.astimezone(UTC)


_INSTANT_RULE = BeforeValidator(_instant)

Instant = Annotated[
    datetime,
    _INSTANT_RULE,
    PydanticField(description=INSTANT_RULE, json_schema_extra={"pattern": INSTANT_PATTERN}),
]
"""The one type of an instant in a request body: RFC 3339 with its offset (a bare date or a time without an
offset is a 422 saying so), inside the calendar, read as aware UTC. ``StrictInput`` refuses a bare ``datetime``."""

OptionalInstant = Annotated[
    datetime | None,
    _INSTANT_RULE,
    PydanticField(description=INSTANT_RULE, json_schema_extra={"pattern": INSTANT_PATTERN}),
]
"""An ``Instant`` or null (``Instant | None`` would hide the rule from the OpenAPI document)."""


def _bare_datetime(annotation: Any, metadata: Sequence[Any] = ()) -> bool:
    """Whether a field's type admits a ``datetime`` that is not an ``Instant`` (also inside ``| None``, lists …)."""
    if _INSTANT_RULE in metadata:
        return False
    if annotation is datetime:
        return True
    if typing.get_origin(annotation) is Annotated:
        base, *inner = typing.get_args(annotation)
        return _bare_datetime(base, inner)
    return any(_bare_datetime(argument) for argument in typing.get_args(annotation))


# ---- periods -------------------------------------------------------------------------------------------------------


def _period(text: str) -> str:
    Period.parse(text)  # ValueError: "must be a month written YYYY-MM, 1970-01 to 2999-12"
    return text


PeriodText = Annotated[
    str,
    AfterValidator(_period),
    PydanticField(min_length=7, max_length=7, json_schema_extra={"pattern": PERIOD_PATTERN, "examples": ["2026-10"]}),
]
"""The one type of a period in a request body: a month, ``YYYY-MM`` (01–12), 1970-01 to 2999-12."""


def unknown_field_message(name: str) -> str:
    """What a refusal says of a body field the model does not have."""
    if name in SERVER_OWNED or name.endswith(_SERVER_OWNED_SUFFIXES):
        return "is set by the server and cannot be written"
    return "is not a field of this request (misspelt?)"


class StrictInput(SQLModel):
    """The base of every request body model: unknown fields refused, strict JSON types, storable text."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]  # SQLModel's config is a ConfigDict

    # Not pydantic's strict mode: SQLModel validates every input as Python (its own __init__), where strict
    # mode would refuse the JSON string of a date, an id or an enum. Only the lax conversions that mistake
    # one JSON type for another are refused here, by the field's declared type.
    @field_validator("*", mode="before")
    @classmethod
    def _json_types_as_declared(cls, value: Any, info: ValidationInfo) -> Any:
        declared = _declared(cls.model_fields[info.field_name].annotation) if info.field_name else set()
        if declared & {int, float} and isinstance(value, bool | str):
            raise ValueError(f"must be a JSON number, not {_json_type(value)}")
        if int in declared and isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
            raise ValueError(f"must be between {INT_MIN} and {INT_MAX}")
        if bool in declared and not isinstance(value, bool) and value is not None:
            raise ValueError(f"must be true or false, not {_json_type(value)}")
        if declared & {date, datetime} and isinstance(value, int | float):
            raise ValueError(f"must be a string (an ISO date or an RFC 3339 instant), not {_json_type(value)}")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _storable_and_in_calendar(cls, value: Any) -> Any:
        check_json(value)
        return _in_calendar(value)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, field in cls.model_fields.items():
            if _bare_datetime(field.annotation, field.metadata):
                raise TypeError(f"{cls.__name__}.{name}: an instant in a request body is an opscenter.schemas.Instant")


def _declared(annotation: Any) -> set[Any]:
    """The types a field's annotation admits, ``None`` aside: ``int | None`` → {int}."""
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        return {member for member in typing.get_args(annotation) if member is not NoneType}
    return {annotation}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, Mapping) else "an array" if isinstance(value, list) else "null"


def decimal_parser(pattern: str, *, example: str) -> Callable[[object], Decimal]:
    """A before-validator: a decimal written as a string of ASCII digits matching ``pattern``, never a number.

    JSON numbers are refused: a decoder would make floats of them before we could see them.
    """
    compiled = re.compile(pattern)

    def parse(value: object) -> Decimal:
        if isinstance(value, Decimal):
            return value
        if not isinstance(value, str) or compiled.fullmatch(value) is None:
            raise ValueError(f"must be a string of ASCII digits like {example!r}")
        return Decimal(value)

    return parse


def documented_pattern(pattern: str, *, example: str) -> dict[str, JsonValue]:
    """What the OpenAPI document says of a decimal string (Litestar reads ``json_schema_extra``)."""
    return {"pattern": pattern, "examples": [example]}


# Decimals other than money (percentages, coefficients) leave as they came in: plain decimal strings.
DECIMAL_AS_TEXT = PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json")


class LabeledEnum(StrEnum):
    """A lowercase English value with the Chinese label people read beside it.

    ``APPROVED = "approved", "已批准"``: the value is stored and sent; ``.label`` is shown next to it.
    """

    label: str

    def __new__(cls, value: str, label: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        return {member.value: member.label for member in cls}

    @classmethod
    def allowed(cls) -> str:
        """``new (新建), acknowledged (已受理), …``: what an error lists of a value outside the enumeration, in a
        body as in a query parameter."""
        return ", ".join(f"{member.value} ({member.label})" for member in cls)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # Pydantic's own refusal lists the values only; people need the labels they read beside them.
        def member(value: Any) -> Any:
            if isinstance(value, str) and not isinstance(value, cls) and value not in cls._value2member_map_:
                raise ValueError(f"{value!r} is not one of: {cls.allowed()}")
            return value

        return core_schema.no_info_before_validator_function(member, handler(source))


class PublicRecord(SQLModel):
    """The fields every versioned resource answers with: its id, its version (also its ETag) and its times."""

    id: uuid.UUID
    version: int = Field(description='The ETag of the object as it now stands; send it back in If-Match: "3"')
    created_at: datetime
    updated_at: datetime


def label_of(source: str) -> Any:
    """A read-only ``<source>_label`` field: the Chinese label people read beside the enum value in ``source``.

    In a public schema: ``status_label: ClassVar[str] = label_of("status")``. Pydantic serializes it (and the
    OpenAPI shows it) as a read-only string; ``ClassVar`` keeps it out of the fields a caller could send.
    """

    def label(self: Any) -> str | None:
        value = getattr(self, source)
        return None if value is None else value.label

    label.__name__ = f"{source}_label"
    return computed_field(return_type=str, description=f"The Chinese label of `{source}`")(property(label))


def schema_config(*, example: Mapping[str, Any] | None = None, **config: Any) -> Any:
    """A ``model_config`` carrying an OpenAPI example for the model (Litestar reads the key ``example``).

    ``model_config = schema_config(extra="forbid", example={...})``. Typed ``Any`` because neither
    pydantic's ``ConfigDict`` nor SQLModel's config type knows that key.
    """
    if example is not None:
        config["example"] = dict(example)
    return config


__all__ = [
    "DECIMAL_AS_TEXT",
    "EARLIEST",
    "EARLIEST_INSTANT",
    "INSTANT_PATTERN",
    "INSTANT_RULE",
    "INT_MAX",
    "INT_MIN",
    "LATEST",
    "LATEST_INSTANT",
    "MAX_JSON_DEPTH",
    "SERVER_OWNED",
    "Instant",
    "LabeledEnum",
    "OptionalInstant",
    "PeriodText",
    "PublicRecord",
    "StrictInput",
    "check_json",
    "decimal_parser",
    "documented_pattern",
    "label_of",
    "read_rfc3339",
    "schema_config",
    "unknown_field_message",
    "unstorable",
]
