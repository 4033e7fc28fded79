"""``opscenter demo``: seed the database named by OPSCENTER_DATABASE_URL with the demo province."""

from pathlib import Path

import click

from opscenter.db import Database
from opscenter.demo.cast import IssuedKey
from opscenter.demo.measured import ensure_prometheus
from opscenter.demo.prometheus import NoPrometheus, binaries
from opscenter.demo.seed import is_empty, seed
from opscenter.errors import DomainError
from opscenter.logs import configure_logging
from opscenter.migrate import Migrations, pass_migrations
from opscenter.settings import get_settings


@click.command("demo")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Seed only a database with no organization yet (what scripts/serve does); else say so and change nothing.",
)
@click.option(
    "--prometheus",
    "with_prometheus",
    is_flag=True,
    help="Also run a Prometheus of the demo's own where OPSCENTER_PROMETHEUS_URL points (default "
    "127.0.0.1:9090), backfilled with a month of the service instances' SLIs; needs prometheus and promtool.",
)
@click.option(
    "--prometheus-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("opscenter-prometheus"),
    show_default=True,
    help="Where the demo's Prometheus keeps its data, configuration, log and pid.",
)
@pass_migrations
def demo(migrations: Migrations, if_empty: bool, with_prometheus: bool, prometheus_dir: Path) -> None:
    """Seed a realistic province: the bureau, the operations center, ten departments and their people, a catalog,
    budgets, purchase requests in every state, contracts, service instances, infrastructure handed over, ratings,
    maintenance windows, tickets in every state; and one API key for a user of each role, printed once. Each
    part happened when it plausibly did, over the last year.

    Running it again duplicates nothing: what an earlier run built is kept, anything missing is added.
    """
    settings = get_settings()
    configure_logging(settings)
    if (problem := migrations.schema_problem(settings)) is not None:
        raise click.ClickException(problem)
    if with_prometheus:
        try:
            binaries()  # before seeding anything: say at once how to get one
        except NoPrometheus as exc:
            raise click.ClickException(str(exc)) from exc
    db = Database(settings)

    def measure() -> None:
        ensure_prometheus(db, settings, prometheus_dir, progress=_progress)

    try:
        if if_empty and not is_empty(db):
            click.echo("demo: the database already holds organizations; not seeding it", err=True)
            if with_prometheus and prometheus_dir.is_dir():  # seeded by an earlier demo: keep its Prometheus up
                measure()
            return
        outcome = seed(db, progress=_progress, measure=measure if with_prometheus else None)
    except DomainError as exc:
        raise click.ClickException(f"the demo could not be seeded: {exc.detail}") from exc
    except NoPrometheus as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    if outcome.keys_shown_before:
        click.echo(
            "demo: the demo users' API keys were printed when it was first seeded and are not stored in clear; "
            "issue another with `opscenter keys create --user zhou.hua` (or li.na, zhao.min, chen.jie, sun.li) and "
            "set a password with `opscenter users set-password --name zhou.hua`",
            err=True,
        )
        return
    _print_keys(outcome.keys)


def _progress(line: str) -> None:
    click.echo(f"demo: {line}", err=True)


def _print_keys(keys: list[IssuedKey]) -> None:
    click.echo("demo: one API key and console password per role; store them now, they are not shown again:", err=True)
    for issued in keys:
        click.echo(
            f"demo:   {issued.login}: {issued.display_name}, {issued.role.label}, {issued.organization}", err=True
        )
    # On stdout, one per line, "role login key password": what a script needs to call the API, and a person to log
    # in to the console (http://127.0.0.1:8000/).
    for issued in keys:
        click.echo(f"{issued.role.value}\t{issued.login}\t{issued.key}\t{issued.password}")
