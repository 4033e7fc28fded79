"""Scheduler: each job's last successful run, so a new leader runs once what was missed while none led.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 17:05:01.061362
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("job_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_run")),
    )


def downgrade() -> None:
    op.drop_table("job_run")
