"""A measurement refers to its instance by one key that includes the contract line and department copied from it.

Before, three foreign keys (instance, contract, organization) checked each row apart, and nothing checked that the
copies were the instance's. An instance's id, contract, line and department never change once provisioned, so the
four form a key (a unique index; id alone is unique already) that one foreign key can refer to.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 01:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPIES = ["id", "contract_id", "line_no", "department_id"]
LOCAL = ["service_instance_id", "contract_id", "line_no", "department_id"]
KEY = "uq_service_instance_id_contract_id_line_no_department_id"
TO_INSTANCE = "fk_sla_measurement_service_instance_id_service_instance"
TO_CONTRACT = "fk_sla_measurement_contract_id_contract"
TO_ORGANIZATION = "fk_sla_measurement_department_id_organization"


def upgrade() -> None:
    op.create_index(KEY, "service_instance", COPIES, unique=True)
    with op.batch_alter_table("sla_measurement", schema=None) as batch_op:
        batch_op.drop_constraint(TO_CONTRACT, type_="foreignkey")
        batch_op.drop_constraint(TO_ORGANIZATION, type_="foreignkey")
        batch_op.drop_constraint(TO_INSTANCE, type_="foreignkey")
        batch_op.create_foreign_key(TO_INSTANCE, "service_instance", LOCAL, COPIES)


def downgrade() -> None:
    with op.batch_alter_table("sla_measurement", schema=None) as batch_op:
        batch_op.drop_constraint(TO_INSTANCE, type_="foreignkey")
        batch_op.create_foreign_key(TO_INSTANCE, "service_instance", ["service_instance_id"], ["id"])
        batch_op.create_foreign_key(TO_ORGANIZATION, "organization", ["department_id"], ["id"])
        batch_op.create_foreign_key(TO_CONTRACT, "contract", ["contract_id"], ["id"])
    op.drop_index(KEY, table_name="service_instance")
