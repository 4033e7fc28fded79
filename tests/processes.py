"""Real ``opscenter`` processes for the scale-out tests: started as an operator would, killed as a crash would."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests import loopback

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# The drill: two jobs every 2 and 3 s (tests/opscenter/drill_jobs.py); standbys poll for the lead twice a second.
POLL_SECONDS = 0.5
DRILL_ENV = {"OPSCENTER_SCHEDULER_JOBS": "tests.opscenter.drill_jobs:JOBS", "OPSCENTER_SCHEDULER_POLL_SECONDS": "0.5"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(probe: Callable[[], T | None], *, within: float, what: str) -> T:
    """Poll ``probe`` until it returns something (not None, not False), or fail saying ``what`` did not happen."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"within {within} s: {what}")
        time.sleep(0.1)


class OpsCenterProcess:
    """``opscenter <args>`` in a subprocess of its own session; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path) -> None:
        environment = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        environment.update({"OPSCENTER_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT), **env})
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "opscenter.cli", *args],
                env=environment,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """What a crash or the OOM killer does: SIGKILL, no clean-up, no goodbye to the database."""
        self.process.kill()
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):  # whatever it started (uvicorn's workers) goes with it
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def __enter__(self) -> "OpsCenterProcess":
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()


def scrape(port: int) -> str | None:
    """The text of ``/metrics`` on ``port`` (a fresh connection each time), or None while nothing answers."""
    try:
        response = loopback.get(f"http://127.0.0.1:{port}/metrics", timeout=5, headers={"Connection": "close"})
    except httpx.TransportError:
        return None
    return response.text if response.status_code == 200 else None


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one series in a Prometheus text exposition, or None when it is absent."""
    for line in metrics.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(3))
    return None


def leads(port: int) -> bool | None:
    """Whether the worker whose metrics are on ``port`` leads the scheduler; None before it answers."""
    metrics = scrape(port)
    if metrics is None:
        return None
    return sample(metrics, "opscenter_scheduler_leader") == 1.0
