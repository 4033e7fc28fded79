"""``opscenter demo``: seed the database named by OPSCENTER_DATABASE_URL with the demo province."""

import logging

import click

from opscenter.db import Database
from opscenter.demo.cast import IssuedKey
from opscenter.demo.seed import is_empty, seed
from opscenter.errors import DomainError
from opscenter.migrate import schema_problem
from opscenter.settings import get_settings


@click.command("demo")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Seed only a database with no organization yet (what scripts/serve does); else say so and change nothing.",
)
def demo(if_empty: bool) -> None:
    """Seed a realistic province: the bureau, the operations center, ten departments and their people, a catalog,
    budgets, purchase requests in every state, contracts, service instances, infrastructure handed over, ratings;
    and one API key for a user of each role, printed once.

    Running it again duplicates nothing: what an earlier run built is kept, anything missing is added.
    """
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.value, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if (problem := schema_problem(settings)) is not None:
        raise click.ClickException(problem)
    db = Database(settings)
    try:
        if if_empty and not is_empty(db):
            click.echo("demo: the database already holds organizations; not seeding it", err=True)
            return
        outcome = seed(db, progress=lambda line: click.echo(f"demo: {line}", err=True))
    except DomainError as exc:
        raise click.ClickException(f"the demo could not be seeded: {exc.detail}") from exc
    finally:
        db.dispose()
    if outcome.keys_shown_before:
        click.echo(
            "demo: the demo users' API keys were printed when it was first seeded and are not stored in clear; "
            "issue another with `opscenter keys create --user zhou.hua` (or li.na, zhao.min, chen.jie, sun.li)",
            err=True,
        )
        return
    _print_keys(outcome.keys)


def _print_keys(keys: list[IssuedKey]) -> None:
    click.echo("demo: one API key per role; store them now, they are not shown again:", err=True)
    for issued in keys:
        click.echo(
            f"demo:   {issued.login}: {issued.display_name}, {issued.role.label}, {issued.organization}", err=True
        )
    # On stdout, one per line, "role login key": what a script (or a person) needs to call the API.
    for issued in keys:
        click.echo(f"{issued.role.value}\t{issued.login}\t{issued.key}")
