"""The business calendar: an admin's overrides of the official schedule, one per Asia/Shanghai date, and the
working hours (one row at most; without it, 09:00–18:00).

Revision ID: 0010
Revises: 0009 (0009, the SLA tables, landed after this was written; the chain stays one line)
Create Date: 2026-11-27 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_override",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_working", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("set_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["set_by_id"], ["user.id"], name=op.f("fk_calendar_override_set_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_override")),
        sa.UniqueConstraint("day", name=op.f("uq_calendar_override_day")),
    )
    op.create_table(
        "calendar_hours",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("set_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["set_by_id"], ["user.id"], name=op.f("fk_calendar_hours_set_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_hours")),
        sa.UniqueConstraint("scope", name=op.f("uq_calendar_hours_scope")),
    )


def downgrade() -> None:
    op.drop_table("calendar_hours")
    op.drop_table("calendar_override")
