"""Shapes every domain shares in its public schemas: labeled enums, the one list envelope, the public record."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, computed_field
from sqlmodel import Field, SQLModel

T = TypeVar("T")


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


class Page(BaseModel, Generic[T]):
    """The list envelope of every list endpoint."""

    model_config = ConfigDict(frozen=True)

    items: list[T]
    total: int
    limit: int
    offset: int


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
