"""Claiming an Idempotency-Key, remembering the answer, replaying it, and forgetting old keys."""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, col, select

from opscenter.db import core_table, insert_or_skip, new_id
from opscenter.errors import Conflict, InvalidInput
from opscenter.idempotency.models import IdempotencyRecord
from opscenter.timekeeping import utcnow

# Keys are honoured at least this long; the purge job forgets them after it.
RETENTION = timedelta(hours=24)
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as stored: what a replay sends back, byte for byte."""

    status_code: int
    body: bytes
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """The key is ours: this request runs, then ``remember`` stores its answer under ``record_id``."""

    record_id: uuid.UUID


def fingerprint(method: str, path: str, query: dict[str, list[str]], body: Any) -> str:
    """What makes two requests "the same": method, path, query and the body as validated (JSON-ready).

    Field order, whitespace and optional fields left at their defaults do not count.
    """
    canonical = json.dumps([method, path, query, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(
    session: Session,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID | None,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
) -> Claim | Answer:
    """Claim ``key`` for this request, or get the answer its first request got.

    Inserts the key with ON CONFLICT DO NOTHING: under a race the insert waits on the unique
    ``(organization_id, key)`` until the transaction holding it ends, so the loser sees the winner's
    committed answer, or claims the key itself when the winner rolled back. 422 when the key was
    used for another request.
    """
    values = {
        "id": new_id(),
        "organization_id": organization_id,
        "key": key,
        "user_id": user_id,
        "method": method,
        "path": path,
        "fingerprint": fingerprint,
        "response_headers": {},
        "response_body": "",
        "media_type": "application/json",
        "created_at": utcnow(),
    }
    for _ in range(2):  # a second round only if the purge job removed the key between the two statements
        claimed = insert_or_skip(session, IdempotencyRecord, values, unique=("organization_id", "key"))
        if claimed is not None:
            return Claim(record_id=claimed)
        earlier = session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.organization_id == organization_id, IdempotencyRecord.key == key
            )
        ).first()
        if earlier is not None:
            return _replay(earlier, fingerprint)
    raise Conflict(f"The {HEADER} could not be claimed; retry the request.")


def _replay(earlier: IdempotencyRecord, fingerprint: str) -> Answer:
    if earlier.fingerprint != fingerprint:
        raise InvalidInput(
            HEADER,
            f"this key was used for another request ({earlier.method} {earlier.path} with another body); "
            "use a new key for a new request",
        )
    if earlier.status_code is None:  # only visible if its request committed without an answer: never by design
        raise Conflict(f"The request with this {HEADER} has not finished; retry shortly.")
    return Answer(
        status_code=earlier.status_code,
        body=earlier.response_body.encode(),
        media_type=earlier.media_type,
        headers={str(name): str(value) for name, value in earlier.response_headers.items()},
    )


def remember(session: Session, claim: Claim, answer: Answer) -> None:
    """Store the answer of the request that claimed the key, in that request's transaction."""
    session.connection().execute(
        _REMEMBER,
        {
            "record_id": claim.record_id,
            "status_code": answer.status_code,
            "media_type": answer.media_type,
            "response_headers": dict(answer.headers),
            "response_body": answer.body.decode(),
        },
    )


# Built once, executed with parameters on the session's connection (cheaper than building the statement per
# request, and than the ORM's bulk update, which would also look for the row among the session's objects).
_RECORDS = core_table(IdempotencyRecord)
_REMEMBER = (
    update(_RECORDS)
    .where(_RECORDS.c.id == bindparam("record_id"))
    .values(
        status_code=bindparam("status_code"),
        media_type=bindparam("media_type"),
        response_headers=bindparam("response_headers"),
        response_body=bindparam("response_body"),
    )
)


def purge_expired(session: Session, *, now: datetime | None = None, limit: int | None = None) -> int:
    """Forget keys older than ``RETENTION`` (the oldest ``limit`` of them, when given); returns how many. Safe to
    run twice, or from two workers."""
    expired = col(IdempotencyRecord.created_at) < (now or utcnow()) - RETENTION
    if limit is not None:
        oldest = select(IdempotencyRecord.id).where(expired).order_by(col(IdempotencyRecord.created_at)).limit(limit)
        expired = col(IdempotencyRecord.id).in_(oldest.scalar_subquery())
    result = session.execute(delete(IdempotencyRecord).where(expired))
    return int(getattr(result, "rowcount", 0) or 0)
