"""Alembic environment: one metadata (every domain's models), batch mode on SQLite."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from migrations.tables import metadata
from opscenter.db import Database, UTCDateTime
from opscenter.settings import Settings, get_settings

config = context.config
target_metadata = metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import application code that may change later: spell our types in SQLAlchemy's words.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    settings: Settings = config.attributes.get("settings") or get_settings()
    database = Database(settings)
    with database.write_engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    database.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `opscenter db upgrade` against a database")
run_migrations_online()
