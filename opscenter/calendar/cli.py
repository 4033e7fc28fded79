"""``opscenter calendar import --year 2027 schedule.csv``: a year's official schedule from a file, as the API's
``PUT /api/v1/calendar/years/{year}`` imports it (JSON or CSV, told apart by the file's name), audited as the
command's user."""

import getpass
import uuid
from pathlib import Path

import click

from opscenter.calendar import years
from opscenter.db import Database
from opscenter.errors import DomainError
from opscenter.identity.actor import Actor
from opscenter.migrate import Migrations, pass_migrations
from opscenter.settings import get_settings
from opscenter.sheets import DEFAULT_LIMITS


@click.group("calendar")
def calendar() -> None:
    """The business calendar."""


@calendar.command("import")
@click.option("--year", type=int, required=True, help="The year the file's schedule is of, e.g. 2027.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_migrations
def import_command(migrations: Migrations, year: int, file: Path) -> None:
    """Import FILE (.json, else CSV: date, type, name) as YEAR's holidays and make-up workdays, replacing the year."""
    settings = get_settings()
    if (problem := migrations.schema_problem(settings)) is not None:
        raise click.ClickException(problem)
    actor = Actor.system(f"cli:{getpass.getuser()}", f"cli-{uuid.uuid4().hex}")
    media_type = "application/json" if file.suffix.lower() == ".json" else "text/csv"
    database = Database(settings)
    try:
        parsed = years.parse(file.read_bytes(), media_type, limits=DEFAULT_LIMITS)
        with database.transaction(write=True) as session:
            imported = years.import_year(session, year, parsed, actor=actor)
    except DomainError as exc:
        problems = "".join(
            f"\n  {error.field}{f' (line {error.line})' if error.line else ''}: {error.message}" for error in exc.errors
        )
        raise click.ClickException(exc.detail + problems) from exc
    finally:
        database.dispose()
    click.echo(f"{year}: {len(imported.holidays)} holidays and {len(imported.workdays)} make-up workdays imported")
