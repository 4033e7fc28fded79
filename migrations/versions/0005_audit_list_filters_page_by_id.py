"""Audit list filters page by id: each filter's index ends with the id the list orders by, so a page of a
filtered audit list is one index range however long the trail.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 19:28:39.274792
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))
        batch_op.create_index("ix_audit_event_action", ["action", "id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_audit_event_object"))
        batch_op.create_index("ix_audit_event_object", ["object_type", "object_id", "id"], unique=False)
        batch_op.create_index("ix_audit_event_actor", ["actor_user_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_actor")
        batch_op.drop_index("ix_audit_event_object")
        batch_op.create_index(batch_op.f("ix_audit_event_object"), ["object_type", "object_id"], unique=False)
        batch_op.drop_index("ix_audit_event_action")
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_actor_user_id"), ["actor_user_id"], unique=False)
