"""The outbox: ``emit`` writes what happened in the transaction of the change that caused it.

Domains call it from their flows, after ``audit.change``: ``notifications.emit(session, kind=…, subject=ticket,
department_ids=[ticket.department_id], title=…, actor=actor)``. The core never imports a domain; the domain says
which departments the object belongs to and what a receiver may see of it (``payload``: identifiers and labels).
Nothing is sent here: the worker (``opscenter/notifications/dispatch.py``) reads committed events, so a change
that rolls back sends nothing and a slow receiver never slows the request.
"""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from sqlalchemy import insert, inspect
from sqlmodel import Session, SQLModel, select

from opscenter.db import core_table, new_id
from opscenter.identity.actor import Actor
from opscenter.notifications.models import NotificationEvent, NotificationKind
from opscenter.settings import get_settings
from opscenter.timekeeping import utcnow


class Subject(NamedTuple):
    """What an event is about when it is no row (a job's finding: a year, a day of the SLA pull)."""

    object_type: str
    object_id: str


def emit(
    session: Session,
    *,
    kind: NotificationKind,
    subject: SQLModel | Subject,
    title: str,
    body: str = "",
    department_ids: Iterable[uuid.UUID | None] = (),
    payload: Mapping[str, Any] | None = None,
    actor: Actor,
    dedupe_key: str | None = None,
) -> uuid.UUID | None:
    """Write one event about ``subject`` (a row with an id) in the session's transaction; returns its id.

    With ``dedupe_key`` (jobs that find the same thing every run) an event already written under that key is not
    written again, and None is returned.
    """
    if not get_settings().notifications_emit:
        return None
    if (
        dedupe_key is not None
        and session.exec(select(NotificationEvent.id).where(NotificationEvent.dedupe_key == dedupe_key)).first()
    ):
        return None
    event_id = new_id()
    # A Core INSERT, not an ORM object: the step that emits pays one prepared statement, not a unit of work.
    session.execute(
        _INSERT,
        {
            "id": event_id,
            "kind": kind,
            "object_type": subject.object_type if isinstance(subject, Subject) else _table_of(subject),
            "object_id": subject.object_id if isinstance(subject, Subject) else _id_of(subject),
            "dedupe_key": dedupe_key,
            "title": title[:200],
            "body": (body or title)[:2000],
            "department_ids": sorted({str(department) for department in department_ids if department is not None}),
            "payload": {key: _plain(value) for key, value in (payload or {}).items()},
            "actor_name": actor.user_name[:200],
            "created_at": utcnow(),
            "fanned_out_at": None,
        },
    )
    return event_id


_INSERT = insert(core_table(NotificationEvent))


def _table_of(row: SQLModel) -> str:
    return str(inspect(type(row)).local_table.name)


def _id_of(row: SQLModel) -> str:
    object_id = getattr(row, "id", None)
    if object_id is None:
        raise ValueError(f"{type(row).__name__} has no id yet; emit after the id is assigned")
    return str(object_id)


def _plain(value: Any) -> Any:
    """JSON-ready: ids and enums as their text."""
    if isinstance(value, str | int | float | bool) or value is None:
        return str(value) if isinstance(value, str) else value
    return str(value)
