"""``opscenter sla pull --period 2026-10``: measure a month by hand, one line of progress per day."""

from datetime import date, timedelta

import click

from monitoring.promql import PrometheusClient
from opscenter.db import Database
from opscenter.heap import freeze_startup_heap
from opscenter.migrate import Migrations, pass_migrations
from opscenter.settings import Settings, get_settings
from opscenter.timekeeping import Period, utcnow
from sla.measurements.pull import PullResult, last_complete_day, pull, targets


def pull_month(database: Database, settings: Settings, period: Period, *, echo=click.echo) -> PullResult:  # type: ignore[no-untyped-def]
    """Every complete day of ``period`` not measured yet (beyond the job's horizon too), each day written in a
    transaction of its own: a day that fails writes nothing, and the days before it are kept."""
    now = utcnow()
    last = min(period.last_day, last_complete_day(now, settings.sla_pull_settle_minutes))
    days = [period.first_day + timedelta(days=n) for n in range((last - period.first_day).days + 1)]
    if not days:
        raise click.ClickException(f"{period} has no complete day yet")

    def progress(day: date, written: int) -> None:
        echo(f"{day}  {written} instances measured")

    with PrometheusClient(settings.prometheus) as prometheus:
        result = pull(database, prometheus, days, now=now, progress=progress)
    echo(f"{period}: {_what_happened(database, result, asked=len(days))}")
    return result


def _what_happened(database: Database, result: PullResult, *, asked: int) -> str:
    """What the pull did, in words: a pull that found nothing to do says why, not "0 instance-days over 0 days"."""
    if result.measured or result.days or result.failure is not None:
        return f"{result.measured} instance-days over {len(result.days)} days, {result.requests} requests"
    with database.transaction(write=False) as session:
        if not targets(session):
            return "nothing to measure: no service instance has an availability SLI"
    return f"all {asked} days already measured, nothing written"


@click.group("sla")
def sla() -> None:
    """SLA measurements from Prometheus."""


@sla.command("pull")
@click.option("--period", required=True, help="The month, YYYY-MM (Asia/Shanghai), e.g. 2026-10.")
@pass_migrations
def pull_command(migrations: Migrations, period: str) -> None:
    """Measure every complete day of a month not measured yet, for every service instance."""
    try:
        month = Period.parse(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from exc
    settings = get_settings()
    if (problem := migrations.schema_problem(settings)) is not None:
        raise click.ClickException(problem)
    database = Database(settings)
    freeze_startup_heap()
    try:
        result = pull_month(database, settings, month)
    finally:
        database.dispose()
    if result.failure is not None:
        raise click.ClickException(
            f"{result.failed_day}: {result.failure.kind}: {result.failure}. Nothing was written for that day or "
            "after it; the days before it are kept. Run again when Prometheus answers."
        )
