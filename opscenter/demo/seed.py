"""The demo's steps, each one transaction, each skipped when an earlier run did it: running the demo again
(or after an interruption) duplicates nothing and finishes what is missing."""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from opscenter.db import Database
from opscenter.demo import contracting, floor, maintenance, statements, tickets
from opscenter.demo.cast import Cast, IssuedKey, add_people, issue_keys, keys_issued, read_cast
from opscenter.demo.province import Calendar
from opscenter.identity.models import Organization
from opscenter.timekeeping import replaying, utcnow


@dataclass(frozen=True)
class Step:
    """One part of the province: ``done`` tells whether an earlier run built it, ``run`` builds it and says what."""

    name: str
    done: Callable[[Session, Cast, Calendar], bool]
    run: Callable[[Session, Cast, Calendar], str]


STEPS = (
    Step("catalog", contracting.has_catalog, contracting.add_catalog),
    Step("purchasing", contracting.has_purchases, contracting.add_purchases),
    Step("contracts", contracting.has_contracts, contracting.add_contracts),
    Step("instances", contracting.has_instances, contracting.add_instances),
    Step("handover", floor.has_handovers, floor.add_handovers),
    Step("ratings", floor.has_ratings, floor.add_ratings),
    Step("maintenance", maintenance.has_maintenance, maintenance.add_maintenance),
    Step("tickets", tickets.has_tickets, tickets.add_tickets),
    Step("recent requests", contracting.has_recent_requests, contracting.add_recent_requests),
)
# After the measurements (``demo --prometheus`` pulls them between the two): what is computed from them.
SETTLING_STEPS: tuple[Step, ...] = (Step("statements", statements.has_statements, statements.add_statements),)


@dataclass
class Outcome:
    keys: list[IssuedKey] = field(default_factory=list)
    keys_shown_before: bool = False


def is_empty(db: Database) -> bool:
    """No organization at all: a fresh install nobody has bootstrapped."""
    with db.transaction(write=False) as session:
        return session.exec(select(Organization.id).limit(1)).first() is None


def seed(db: Database, *, progress: Callable[[str], None], measure: Callable[[], None] | None = None) -> Outcome:
    """Build the province step by step, reporting each step through ``progress``; ``measure`` (the demo's
    Prometheus and the SLA pull) runs between the history and what is computed from measurements."""
    calendar = Calendar(utcnow())
    with db.transaction(write=True) as session, replaying(calendar.at(calendar.months_ago(13))):
        progress(f"people: {add_people(session)}")
    _run(db, STEPS, calendar, progress)
    if measure is not None:
        measure()
    _run(db, SETTLING_STEPS, calendar, progress)
    outcome = Outcome()
    with db.transaction(write=True) as session:
        cast = read_cast(session)
        if keys_issued(session, cast):
            outcome.keys_shown_before = True
        else:
            outcome.keys = issue_keys(session, cast)
    return outcome


def _run(db: Database, steps: tuple[Step, ...], calendar: Calendar, progress: Callable[[str], None]) -> None:
    for step in steps:
        with db.transaction(write=True) as session:
            cast = read_cast(session)
            if step.done(session, cast, calendar):
                progress(f"{step.name}: already there")
                continue
            progress(f"{step.name}: {step.run(session, cast, calendar)}")
