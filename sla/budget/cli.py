"""``opscenter monitoring rules [--output FILE]``: the burn-rate rules of every approved contract, for Prometheus."""

from pathlib import Path

import click

from opscenter.db import Database
from opscenter.migrate import Migrations, pass_migrations
from opscenter.settings import get_settings
from sla.budget.service import rules_text


@click.group("monitoring")
def monitoring() -> None:
    """What Prometheus needs from OpsCenter's data."""


@monitoring.command("rules")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the file here (monitoring/prometheus.yml loads generated/*.yml beside it); "
              "default stdout.")  # fmt: skip
@pass_migrations
def rules_command(migrations: Migrations, output: Path | None) -> None:
    """Burn-rate alerts (SRE workbook, multi-window) on each approved contract's error budget, one group each."""
    settings = get_settings()
    if (problem := migrations.schema_problem(settings)) is not None:
        raise click.ClickException(problem)
    database = Database(settings)
    try:
        text = rules_text(database)
    finally:
        database.dispose()
    if output is None:
        click.echo(text, nl=False)
        return
    groups = text.count("\n- name: ") + text.startswith("- name: ")
    temporary = output.with_suffix(output.suffix + ".tmp")
    temporary.write_text(text)
    temporary.replace(output)  # Prometheus never reads half a file
    click.echo(f"{output}: {groups} contract group(s) of burn-rate rules", err=True)
