"""The audit trail stops serializing writers: events are queued unchained and sealed by a sequencer.

Each event's link in the chain (seq, prev_hash, hash) moves from audit_event into the new insert-only
audit_seal table, unchanged, so a trail written before this revision verifies after it; audit_queue
lists the events still to seal (none, right after the upgrade). audit_chain_head stays as it was.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-27 16:47:49.199341
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# PostgreSQL: seals are insert-only like events; a queue entry may leave only once its event is sealed.
AUDIT_SEAL_GUARDS = """
CREATE FUNCTION opscenter_audit_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE ON audit_seal
    FOR EACH ROW EXECUTE FUNCTION opscenter_audit_insert_only();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal
    FOR EACH STATEMENT EXECUTE FUNCTION opscenter_audit_insert_only();

CREATE FUNCTION opscenter_audit_queue_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM audit_seal WHERE event_id = OLD.event_id) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_queue: % refused: an event leaves the queue only once it is sealed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_queue_leaves_when_sealed BEFORE UPDATE OR DELETE ON audit_queue
    FOR EACH ROW EXECUTE FUNCTION opscenter_audit_queue_guard();
CREATE TRIGGER audit_queue_no_truncate BEFORE TRUNCATE ON audit_queue
    FOR EACH STATEMENT EXECUTE FUNCTION opscenter_audit_queue_guard();
"""

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _links_table() -> None:
    """A scratch copy of every link: SQLite rebuilds audit_event to change its columns, which it cannot do
    while other tables' rows reference it."""
    op.create_table(
        "_audit_links",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    )


def upgrade() -> None:
    _links_table()
    op.execute(
        "INSERT INTO _audit_links (event_id, seq, prev_hash, hash) SELECT id, seq, prev_hash, hash FROM audit_event"
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_seq"), type_="unique")
        batch_op.drop_column("seq")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")

    op.create_table(
        "audit_queue",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["audit_event.id"], name=op.f("fk_audit_queue_event_id_audit_event")),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_queue")),
    )
    op.create_table(
        "audit_seal",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["audit_event.id"], name=op.f("fk_audit_seal_event_id_audit_event")),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_seal")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_seal_seq")),
    )
    op.execute(
        "INSERT INTO audit_seal (event_id, seq, prev_hash, hash) SELECT event_id, seq, prev_hash, hash FROM _audit_links"
    )
    op.drop_table("_audit_links")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_SEAL_GUARDS)


def downgrade() -> None:
    bind = op.get_bind()
    waiting = bind.execute(sa.text("SELECT count(*) FROM audit_queue")).scalar_one()
    if waiting:
        raise RuntimeError(
            f"{waiting} audit event(s) are not sealed yet: run `opscenter audit seal`, then downgrade again"
        )
    postgresql = bind.dialect.name == "postgresql"
    _links_table()
    op.execute(
        "INSERT INTO _audit_links (event_id, seq, prev_hash, hash) SELECT event_id, seq, prev_hash, hash FROM audit_seal"
    )
    op.drop_table("audit_seal")
    op.drop_table("audit_queue")
    if postgresql:
        op.execute("DROP FUNCTION opscenter_audit_queue_guard()")
        op.execute("DROP FUNCTION opscenter_audit_insert_only()")

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    if postgresql:  # the one sanctioned rewrite of the trail: putting its links back where they were
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    op.execute(
        "UPDATE audit_event SET"
        " seq = (SELECT l.seq FROM _audit_links l WHERE l.event_id = audit_event.id),"
        " prev_hash = (SELECT l.prev_hash FROM _audit_links l WHERE l.event_id = audit_event.id),"
        " hash = (SELECT l.hash FROM _audit_links l WHERE l.event_id = audit_event.id)"
    )
    if postgresql:
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_seq"), ["seq"])
    op.drop_table("_audit_links")
