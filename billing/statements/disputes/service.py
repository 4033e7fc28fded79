"""Disputes (申诉) as records: raising one on a statement line, settling it, and reading them per statement.

A dispute belongs to a statement's line, but this room never reads statements: the statement's steps
(billing/statements/flows.py) lock the statement, check its state and whether the actor sees the line, then
come here. Who may see a dispute is the statement's rule (``billing.statements.service.get_dispute``).
"""

import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from billing.statements.disputes.models import Dispute, DisputeOutcome, DisputeResolution, DisputeStatus
from opscenter.audit import service as audit
from opscenter.db import core_table
from opscenter.errors import Conflict
from opscenter.identity.actor import Actor
from opscenter.timekeeping import utcnow


def raise_dispute(session: Session, *, statement_id: uuid.UUID, line_no: int, reason: str, actor: Actor) -> Dispute:
    """A new open dispute of the line; one open dispute per line (409 naming it)."""
    existing = session.exec(
        select(Dispute.id).where(
            Dispute.statement_id == statement_id, Dispute.line_no == line_no, Dispute.status == DisputeStatus.OPEN
        )
    ).first()
    if existing is not None:
        raise Conflict(f"Line {line_no} is already disputed: dispute {existing}, not yet resolved.")
    dispute = Dispute(
        statement_id=statement_id,
        line_no=line_no,
        raised_by_org_id=actor.required_organization_id,
        raised_by_id=actor.user_id,
        reason=reason,
    )
    session.add(dispute)
    audit.record_create(session, actor=actor, action="dispute.open", row=dispute)
    session.flush()
    return dispute


def settle(session: Session, dispute: Dispute, data: DisputeResolution, *, actor: Actor) -> None:
    """Record the bureau's decision on an open dispute, audited. The caller has locked it and checked its version
    and state; what the decision does to the line is the statement's business."""
    if data.resolution == DisputeOutcome.MANUAL_AVAILABILITY:
        manual = None if data.availability is None else format(data.availability, "f")
    else:  # a score as the statement line shows it: two decimals, "70.00" beside a mean of "78.00"
        manual = None if data.score is None else f"{data.score}.00"
    with audit.change(session, actor=actor, action="dispute.resolve", row=dispute):
        dispute.status, dispute.resolution, dispute.resolution_reason = (
            DisputeStatus.RESOLVED,
            data.resolution,
            data.reason,
        )
        dispute.manual_value = manual
        dispute.resolved_by_id, dispute.resolved_at = actor.user_id, utcnow()


def of_statements(session: Session, statement_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Dispute]]:
    """Every dispute of each statement, oldest first (one query)."""
    found: dict[uuid.UUID, list[Dispute]] = defaultdict(list)
    if statement_ids:
        query = select(Dispute).where(col(Dispute.statement_id).in_(statement_ids)).order_by(col(Dispute.id))
        for dispute in session.exec(query):
            found[dispute.statement_id].append(dispute)
    return found


def open_lines(session: Session, statement_id: uuid.UUID) -> list[int]:
    """The line numbers of the statement with an open dispute, in order (a line at most once)."""
    disputed = session.exec(
        select(Dispute.line_no)
        .where(Dispute.statement_id == statement_id, Dispute.status == DisputeStatus.OPEN)
        .order_by(col(Dispute.line_no))
    ).all()
    return sorted(set(disputed))


def manual_values(
    session: Session, statement_ids: list[uuid.UUID], *, batch: int
) -> dict[tuple[uuid.UUID, int], dict[str, Any]]:
    """What resolved disputes set by hand, per (statement, line): ``availability``, ``score`` and ``note``, as
    ``billing.statements.lines.override`` takes them. A refreshed draft keeps them."""
    found: dict[tuple[uuid.UUID, int], dict[str, Any]] = {}
    table = core_table(Dispute)
    for start in range(0, len(statement_ids), batch):
        chunk = statement_ids[start : start + batch]
        query = (
            core_select(table.c.statement_id, table.c.line_no, table.c.resolution, table.c.manual_value,
                   table.c.resolution_reason)
            .where(table.c.statement_id.in_(chunk), table.c.status == DisputeStatus.RESOLVED.value)
            .order_by(table.c.id)
        )  # fmt: skip
        for row in session.connection().execute(query):
            manual = found.setdefault((row.statement_id, row.line_no), {})
            if row.resolution == DisputeOutcome.MANUAL_AVAILABILITY.value:
                manual["availability"] = Decimal(row.manual_value)
            elif row.resolution == DisputeOutcome.MANUAL_SCORE.value:
                manual["score"] = Decimal(row.manual_value)
            if row.resolution != DisputeOutcome.ACCEPTED.value:
                manual["note"] = row.resolution_reason
    return found
