"""The demo with real measurements: its own Prometheus, backfilled with a month of the instances' SLIs."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from contracts.agreements.models import Contract
from contracts.catalog.models import CatalogService
from contracts.instances.models import InstanceStatus, ServiceInstance
from monitoring.promql import PrometheusClient
from opscenter.db import Database
from opscenter.demo.maintenance import approved_downtime
from opscenter.demo.probes import Probe, incidents, window, write_openmetrics
from opscenter.demo.prometheus import LocalPrometheus
from opscenter.demo.province import Calendar
from opscenter.settings import Settings
from opscenter.timekeeping import start_of_day, utcnow
from sla.measurements.pull import last_complete_day, pull


def probes_of(session: Session) -> list[Probe]:
    """Every active instance's SLI series, as its catalog service and its label matchers say, in contract order."""
    rows = session.exec(
        select(ServiceInstance, CatalogService)
        .join(CatalogService, col(CatalogService.id) == ServiceInstance.service_id)
        .join(Contract, col(Contract.id) == ServiceInstance.contract_id)
        .where(ServiceInstance.status == InstanceStatus.ACTIVE)
        .order_by(col(Contract.number), col(ServiceInstance.line_no))
    ).all()
    return [
        Probe(str(instance.id), service.sli_metric, dict(instance.label_matchers), service.sli_interval_seconds)
        for instance, service in rows
    ]


def ensure_prometheus(db: Database, settings: Settings, directory: Path, *, progress: Callable[[str], None]) -> None:
    """Backfill (once) and start the demo's Prometheus where OpsCenter reads; leave one that already answers."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token is not None else None
    server = LocalPrometheus(
        directory, settings.prometheus_url, opscenter_target=f"{settings.host}:{settings.port}", metrics_token=token
    )
    if token is None:
        progress(
            "prometheus: OPSCENTER_METRICS_TOKEN is not set, so it scrapes OpsCenter's process metrics only; the "
            "dashboards' business figures need the token (scripts/serve sets one)"
        )
    server.keep_token()
    if server.is_ready():
        if not server.is_ours():
            progress(
                f"prometheus: another Prometheus answers at {server.url}, without the demo's metrics; stop it, or "
                "point OPSCENTER_PROMETHEUS_URL at a free port, and run the demo with --prometheus again"
            )
            return
        progress(f"prometheus: the demo's is running at {server.url}")
        pull_measurements(db, settings, progress=progress)
        return
    if not server.has_data():
        calendar = Calendar(utcnow())
        with db.transaction(write=False) as session:
            probes = probes_of(session)
            downtime = approved_downtime(session, calendar)
        since = calendar.last_month
        first, end = window(utcnow(), start_of_day(since.first_day))
        plan = incidents(probes, first, end, maintenance=downtime)
        server.directory.mkdir(parents=True, exist_ok=True)
        openmetrics = server.directory / "backfill.om"
        progress(f"prometheus: writing the SLI samples of {len(probes)} instances since {since.first_day} …")
        with openmetrics.open("w") as out:
            samples = write_openmetrics(out, probes, plan, first, end)
        progress(f"prometheus: backfilling {samples} samples with promtool (a minute or so) …")
        server.backfill(openmetrics)
        openmetrics.unlink()
    pid = server.start()
    progress(f"prometheus: running at {server.url} (pid {pid}; stop it with `kill {pid}`), data in {server.data}")
    pull_measurements(db, settings, progress=progress)


def pull_measurements(db: Database, settings: Settings, *, progress: Callable[[str], None]) -> None:
    """Measure every complete day since last month began (days measured before are kept), as the hourly job and
    ``opscenter sla pull`` do."""
    now = utcnow()
    first, last = Calendar(now).last_month.first_day, last_complete_day(now, settings.sla_pull_settle_minutes)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    with PrometheusClient(settings.prometheus) as prometheus:
        result = pull(db, prometheus, days, now=now)
    if result.failure is not None:
        progress(f"sla: the pull stopped at {result.failed_day} ({result.failure}); `opscenter sla pull` retries")
        return
    progress(f"sla: {result.measured} instance-days measured from Prometheus, {first} to {last}")
