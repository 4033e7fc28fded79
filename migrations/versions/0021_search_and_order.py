"""Search and order: trigram indexes for ``q`` on PostgreSQL, and the indexes the new ``sort`` orders page by.

``q`` (``opscenter/search.py``) is ``<haystack> ILIKE '%…%'`` on PostgreSQL, where ``<haystack>`` is the searched
columns joined by a space. A ``pg_trgm`` GIN index on exactly that expression serves it; the expressions below must
stay the text ``opscenter.search.haystack`` builds from each list's search columns (a test EXPLAINs each list's
search on PostgreSQL and fails when its index is not used). SQLite has no trigram index here: its search is a scan
in the list's order that stops once a page is full (README, Benchmarks: bench.names_search).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 00:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# index name → (table, haystack): the searched columns of each list, as opscenter.search.haystack joins them.
SEARCHED = {
    "ix_ticket_search": ("ticket", "number || ' ' || title || ' ' || description"),
    "ix_purchase_request_search": ("purchase_request", "title || ' ' || decision_note"),
    "ix_contract_search": ("contract", "number || ' ' || title"),
    "ix_asset_search": ("asset", "name || ' ' || serial_number || ' ' || model || ' ' || location"),
    "ix_statement_search": ("statement", "contract_number || ' ' || period || ' ' || payment_reference"),
    "ix_audit_event_search": ("audit_event", "actor_name || ' ' || action || ' ' || object_type || ' ' || object_id"),
}

# The orders of the new sorts: each the sort key, then the id that makes it total.
ORDERS = [
    ("ix_ticket_priority_id", "ticket", ["priority", "id"]),
    ("ix_purchase_request_title_id", "purchase_request", ["title", "id"]),
    ("ix_asset_name_id", "asset", ["name", "id"]),
    ("ix_statement_contract_number_id", "statement", ["contract_number", "id"]),
]


def upgrade() -> None:
    for name, table, columns in ORDERS:
        op.create_index(name, table, columns)
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, expression) in SEARCHED.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name in SEARCHED:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        # The extension stays: another schema in this database may use it, and it holds no data.
    for name, table, _ in reversed(ORDERS):
        op.drop_index(name, table_name=table)
