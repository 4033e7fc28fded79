"""``demo --prometheus``: the month of SLIs it makes up, and the Prometheus it runs with them."""

import io
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opscenter.db import Database
from opscenter.demo.probes import Incident, Probe, incidents, window, write_openmetrics
from opscenter.demo.prometheus import LocalPrometheus
from opscenter.identity.models import Organization
from opscenter.settings import Settings
from tests import loopback
from tests.demo.steps import run_demo
from tests.processes import free_port
from tests.support import METRICS_TOKEN, RunningServer


def _probes(count: int) -> list[Probe]:
    return [
        Probe(f"instance-{n}", "probe_success", {"job": "blackbox", "instance": f"https://s{n}.example.cn"}, 60)
        for n in range(count)
    ]


def _availability(found: list[Incident], start: datetime, end: datetime) -> tuple[int, int]:
    """(samples up, samples present) at one a minute, from the plan alone."""
    up = present = 0
    for at in range(int(start.timestamp()), int(end.timestamp()), 60):
        hit = next((incident for incident in found if incident.start <= at < incident.end), None)
        present += hit is None or hit.kind == "down"
        up += hit is None
    return up, present


def test_a_month_of_probes_has_blips_outages_of_hours_and_one_prober_gap() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    end = start + timedelta(days=31)
    plan = incidents(_probes(50), start, end)
    assert plan == incidents(_probes(50), start, end), "the same demo every time"
    everything = [incident for found in plan.values() for incident in found]
    gaps = [incident for incident in everything if incident.kind == "gap"]
    assert len(gaps) == 1
    assert gaps[0].end - gaps[0].start == 3 * 86400, "enough missing to fall below 95 % coverage"
    outages = [i for i in everything if i.kind == "down" and i.end - i.start >= 2 * 3600]
    assert 2 <= len(outages) <= 6, "a few instances earn an SLA credit, most do not"
    healthy = [name for name, found in plan.items() if all(i.end - i.start <= 180 for i in found)]
    assert len(healthy) >= 40


def test_the_probes_are_down_during_approved_maintenance_windows() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    window = (datetime(2026, 10, 14, 14, tzinfo=UTC), datetime(2026, 10, 14, 16, tzinfo=UTC))
    plan = incidents(_probes(3), start, start + timedelta(days=31), maintenance={"instance-1": [window]})
    assert Incident(int(window[0].timestamp()), int(window[1].timestamp()), "down") in plan["instance-1"]
    assert all(incident.end - incident.start <= 180 for incident in plan["instance-2"])


def test_the_samples_are_openmetrics_at_the_probes_interval_with_downtime_as_zero_and_gaps_missing() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    end = start + timedelta(hours=1)
    probe = _probes(1)[0]
    gap = Incident(int(start.timestamp()) + 600, int(start.timestamp()) + 900, "gap")
    down = Incident(int(start.timestamp()) + 1200, int(start.timestamp()) + 1320, "down")
    out = io.StringIO()
    written = write_openmetrics(out, [probe], {probe.key: [gap, down]}, start, end)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "# EOF"
    assert written == len(lines) - 1 == 60 - 5
    assert lines[0] == f'probe_success{{instance="https://s0.example.cn",job="blackbox"}} 1 {int(start.timestamp())}'
    assert [line.split()[1] for line in lines[:-1]].count("0") == 2


def test_the_demo_prometheus_answers_with_the_samples_it_was_backfilled_with(tmp_path: Path) -> None:
    port = free_port()
    server = LocalPrometheus(tmp_path / "prometheus", f"http://127.0.0.1:{port}", opscenter_target="127.0.0.1:9")
    probes = _probes(12)  # instance 5 has an outage and instance 7 a gap, as in the demo
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    first, end = window(now, now - timedelta(days=4))
    plan = incidents(probes, first, end)
    server.directory.mkdir(parents=True)
    openmetrics = server.directory / "backfill.om"
    with openmetrics.open("w") as out:
        write_openmetrics(out, probes, plan, first, end)
    server.backfill(openmetrics)
    assert server.has_data()
    pid = server.start()
    try:
        assert server.is_ours()
        at, span = int(end.timestamp()) - 60, int((end - first).total_seconds()) // 60
        assert _availability(plan[probes[5].key], first, end)[0] < span - 60, "an outage of hours"
        assert _availability(plan[probes[7].key], first, end)[1] < span / 2, "a prober gap of days"
        for probe in (probes[5], probes[7], probes[0]):
            selector = f'probe_success{{instance="{probe.labels["instance"]}"}}[{span}m] @ {at}'
            up, present = _availability(plan[probe.key], first, end)
            assert _query(server, f"sum_over_time({selector})") == up, probe.key
            assert _query(server, f"count_over_time({selector})") == present, probe.key
    finally:
        os.kill(pid, signal.SIGTERM)


def _query(server: LocalPrometheus, promql: str) -> float:
    (result,) = loopback.get(f"{server.url}/api/v1/query", params={"query": promql}).json()["data"]["result"]
    return float(result["value"][1])


def test_without_prometheus_the_demo_says_how_to_get_one_and_seeds_nothing(demo_settings: Settings) -> None:
    refused = run_demo(demo_settings, "--prometheus", succeed=False, PATH="/nonexistent")
    assert refused.returncode != 0
    assert "apt-get install prometheus" in refused.stderr
    assert "prometheus.io/download" in refused.stderr
    db = Database(demo_settings)
    try:
        with db.transaction(write=False) as session:
            assert session.execute(select(func.count()).select_from(Organization)).scalar_one() == 0
    finally:
        db.dispose()


@pytest.mark.parametrize("token", [METRICS_TOKEN, None], ids=["with-the-token", "without"])
def test_the_demo_prometheus_scrapes_opscenter_with_the_metrics_token(
    tmp_path: Path, server: RunningServer, token: str | None
) -> None:
    demo = LocalPrometheus(
        tmp_path / "prometheus",
        f"http://127.0.0.1:{free_port()}",
        opscenter_target=server.base_url.removeprefix("http://"),
        metrics_token=token,
        scrape_interval="1s",
    )
    pid = demo.start()
    try:
        if token is not None:
            assert demo.token_file.read_text() == token
            assert demo.token_file.stat().st_mode & 0o777 == 0o600, "the token is for the Prometheus alone"
        deadline = time.monotonic() + 30
        while not (served := _series(demo, "opscenter_metrics_business_figures")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert served == [1.0 if token else 0.0]
        # A scrape that outlasts the test's one-second interval on a busy machine is down for that once.
        assert _series(demo, 'max_over_time(up{job="opscenter"}[1m])') == [1.0]
    finally:
        os.kill(pid, signal.SIGTERM)


def _series(server: LocalPrometheus, promql: str) -> list[float]:
    result = loopback.get(f"{server.url}/api/v1/query", params={"query": promql}).json()["data"]["result"]
    return [float(series["value"][1]) for series in result]
