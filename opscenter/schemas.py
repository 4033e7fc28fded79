"""Shapes every domain shares in its schemas: the strict input base, labeled enums, the list envelope and the
public record.

Every request body model (``XCreate``, ``XUpdate``, ``XIn``, and any model nested in one) derives from
``StrictInput``. That one base gives every domain the house's input rules for free:

- unknown fields are refused (422), each named; a server-owned field (``id``, ``status``, ``version``,
  ``department_id``, …) is named as one the caller cannot write;
- types are strict as JSON means them: ``true`` is not a quantity, ``"7"`` is not an integer, a number is
  not a date;
- text must be storable by both databases alike: no NUL character anywhere, keys of objects included;
- integers fit a 32-bit column; dates and instants stay inside ``EARLIEST``…``LATEST``, so no computation
  over them can overflow.

``tests/opscenter/test_strict_input.py`` walks every route and fails on a body model that is not strict.
"""

import re
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from types import NoneType, UnionType
from typing import Any, Self, TypeVar

from pydantic import (
    ConfigDict,
    JsonValue,
    PlainSerializer,
    ValidationInfo,
    computed_field,
    field_validator,
)
from sqlmodel import Field, SQLModel

T = TypeVar("T")

# The calendar the API accepts: wide enough for any contract, narrow enough that adding a month, a year
# or a time zone to any accepted date never leaves Python's calendar (year 1 … 9999).
EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)

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


def _storable(value: Any, where: str = "") -> None:
    if isinstance(value, str):
        if (name := unstorable(value)) is not None:
            raise ValueError(f"text{where} contains {name}, which cannot be stored")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _storable(key, f" (a key){where}")
            _storable(item, f" at [{key!r}]{where}" if isinstance(key, str) else where)
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        for index, item in enumerate(value):
            _storable(item, f" at [{index}]{where}")


def _in_calendar(value: Any) -> Any:
    day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
    if isinstance(day, date) and not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


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
        _storable(value)
        return _in_calendar(value)


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
    "INT_MAX",
    "INT_MIN",
    "LATEST",
    "SERVER_OWNED",
    "LabeledEnum",
    "PublicRecord",
    "StrictInput",
    "decimal_parser",
    "documented_pattern",
    "label_of",
    "schema_config",
    "unknown_field_message",
    "unstorable",
]
