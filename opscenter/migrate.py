"""Alembic, driven from code: the same upgrade for the CLI, the tests and the readiness check.

The migrations themselves are the wiring's (the ``migrations`` package, ``migrations.MIGRATIONS``): a
``Migrations`` value names where their scripts are, and the wiring hands it to whatever needs it — the app
(``/ready`` and the replica's check compare a database with ``heads``), and every ``opscenter`` command
(the context object of the command line; a command takes it with ``pass_migrations``).
"""

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine
from sqlalchemy.exc import OperationalError

from opscenter.db import sqlalchemy_url
from opscenter.settings import Settings

# The house's migration files are numbered in order: 0001_identity_and_audit.py, 0002_contracts.py, …
_NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")


@dataclass(frozen=True)
class Migrations:
    """Alembic migrations whose scripts (``env.py``, ``versions/``) are at ``location``."""

    location: Path

    def config(self, settings: Settings) -> Config:
        """Alembic's configuration for the database ``settings`` name (``env.py`` reads them back)."""
        config = Config()
        config.set_main_option("script_location", str(self.location))
        config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
        config.attributes["settings"] = settings
        return config

    @cached_property
    def heads(self) -> set[str]:
        """The revisions a database is at once every migration ran: what this code expects."""
        return set(ScriptDirectory(str(self.location)).get_heads())

    def upgrade(self, settings: Settings, revision: str = "head") -> None:
        command.upgrade(self.config(settings), revision)

    def next_revision_id(self) -> str:
        """The number the next migration takes: one more than the highest numbered file."""
        numbers = [
            int(match.group(1))
            for path in (self.location / "versions").iterdir()
            if (match := _NUMBERED.match(path.name))
        ]
        return f"{max(numbers, default=0) + 1:04d}"

    def revision(self, settings: Settings, message: str) -> Path:
        """Write the next numbered migration from the difference between the models and the database."""
        script = command.revision(
            self.config(settings), message=message, autogenerate=True, rev_id=self.next_revision_id()
        )
        if script is None or isinstance(script, list):
            raise RuntimeError("expected exactly one new migration script")
        return Path(script.path)

    def schema_problem(self, settings: Settings) -> str | None:
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
        if not current:
            return f"the database {shown} is not migrated: {fix}"
        if current != self.heads:
            heads = ", ".join(sorted(self.heads))
            return f"the database {shown} is at {', '.join(sorted(current))}, not at {heads}: {fix}"
        return None


def current_revisions(connection: Connection) -> set[str]:
    """The revisions the database behind ``connection`` is at (none before its first migration)."""
    return set(MigrationContext.configure(connection).get_current_heads())


pass_migrations = click.make_pass_decorator(Migrations)
"""Decorates an ``opscenter`` command to take the migrations the wiring gave the command line, first."""
