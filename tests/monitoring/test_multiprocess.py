"""``opscenter serve --workers 2``: two API processes on one port, one ``/metrics`` that sums them, one scheduler."""

from collections import Counter
from pathlib import Path

from prometheus_client.multiprocess import MultiProcessCollector

from opscenter.settings import Settings
from tests import loopback
from tests.opscenter.drill_jobs import LOG_VARIABLE, runs
from tests.processes import DRILL_ENV, OpsCenterProcess, eventually, free_port, sample, scrape


def _health_answers_per_process(directory: Path) -> Counter[str]:
    """How many ``GET /health`` each API process counted, from its own file in the shared directory."""
    answered: Counter[str] = Counter()
    for path in directory.glob("counter_*.db"):
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True):  # type: ignore[no-untyped-call]
            for series in metric.samples:
                if series.name == "opscenter_http_requests_total" and series.labels["path"] == "/health":
                    answered[path.stem] += int(series.value)
    return answered


def test_metrics_on_any_api_process_sum_every_process_and_one_of_them_runs_the_jobs(
    settings: Settings, tmp_path: Path, db: object
) -> None:
    port, metrics_dir, drill_log = free_port(), tmp_path / "metrics", tmp_path / "drill.log"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left over from a previous run")
    env = {
        "OPSCENTER_DATABASE_URL": settings.database_url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        LOG_VARIABLE: str(drill_log),
        **DRILL_ENV,
    }
    base = f"http://127.0.0.1:{port}"
    sent = 0

    def both_processes_answered() -> Counter[str] | None:
        nonlocal sent
        for _ in range(10):  # a new connection each time: the kernel hands it to either process
            assert loopback.get(f"{base}/health", headers={"Connection": "close"}, timeout=10).status_code == 200
            sent += 1
        answered = _health_answers_per_process(metrics_dir)
        return answered if len(answered) == 2 and min(answered.values()) > 0 else None

    with OpsCenterProcess(["serve", "--workers", "2", "--port", str(port)], env=env, log=tmp_path / "serve.log"):
        eventually(lambda: scrape(port), within=90, what="serve answered")
        assert not (metrics_dir / "counter_1.db").exists(), "serve empties the directory at start"
        answered = eventually(both_processes_answered, within=30, what="both API processes answered")
        assert sum(answered.values()) == sent

        for _ in range(6):  # whichever process answers /metrics, it tells the sum
            metrics = scrape(port)
            assert metrics is not None
            assert sample(metrics, "opscenter_http_requests_total", path="/health", status_code="200") == sent
            assert sample(metrics, "opscenter_http_request_duration_seconds_count", path="/health") == sent
            assert "opscenter_build_info{" in metrics
        eventually(
            lambda: sample(scrape(port) or "", "opscenter_scheduler_leader") == 1.0, within=10, what="one leader"
        )
        eventually(lambda: runs(drill_log) or None, within=10, what="the leader ran a job")
    assert len({pid for _, _, pid in runs(drill_log)}) == 1, "one API process ran the jobs"
