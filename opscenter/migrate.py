"""Alembic, driven from code: the same upgrade for the CLI, the tests and the readiness check."""

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine
from sqlalchemy.exc import OperationalError

import migrations
from opscenter.db import sqlalchemy_url
from opscenter.settings import Settings

SCRIPT_LOCATION = Path(migrations.__file__).parent


# The house's migration files are numbered in order: 0001_identity_and_audit.py, 0002_contracts.py, …
_NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")


def alembic_config(settings: Settings, *, script_location: Path = SCRIPT_LOCATION) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["settings"] = settings
    return config


def next_revision_id(script_location: Path = SCRIPT_LOCATION) -> str:
    """The number the next migration takes: one more than the highest numbered file."""
    numbers = [
        int(match.group(1))
        for path in (script_location / "versions").iterdir()
        if (match := _NUMBERED.match(path.name))
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def revision(settings: Settings, message: str, *, script_location: Path = SCRIPT_LOCATION) -> Path:
    """Write the next numbered migration from the difference between the models and the database."""
    script = command.revision(
        alembic_config(settings, script_location=script_location),
        message=message,
        autogenerate=True,
        rev_id=next_revision_id(script_location),
    )
    if script is None or isinstance(script, list):
        raise RuntimeError("expected exactly one new migration script")
    return Path(script.path)


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def head_revisions() -> set[str]:
    script = ScriptDirectory(str(SCRIPT_LOCATION))
    return set(script.get_heads())


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def schema_problem(settings: Settings) -> str | None:
    """Why the database cannot serve yet, in one line with the fix; None when it is at the migrations' head.

    Creates nothing: a SQLite file that does not exist is reported, not made by connecting to it.
    """
    url = sqlalchemy_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    fix = f"run `opscenter db upgrade` (OPSCENTER_DATABASE_URL={shown})"
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if sqlite_file and not Path(str(url.database)).exists():
        return f"no database at {url.database}: {fix}"
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            current = current_revisions(connection)
    except OperationalError as exc:
        return f"cannot reach the database {shown}: {str(exc.orig).strip().splitlines()[0]}"
    finally:
        engine.dispose()
    heads = head_revisions()
    if not current:
        return f"the database {shown} is not migrated: {fix}"
    if current != heads:
        return f"the database {shown} is at {', '.join(sorted(current))}, not at {', '.join(sorted(heads))}: {fix}"
    return None
