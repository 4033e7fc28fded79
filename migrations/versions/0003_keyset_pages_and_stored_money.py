"""Keyset pages and money computed once: (filter, id) indexes for every list, stored estimates and line
values (backfilled), and the table that keeps the cursor-signing key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 16:55:41.845898
"""

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _prorated_fen(quantity: int, unit_price_fen: int, start: date, end: date) -> int:
    """contracts/pricing.py as of this revision (a migration must not follow later code): for each month
    touched by [start, end], round(quantity × monthly price × active days / days in month) half up to the
    fen, summed."""
    total, first = Decimal(0), start.replace(day=1)
    while first <= end:
        days = calendar.monthrange(first.year, first.month)[1]
        last = first.replace(day=days)
        active = (min(end, last) - max(start, first)).days + 1
        monthly = Decimal(quantity) * (Decimal(unit_price_fen) / 100) * active / days
        total += monthly.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        first = last + timedelta(days=1)
    return int(total * 100)


def _backfill(table: str, column: str) -> None:
    rows = sa.table(
        table,
        sa.column("id", sa.Uuid()),
        sa.column("quantity", sa.Integer()),
        sa.column("unit_price_fen", sa.BigInteger()),
        sa.column("start_date", sa.Date()),
        sa.column("end_date", sa.Date()),
        sa.column(column, sa.BigInteger()),
    )
    connection = op.get_bind()
    found = connection.execute(
        sa.select(rows.c.id, rows.c.quantity, rows.c.unit_price_fen, rows.c.start_date, rows.c.end_date)
    ).all()
    for row_id, quantity, unit_price_fen, start, end in found:
        value = _prorated_fen(quantity, unit_price_fen, start, end)
        connection.execute(rows.update().where(rows.c.id == row_id).values({column: value}))


def upgrade() -> None:
    op.create_table(
        "cursor_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cursor_key")),
    )
    for table, column in (("purchase_item", "estimated_amount_fen"), ("contract_line", "total_value_fen")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.BigInteger(), nullable=True))
        _backfill(table, column)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.BigInteger(), nullable=False)

    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_user_id"))
        batch_op.create_index("ix_api_key_user_id_id", ["user_id", "id"], unique=False)

    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_status"))
        batch_op.create_index("ix_contract_status_id", ["status", "id"], unique=False)

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_organization_id"))
        batch_op.create_index("ix_notification_organization_id_id", ["organization_id", "id"], unique=False)

    with op.batch_alter_table("purchase_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_request_department_id"))
        batch_op.drop_index(batch_op.f("ix_purchase_request_status"))
        batch_op.create_index("ix_purchase_request_department_id_id", ["department_id", "id"], unique=False)
        batch_op.create_index(
            "ix_purchase_request_department_id_status_id", ["department_id", "status", "id"], unique=False
        )
        batch_op.create_index("ix_purchase_request_status_id", ["status", "id"], unique=False)

    with op.batch_alter_table("service_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_instance_department_id"))
        batch_op.create_index("ix_service_instance_department_id_id", ["department_id", "id"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_organization_id"))
        batch_op.create_index("ix_user_organization_id_id", ["organization_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index("ix_user_organization_id_id")
        batch_op.create_index(batch_op.f("ix_user_organization_id"), ["organization_id"], unique=False)

    with op.batch_alter_table("service_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_service_instance_department_id_id")
        batch_op.create_index(batch_op.f("ix_service_instance_department_id"), ["department_id"], unique=False)

    with op.batch_alter_table("purchase_request", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_request_status_id")
        batch_op.drop_index("ix_purchase_request_department_id_status_id")
        batch_op.drop_index("ix_purchase_request_department_id_id")
        batch_op.create_index(batch_op.f("ix_purchase_request_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchase_request_department_id"), ["department_id"], unique=False)

    with op.batch_alter_table("purchase_item", schema=None) as batch_op:
        batch_op.drop_column("estimated_amount_fen")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_organization_id_id")
        batch_op.create_index(batch_op.f("ix_notification_organization_id"), ["organization_id"], unique=False)

    with op.batch_alter_table("contract_line", schema=None) as batch_op:
        batch_op.drop_column("total_value_fen")

    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_index("ix_contract_status_id")
        batch_op.create_index(batch_op.f("ix_contract_status"), ["status"], unique=False)

    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index("ix_api_key_user_id_id")
        batch_op.create_index(batch_op.f("ix_api_key_user_id"), ["user_id"], unique=False)

    op.drop_table("cursor_key")
