"""Alembic migrations of the OpsCenter schema. Run them with ``opscenter db upgrade``."""
