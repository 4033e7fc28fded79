"""Statements stay true: a credit note moves an approved statement's version (its ETag) on, and ratings find the
open statements billing their instance by an index.

On PostgreSQL an approved (or paid) statement still never changes, except for recording its payment and now a new
version alone (with ``updated_at``), which is what posting a credit note writes.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-05 23:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_statement_line_service_instance_id"

FROZEN_BUT_VERSIONED = """
CREATE OR REPLACE FUNCTION opscenter_statement_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payment CONSTANT text[] := ARRAY['status', 'paid_on', 'payment_reference', 'paid_at', 'paid_by_id', 'version',
                                     'updated_at'];
    bookkeeping CONSTANT text[] := ARRAY['version', 'updated_at'];
BEGIN
    IF OLD.status IN ('approved', 'paid') THEN
        IF TG_OP = 'UPDATE' AND OLD.status = 'approved' AND NEW.status = 'paid'
           AND (to_jsonb(NEW) - payment) = (to_jsonb(OLD) - payment) THEN
            RETURN NEW;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.version > OLD.version
           AND (to_jsonb(NEW) - bookkeeping) = (to_jsonb(OLD) - bookkeeping) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'statement % is %: an approved statement never changes (post a credit note)', OLD.id,
            OLD.status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
"""

FROZEN = """
CREATE OR REPLACE FUNCTION opscenter_statement_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payment CONSTANT text[] := ARRAY['status', 'paid_on', 'payment_reference', 'paid_at', 'paid_by_id', 'version',
                                     'updated_at'];
BEGIN
    IF OLD.status IN ('approved', 'paid') THEN
        IF TG_OP = 'UPDATE' AND OLD.status = 'approved' AND NEW.status = 'paid'
           AND (to_jsonb(NEW) - payment) = (to_jsonb(OLD) - payment) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'statement % is %: an approved statement never changes (post a credit note)', OLD.id,
            OLD.status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
"""


def upgrade() -> None:
    with op.batch_alter_table("statement_line", schema=None) as batch_op:
        batch_op.create_index(INDEX, ["service_instance_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FROZEN_BUT_VERSIONED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FROZEN)
    with op.batch_alter_table("statement_line", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
