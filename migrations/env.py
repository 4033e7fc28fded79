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


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # The trigram indexes of ``q`` (ix_<table>_search, migration 0021) are PostgreSQL-only expression indexes that no
    # model declares (SQLite has none); tests/opscenter/test_search.py checks them against the searches instead.
    searched = type_ == "index" and reflected and compare_to is None and (name or "").endswith("_search")
    return not searched


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
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    database.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `opscenter db upgrade` against a database")
run_migrations_online()
