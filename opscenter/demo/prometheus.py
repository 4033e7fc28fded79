"""``opscenter demo --prometheus``: a Prometheus of the demo's own on this machine, backfilled with a month of
the service instances' SLIs and listening where OpsCenter reads (``OPSCENTER_PROMETHEUS_URL``).

It runs in the background after the command ends (its pid in ``<directory>/prometheus.pid``); running the
demo again starts it if it stopped and backfills nothing twice. It also scrapes OpsCenter's own ``/metrics``
and evaluates ``monitoring/rules/``, so the dashboards have something to show: with the metrics token
(``OPSCENTER_METRICS_TOKEN``, which ``scripts/serve`` sets), kept in ``<directory>/metrics-token`` where the
Prometheus reads it at every scrape, so that it gets the business figures too.
"""

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

import monitoring

GET_ONE = (
    "demo --prometheus needs the prometheus and promtool programs on PATH: on Debian or Ubuntu "
    "`apt-get install prometheus` (then `systemctl disable --now prometheus`, so that the demo's own can use the "
    "port), or download both from https://prometheus.io/download/"
)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_BLOCK = "744h"  # 31 days: a month of backfill in one or two blocks


class NoPrometheus(Exception):
    """The demo cannot run a Prometheus here; the message says why and what to do."""


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    promtool: str


def binaries() -> Binaries:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus is None or promtool is None:
        raise NoPrometheus(GET_ONE)
    return Binaries(prometheus, promtool)


class LocalPrometheus:
    def __init__(
        self,
        directory: Path,
        url: str,
        *,
        opscenter_target: str,
        metrics_token: str | None = None,
        scrape_interval: str = "30s",
    ) -> None:
        parts = urlsplit(url)
        if parts.hostname not in _LOOPBACK or parts.port is None:
            raise NoPrometheus(
                f"OPSCENTER_PROMETHEUS_URL is {url}; the demo's Prometheus runs on this machine: point it at "
                "http://127.0.0.1:<port> (or leave it unset: http://127.0.0.1:9090)"
            )
        self.tools = binaries()
        self.url = url.rstrip("/")
        self.listen = f"127.0.0.1:{parts.port}"
        self.directory = directory.resolve()
        self.data = self.directory / "data"
        self.pid_file = self.directory / "prometheus.pid"
        self.token_file = self.directory / "metrics-token"
        self.opscenter_target = opscenter_target
        self.metrics_token = metrics_token
        self.scrape_interval = scrape_interval

    def keep_token(self) -> None:
        """Write the metrics token where the Prometheus reads it (only its owner may read the file); a running
        Prometheus picks a new one up at its next scrape."""
        if self.metrics_token is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self.token_file.touch(mode=0o600, exist_ok=True)
        self.token_file.chmod(0o600)
        self.token_file.write_text(self.metrics_token)

    def is_ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def is_ours(self) -> bool:
        """Whether the process answering is the one this directory started (not someone else's Prometheus)."""
        try:
            os.kill(int(self.pid_file.read_text()), 0)
        except (OSError, ValueError):
            return False
        return True

    def has_data(self) -> bool:
        return self.data.is_dir() and any(self.data.glob("*/meta.json"))

    def backfill(self, openmetrics: Path) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [self.tools.promtool, "tsdb", "create-blocks-from", "openmetrics", f"--max-block-duration={_BLOCK}",
             str(openmetrics), str(self.data)],
            capture_output=True, text=True, timeout=1800, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise NoPrometheus(f"promtool could not backfill the demo's metrics: {done.stderr.strip()[-2000:]}")

    def start(self, *, timeout: float = 120.0) -> int:
        """Start the server in the background (it outlives this command); its pid, once it is ready."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.keep_token()
        config = self.directory / "prometheus.yml"
        config.write_text(self._config())
        log = (self.directory / "prometheus.log").open("ab")
        process = subprocess.Popen(
            [self.tools.prometheus, f"--config.file={config}", f"--storage.tsdb.path={self.data}",
             "--storage.tsdb.retention.time=400d", f"--web.listen-address={self.listen}", "--log.level=warn"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise NoPrometheus(f"prometheus exited ({process.returncode}); see {self.directory / 'prometheus.log'}")
            if self.is_ready():
                return process.pid
            time.sleep(0.3)
        os.kill(process.pid, signal.SIGTERM)
        raise NoPrometheus(f"prometheus was not ready within {timeout:.0f} s; see {self.directory / 'prometheus.log'}")

    def _config(self) -> str:
        rules = Path(monitoring.__file__).resolve().parent / "rules"
        rule_files = f'rule_files:\n  - "{rules}/*.yml"\n' if rules.is_dir() else ""
        # Without a token it still scrapes the process metrics; the business figures then stay empty.
        authorization = (
            f'    authorization:\n      type: Bearer\n      credentials_file: "{self.token_file}"\n'
            if self.metrics_token is not None
            else ""
        )
        return (
            "# Written by `opscenter demo --prometheus`.\n"
            f"global:\n  scrape_interval: {self.scrape_interval}\n  evaluation_interval: {self.scrape_interval}\n"
            f"{rule_files}"
            "scrape_configs:\n"
            "  - job_name: opscenter\n"
            f"{authorization}"
            f'    static_configs:\n      - targets: ["{self.opscenter_target}"]\n'
        )
