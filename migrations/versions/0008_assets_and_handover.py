"""The asset register (assets, their history, links to service instances) and handover batches (items, signatures).

Serial numbers and locations compare byte-wise on PostgreSQL (collation "C"), so their btree indexes answer
prefix searches as ranges.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 16:52:19.658839
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handover_batch",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "inspected",
                "completed",
                "cancelled",
                name="handoverstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("accepted_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inspection_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signable_since_version", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transfer_date", sa.Date(), nullable=True),
        sa.Column("operator_organization_id", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_handover_batch_created_by_id_user")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["organization.id"], name=op.f("fk_handover_batch_department_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["operator_organization_id"],
            ["organization.id"],
            name=op.f("fk_handover_batch_operator_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_batch")),
    )
    with op.batch_alter_table("handover_batch", schema=None) as batch_op:
        batch_op.create_index("ix_handover_batch_department_id_id", ["department_id", "id"], unique=False)
        batch_op.create_index("ix_handover_batch_status_id", ["status", "id"], unique=False)

    op.create_table(
        "asset",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "server",
                "storage",
                "network_device",
                "security_device",
                "rack",
                "application_system",
                "database",
                "software_license",
                "other",
                name="assetkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "serial_number",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "location",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("original_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("owner_department_id", sa.Uuid(), nullable=False),
        sa.Column("operator_organization_id", sa.Uuid(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "in_department", "in_handover", "operated", "retired", name="assetstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("handover_batch_id", sa.Uuid(), nullable=True),
        sa.Column("transferred_on", sa.Date(), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retirement_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["handover_batch_id"], ["handover_batch.id"], name=op.f("fk_asset_handover_batch_id_handover_batch")
        ),
        sa.ForeignKeyConstraint(
            ["operator_organization_id"],
            ["organization.id"],
            name=op.f("fk_asset_operator_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_department_id"], ["organization.id"], name=op.f("fk_asset_owner_department_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset")),
        sa.UniqueConstraint("serial_number", name=op.f("uq_asset_serial_number")),
    )
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.create_index("ix_asset_kind_id", ["kind", "id"], unique=False)
        batch_op.create_index("ix_asset_location", ["location"], unique=False)
        batch_op.create_index("ix_asset_owner_department_id_id", ["owner_department_id", "id"], unique=False)
        batch_op.create_index("ix_asset_state_id", ["state", "id"], unique=False)

    op.create_table(
        "handover_signature",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column(
            "party",
            sa.Enum("department", "operator", "bureau", name="signingparty", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("signed_by_id", sa.Uuid(), nullable=False),
        sa.Column("signed_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["handover_batch.id"], name=op.f("fk_handover_signature_batch_id_handover_batch")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organization.id"], name=op.f("fk_handover_signature_organization_id_organization")
        ),
        sa.ForeignKeyConstraint(["signed_by_id"], ["user.id"], name=op.f("fk_handover_signature_signed_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_signature")),
        sa.UniqueConstraint("batch_id", "party", name=op.f("uq_handover_signature_batch_id_party")),
    )
    op.create_table(
        "asset_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("handover_batch_id", sa.Uuid(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_asset_history_asset_id_asset")),
        sa.ForeignKeyConstraint(
            ["handover_batch_id"], ["handover_batch.id"], name=op.f("fk_asset_history_handover_batch_id_handover_batch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_history")),
    )
    with op.batch_alter_table("asset_history", schema=None) as batch_op:
        batch_op.create_index("ix_asset_history_asset_id_id", ["asset_id", "id"], unique=False)

    op.create_table(
        "asset_service_link",
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("service_instance_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_asset_service_link_asset_id_asset")),
        sa.ForeignKeyConstraint(
            ["service_instance_id"],
            ["service_instance.id"],
            name=op.f("fk_asset_service_link_service_instance_id_service_instance"),
        ),
        sa.PrimaryKeyConstraint("asset_id", "service_instance_id", name=op.f("pk_asset_service_link")),
    )
    with op.batch_alter_table("asset_service_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_service_link_service_instance_id"), ["service_instance_id"], unique=False
        )

    op.create_table(
        "handover_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "server",
                "storage",
                "network_device",
                "security_device",
                "rack",
                "application_system",
                "database",
                "software_license",
                "other",
                name="assetkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "serial_number",
            sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "location",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("original_value_fen", sa.BigInteger(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column(
            "result",
            sa.Enum("pending", "accepted", "rejected", name="inspectionresult", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("defect_note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inspected_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_handover_item_asset_id_asset")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["handover_batch.id"], name=op.f("fk_handover_item_batch_id_handover_batch")
        ),
        sa.ForeignKeyConstraint(["inspected_by_id"], ["user.id"], name=op.f("fk_handover_item_inspected_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_item")),
        sa.UniqueConstraint("batch_id", "position", name=op.f("uq_handover_item_batch_id_position")),
        sa.UniqueConstraint("batch_id", "serial_number", name=op.f("uq_handover_item_batch_id_serial_number")),
    )
    with op.batch_alter_table("handover_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_item_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index("ix_handover_item_batch_id_result", ["batch_id", "result"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handover_item", schema=None) as batch_op:
        batch_op.drop_index("ix_handover_item_batch_id_result")
        batch_op.drop_index(batch_op.f("ix_handover_item_asset_id"))

    op.drop_table("handover_item")
    with op.batch_alter_table("asset_service_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_service_link_service_instance_id"))

    op.drop_table("asset_service_link")
    with op.batch_alter_table("asset_history", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_history_asset_id_id")

    op.drop_table("asset_history")
    op.drop_table("handover_signature")
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_state_id")
        batch_op.drop_index("ix_asset_owner_department_id_id")
        batch_op.drop_index("ix_asset_location")
        batch_op.drop_index("ix_asset_kind_id")

    op.drop_table("asset")
    with op.batch_alter_table("handover_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_handover_batch_status_id")
        batch_op.drop_index("ix_handover_batch_department_id_id")

    op.drop_table("handover_batch")
