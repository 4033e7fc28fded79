"""List filters that may repeat: ``?status=new&status=acknowledged`` keeps the rows in either state."""

from collections.abc import Iterable
from enum import Enum
from typing import Any, TypeVar

from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

E = TypeVar("E", bound=Enum)
R = TypeVar("R")


def any_of(query: SelectOfScalar[R], column: Any, chosen: E | Iterable[E] | None) -> SelectOfScalar[R]:
    """``query`` keeping the rows whose ``column`` is one of ``chosen`` (OR); all rows when nothing is chosen.

    ``chosen`` is what a repeatable filter parameter gives (``AnyOf[E]``: a list, or None), or one value when a
    flow asks for a single state.
    """
    if chosen is None:
        return query
    values = [chosen] if isinstance(chosen, Enum) else list(dict.fromkeys(chosen))
    if not values:
        return query
    if len(values) == 1:  # the plan of a single-valued filter, as before the filter could repeat
        return query.where(col(column) == values[0])
    return query.where(col(column).in_(values))
