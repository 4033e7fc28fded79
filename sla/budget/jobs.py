"""Keeping the burn-rate rules current: every five minutes the leader regenerates them and, when they changed (a
contract approved or ended, a window approved, an amendment's target), writes the file and asks Prometheus to
reload (``POST /-/reload``, which needs Prometheus's ``--web.enable-lifecycle``)."""

import logging
from pathlib import Path

import httpx
from apscheduler.triggers.interval import IntervalTrigger

from opscenter.db import Database
from opscenter.identity.actor import Actor
from opscenter.scheduler import Job, JobContext
from opscenter.settings import get_settings
from sla.budget.service import rules_text

log = logging.getLogger(__name__)


def refresh_rules(db: Database, context: JobContext[Actor]) -> None:
    settings = get_settings()
    if not settings.sla_budget_rules_file:
        return
    path = Path(settings.sla_budget_rules_file)
    text = rules_text(db)
    if path.exists() and path.read_text() == text:
        return
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)
    try:
        answer = httpx.post(f"{settings.prometheus_url.rstrip('/')}/-/reload", timeout=10)
    except httpx.HTTPError as exc:
        log.warning("burn-rate rules written to %s; Prometheus did not reload: %s", path, exc)
        return
    if answer.status_code != 200:
        log.warning("burn-rate rules written to %s; Prometheus answered %d to /-/reload (is --web.enable-lifecycle "
                    "set?)", path, answer.status_code)  # fmt: skip


JOBS = [
    Job(
        id="sla.budget_rules",
        description="Rewrite the burn-rate rules when contracts or maintenance windows change; reload Prometheus",
        trigger=IntervalTrigger(minutes=5),
        run_steps=refresh_rules,
    ),
]
