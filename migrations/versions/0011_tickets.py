"""Tickets under SLA clocks (operations/tickets): tickets, their linked assets, comments and internal notes.

On PostgreSQL, the sequence that numbers tickets (T-2026-000123).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 20:19:48.633426
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("ticket_serial")))
    op.create_table(
        "ticket",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "incident", "service_request", "change", "complaint", name="ticketkind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "priority", sa.Enum("P1", "P2", "P3", "P4", name="priority", native_enum=False, length=32), nullable=False
        ),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("service_instance_id", sa.Uuid(), nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "acknowledged",
                "in_progress",
                "pending_customer",
                "resolved",
                "closed",
                name="ticketstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("opened_by_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("clock", sa.Enum("24x7", "business", name="clock", native_enum=False, length=32), nullable=False),
        sa.Column("response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("response_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalation_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_close_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_question", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("resolution_note", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("reopen_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("satisfaction_score", sa.Integer(), nullable=True),
        sa.Column("satisfaction_comment", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("satisfaction_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["assignee_id"], ["user.id"], name=op.f("fk_ticket_assignee_id_user")),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"], name=op.f("fk_ticket_contract_id_contract")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["organization.id"], name=op.f("fk_ticket_department_id_organization")
        ),
        sa.ForeignKeyConstraint(["opened_by_id"], ["user.id"], name=op.f("fk_ticket_opened_by_id_user")),
        sa.ForeignKeyConstraint(
            ["service_instance_id"],
            ["service_instance.id"],
            name=op.f("fk_ticket_service_instance_id_service_instance"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket")),
        sa.UniqueConstraint("number", name=op.f("uq_ticket_number")),
        sa.UniqueConstraint("serial", name=op.f("uq_ticket_serial")),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index("ix_ticket_department_id_id", ["department_id", "id"], unique=False)
        batch_op.create_index(
            "ix_ticket_department_id_resolution_due_at_id", ["department_id", "resolution_due_at", "id"], unique=False
        )
        batch_op.create_index("ix_ticket_resolution_due_at_id", ["resolution_due_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_service_instance_id"), ["service_instance_id"], unique=False)
        batch_op.create_index("ix_ticket_status_auto_close_at", ["status", "auto_close_at"], unique=False)
        batch_op.create_index(
            "ix_ticket_escalated_at_status_due", ["escalated_at", "status", "escalation_due_at"], unique=False
        )
        batch_op.create_index("ix_ticket_status_id", ["status", "id"], unique=False)
        batch_op.create_index(
            "ix_ticket_resolution_breached_at_status_due",
            ["resolution_breached_at", "status", "resolution_due_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_ticket_response_breached_at_status_due",
            ["response_breached_at", "status", "response_due_at"],
            unique=False,
        )

    op.create_table(
        "ticket_asset",
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_ticket_asset_asset_id_asset")),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_asset_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("ticket_id", "asset_id", name=op.f("pk_ticket_asset")),
    )
    with op.batch_alter_table("ticket_asset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_asset_asset_id"), ["asset_id"], unique=False)

    op.create_table(
        "ticket_comment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], name=op.f("fk_ticket_comment_author_id_user")),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_comment_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_comment")),
    )
    with op.batch_alter_table("ticket_comment", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_comment_ticket_id_id", ["ticket_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_comment_ticket_id_id")

    op.drop_table("ticket_comment")
    with op.batch_alter_table("ticket_asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_asset_asset_id"))

    op.drop_table("ticket_asset")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_response_breached_at_status_due")
        batch_op.drop_index("ix_ticket_resolution_breached_at_status_due")
        batch_op.drop_index("ix_ticket_status_id")
        batch_op.drop_index("ix_ticket_escalated_at_status_due")
        batch_op.drop_index("ix_ticket_status_auto_close_at")
        batch_op.drop_index(batch_op.f("ix_ticket_service_instance_id"))
        batch_op.drop_index("ix_ticket_resolution_due_at_id")
        batch_op.drop_index("ix_ticket_department_id_resolution_due_at_id")
        batch_op.drop_index("ix_ticket_department_id_id")
        batch_op.drop_index(batch_op.f("ix_ticket_assignee_id"))

    op.drop_table("ticket")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("ticket_serial")))
