"""``opscenter billing run --period 2026-10``: the month's statements by hand, with progress."""

import getpass
import uuid

import click

from billing.statements.runs import run_period
from opscenter.auth.actor import Actor
from opscenter.clock import Period
from opscenter.db import Database
from opscenter.errors import DomainError
from opscenter.migrate import schema_problem
from opscenter.settings import get_settings


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
def billing_run(period: Period) -> None:
    """Generate the month's draft statements, or refresh the drafts; issued ones are left alone."""
    settings = get_settings()
    if (problem := schema_problem(settings)) is not None:
        raise click.ClickException(problem)
    actor = Actor.system(f"cli:{getpass.getuser()}", f"cli-{uuid.uuid4().hex}")
    shown: dict[str, int] = {}

    def progress(phase: str, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if shown.get(phase) != percent:
            shown[phase] = percent
            click.echo(f"\r{phase}: {done}/{total} ({percent}%)", nl=done >= total, err=True)

    database = Database(settings)
    try:
        result = run_period(database, period=period, actor=actor, progress=progress)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        database.dispose()
    run = result.run
    timing = ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in result.seconds.items())
    click.echo(
        f"{period}: {run.contracts} contracts, {run.lines} lines; {run.created} statements created, "
        f"{run.refreshed} drafts refreshed, {run.kept} left as they were ({timing})"
    )
