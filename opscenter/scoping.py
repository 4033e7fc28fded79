"""The one way a service reads an object for an actor: the row the actor may see, locked when asked, else 404.

Each service keeps its own rule of who sees what, ``_scoped(query, actor)``, used by its get and its list alike
(``contracts/purchasing/service.py``); ``get_visible`` applies that rule to one id. Another department's row
answers exactly as a missing one: the same ``NotFound``, the same body.
"""

import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from opscenter.db import Identified
from opscenter.errors import NotFound

Row = TypeVar("Row", bound=Identified)
Who = TypeVar("Who")  # the acting identity, as the scope takes it (the core's Actor)


def get_visible(
    session: Session,
    model: type[Row],
    row_id: uuid.UUID,
    *,
    actor: Who,
    scope: Callable[[SelectOfScalar[Row], Who], SelectOfScalar[Row]],
    noun: str,
    for_update: bool = False,
) -> Row:
    """The ``model`` row ``row_id`` if ``scope`` lets ``actor`` see it, else ``NotFound(noun)``. ``scope`` is the
    service's ``_scoped(query, actor)``: ``query`` narrowed to the rows ``actor`` may see.

    ``for_update`` locks the row (``SELECT … FOR UPDATE``; SQLite serializes writers anyway) before a step decides
    on it: a second step racing it waits, then finds the new version (412) or state (409). The locked read
    replaces whatever this session read of the row before, so the step decides on the row as the lock holds it.
    """
    query = scope(select(model).where(col(model.id) == row_id), actor)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.exec(query).first()
    if row is None:
        raise NotFound(noun)
    return row
