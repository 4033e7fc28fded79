"""``opscenter billing run --period 2026-10``: the month's statements by hand, with progress."""

import getpass
import time
import uuid

import click

from billing.statements.runs import run_period
from opscenter.db import Database
from opscenter.errors import DomainError
from opscenter.identity.actor import Actor
from opscenter.migrate import Migrations, pass_migrations
from opscenter.progress import Progress
from opscenter.settings import get_settings
from opscenter.timekeeping import Period


@click.group("billing")
def billing() -> None:
    """Monthly statements."""


def _period(_: click.Context, __: click.Parameter, value: str) -> Period:
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@billing.command("run")
@click.option("--period", required=True, callback=_period, help="The month to bill, YYYY-MM (it must have ended).")
@pass_migrations
def billing_run(migrations: Migrations, period: Period) -> None:
    """Generate the month's draft statements, or refresh the drafts; issued ones are left alone."""
    settings = get_settings()
    if (problem := migrations.schema_problem(settings)) is not None:
        raise click.ClickException(problem)
    actor = Actor.system(f"cli:{getpass.getuser()}", f"cli-{uuid.uuid4().hex}")
    shown = Progress()
    # each phase's time, from the end of the one before it (or the run's start) to its last report
    started, finished = time.perf_counter(), dict[str, float]()

    def progress(phase: str, done: int, total: int) -> None:
        finished[phase] = time.perf_counter()
        shown.report(phase, done, total)

    database = Database(settings)
    try:
        result = run_period(database, period=period, actor=actor, progress=progress)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        database.dispose()
    run = result.run
    ends = [started, *finished.values()]
    timing = ", ".join(f"{phase} {end - ends[n]:.2f} s" for n, (phase, end) in enumerate(finished.items()))
    click.echo(
        f"{period}: {run.contracts} contracts, {run.lines} lines; {run.created} statements created, "
        f"{run.refreshed} drafts refreshed, {run.kept} left as they were ({timing})"
    )
