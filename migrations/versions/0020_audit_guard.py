"""The audit trail records who asked and with what, and its head is signed outside the database (issue 24).

audit_event gains the client address and the credential that acted (kind and id, never the secret); audit_seal
gains the hash recipe that sealed it (1 for every seal before this revision, whose hashes do not cover the new
columns; from now on the sequencer seals a request's event with recipe 2, which does); audit_checkpoint keeps the
signed heads.
Adding a column fires no row trigger, so the append-only guards of PostgreSQL stay as they are.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-05 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0020"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.add_column("audit_event", sa.Column("client_address", text(length=64), nullable=True))
    op.add_column("audit_event", sa.Column("credential_kind", text(length=16), nullable=True))
    op.add_column("audit_event", sa.Column("credential_id", text(length=64), nullable=True))
    op.add_column("audit_seal", sa.Column("recipe", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", text(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", text(length=64), nullable=False),
        sa.Column("signature", text(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
    )
    op.create_index(op.f("ix_audit_checkpoint_seq"), "audit_checkpoint", ["seq"], unique=False)


def downgrade() -> None:
    # Refused rather than lossy: a recipe-2 seal covers the columns dropped here, and would never verify again.
    bind = op.get_bind()
    waiting = bind.execute(sa.text("SELECT count(*) FROM audit_queue")).scalar_one()
    if waiting:
        raise RuntimeError(
            f"{waiting} audit event(s) are not sealed yet: run `opscenter audit seal`, then downgrade again"
        )
    covered = bind.execute(sa.text("SELECT count(*) FROM audit_seal WHERE recipe > 1")).scalar_one()
    if covered:
        raise RuntimeError(
            f"{covered} sealed audit event(s) name a client address or credential in their hash: dropping those "
            "columns would break the chain; restore a backup taken before revision 0020 instead"
        )
    op.drop_index(op.f("ix_audit_checkpoint_seq"), table_name="audit_checkpoint")
    op.drop_table("audit_checkpoint")
    # Plain DROP COLUMN (SQLite 3.35+): a batch would rebuild audit_event, which audit_seal's rows refer to.
    op.drop_column("audit_seal", "recipe")
    for column in ("credential_id", "credential_kind", "client_address"):
        op.drop_column("audit_event", column)
