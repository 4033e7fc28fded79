"""Shapes every domain shares in its public schemas: labeled enums and the one list envelope."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict

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


def schema_config(*, example: Mapping[str, Any] | None = None, **config: Any) -> Any:
    """A ``model_config`` carrying an OpenAPI example for the model (Litestar reads the key ``example``).

    ``model_config = schema_config(extra="forbid", example={...})``. Typed ``Any`` because neither
    pydantic's ``ConfigDict`` nor SQLModel's config type knows that key.
    """
    if example is not None:
        config["example"] = dict(example)
    return config
