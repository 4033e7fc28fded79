"""People log in to the console: their password hashes, their sessions (server-side, so every API process knows
them and each can be revoked), and the failed-login counters that throttle and lock out guessing.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "user_password",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("password_hash", TEXT(length=255), nullable=False),
        sa.Column("must_change", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_user_password_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_password")),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_password_user_id")),
    )
    op.create_table(
        "console_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", TEXT(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address", TEXT(length=64), nullable=False),
        sa.Column("user_agent", TEXT(length=200), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_console_session_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_session_token_hash")),
    )
    op.create_index("ix_console_session_user_id_id", "console_session", ["user_id", "id"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope", TEXT(length=16), nullable=False),
        sa.Column("subject", TEXT(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttle")),
    )
    op.create_index("uq_login_throttle_scope_subject", "login_throttle", ["scope", "subject"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_login_throttle_scope_subject", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_console_session_user_id_id", table_name="console_session")
    op.drop_table("console_session")
    op.drop_table("user_password")
