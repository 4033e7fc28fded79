"""Notifications: the outbox (events written with the change that caused them), notifications addressed to one
person (``user_id``) that they mark read, organizations' and people's preferences, webhook subscriptions, and one
delivery per event, channel and receiver with a log row per attempt.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 23:42:29.114001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "contract_expiry",
                "ticket_opened",
                "ticket_acknowledged",
                "ticket_pending_customer",
                "ticket_resolved",
                "ticket_breached",
                "ticket_escalated",
                "purchase_submitted",
                "purchase_approved",
                "purchase_rejected",
                "purchase_returned",
                "contract_awaiting_approval",
                "amendment_awaiting_approval",
                "maintenance_proposed",
                "maintenance_approved",
                "maintenance_rejected",
                "handover_submitted",
                "handover_inspected",
                "handover_awaiting_signature",
                "handover_completed",
                "statement_issued",
                "statement_disputed",
                "dispute_resolved",
                "statement_approved",
                "statement_paid",
                "rating_period_closing",
                "sla_pull_failing",
                "calendar_unknown",
                "webhook_test",
                name="notificationkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("department_ids", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fanned_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_event")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_event_dedupe_key")),
    )
    with op.batch_alter_table("notification_event", schema=None) as batch_op:
        batch_op.create_index("ix_notification_event_pending", ["fanned_out_at", "id"], unique=False)

    op.create_table(
        "notification_preference",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("muted_kinds", sa.JSON(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("wecom_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("dingtalk_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("dingtalk_secret_encrypted", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_notification_preference_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_notification_preference_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preference")),
        sa.UniqueConstraint("scope", name=op.f("uq_notification_preference_scope")),
    )
    with op.batch_alter_table("notification_preference", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_preference_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "webhook_subscription",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("secret_encrypted", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_webhook_subscription_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organization.id"], name=op.f("fk_webhook_subscription_organization_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_subscription_organization_id_id", ["organization_id", "id"], unique=False)

    op.create_table(
        "notification_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("email", "wecom", "dingtalk", "webhook", name="channel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "delivered", "dead", "dropped", name="deliverystatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["notification_event.id"], name=op.f("fk_notification_delivery_event_id_notification_event")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organization.id"], name=op.f("fk_notification_delivery_organization_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_notification_delivery_subscription_id_webhook_subscription"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_notification_delivery_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_delivery")),
    )
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_notification_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_notification_delivery_event_id", ["event_id"], unique=False)

    op.create_table(
        "notification_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notification_delivery.id"],
            name=op.f("fk_notification_attempt_delivery_id_notification_delivery"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempt")),
        sa.UniqueConstraint("delivery_id", "number", name=op.f("uq_notification_attempt_delivery_id_number")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("event_id", sa.Uuid(), nullable=True))
        batch_op.create_index("ix_notification_user_id_id", ["user_id", "id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_notification_event_id_notification_event"), "notification_event", ["event_id"], ["id"]
        )
        batch_op.create_foreign_key(batch_op.f("fk_notification_user_id_user"), "user", ["user_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notification_user_id_user"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_notification_event_id_notification_event"), type_="foreignkey")
        batch_op.drop_index("ix_notification_user_id_id")
        batch_op.drop_column("event_id")
        batch_op.drop_column("read_at")
        batch_op.drop_column("user_id")

    op.drop_table("notification_attempt")
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_delivery_event_id")
        batch_op.drop_index("ix_notification_delivery_due")

    op.drop_table("notification_delivery")
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_subscription_organization_id_id")

    op.drop_table("webhook_subscription")
    with op.batch_alter_table("notification_preference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_preference_organization_id"))

    op.drop_table("notification_preference")
    with op.batch_alter_table("notification_event", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_event_pending")

    op.drop_table("notification_event")
