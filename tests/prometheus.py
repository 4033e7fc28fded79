"""A real Prometheus for tests and benchmarks: its own data directory, 127.0.0.1 on a free port, no scrape targets,
data backfilled with ``promtool tsdb create-blocks-from openmetrics``.

The binaries come from Debian's ``prometheus`` package (``scripts/test`` installs it when missing). Without them
this fails loudly: an SLA suite that silently skips its Prometheus tests would prove nothing.
"""

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx

from monitoring.promql import quote
from opscenter.timekeeping import start_of_day
from tests import loopback

CONFIG = "global:\n  scrape_interval: 1m\nscrape_configs: []\n"
BLOCK = "744h"  # 31 days: a month of backfill in one or two blocks


def binaries() -> tuple[str, str]:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus is None or promtool is None:
        raise RuntimeError(
            "prometheus and promtool are needed on PATH (Debian: apt-get install prometheus; scripts/test installs "
            "it when run as root)"
        )
    return prometheus, promtool


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_series(out: IO[str], metric: str, labels: Mapping[str, str], points: Iterable[tuple[int, int]]) -> None:
    """One series in OpenMetrics text: ``points`` are (unix seconds, value), in time order."""
    inside = ",".join(f"{name}={quote(value)}" for name, value in sorted(labels.items()))
    prefix = f"{metric}{{{inside}}} "
    out.writelines(f"{prefix}{value} {at}\n" for at, value in points)


def minutes(first_day: date, last_day: date) -> Iterator[int]:
    """Every whole minute (unix seconds) of the Asia/Shanghai days ``first_day``…``last_day``."""
    start = int(start_of_day(first_day).timestamp())
    end = int(start_of_day(last_day + timedelta(days=1)).timestamp())
    return iter(range(start, end, 60))


def shanghai(text: str) -> int:
    """``"2026-10-05 10:00"`` (Asia/Shanghai) as unix seconds."""
    local = datetime.fromisoformat(text + "+08:00")
    return int(local.astimezone(UTC).timestamp())


class Prometheus:
    """One server: ``backfill`` while stopped, then ``start``; ``stop`` and ``start`` again keep the data."""

    def __init__(self, root: Path) -> None:
        self.prometheus, self.promtool = binaries()
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        (root / "prometheus.yml").write_text(CONFIG)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def backfill(self, openmetrics: Path) -> None:
        """Blocks from an OpenMetrics file (ending ``# EOF``; samples at least 3 h old) into the data directory."""
        subprocess.run(
            [self.promtool, "tsdb", "create-blocks-from", "openmetrics", f"--max-block-duration={BLOCK}",
             str(openmetrics), str(self.data)],
            check=True, capture_output=True, timeout=1800,
        )  # fmt: skip

    def start(self, *, timeout: float = 120.0) -> None:
        log = (self.root / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [self.prometheus, f"--config.file={self.root / 'prometheus.yml'}", f"--storage.tsdb.path={self.data}",
             "--storage.tsdb.retention.time=400d", f"--web.listen-address=127.0.0.1:{self.port}",
             "--query.max-samples=200000000", "--log.level=warn"],
            stdout=log, stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited ({self.process.returncode}); see {self.root / 'prometheus.log'}")
            try:
                if loopback.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"prometheus not ready within {timeout} s; see {self.root / 'prometheus.log'}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextmanager
def running(root: Path, openmetrics: Path) -> Iterator[Prometheus]:
    """A backfilled, started server, stopped at the end."""
    server = Prometheus(root)
    server.backfill(openmetrics)
    server.start()
    try:
        yield server
    finally:
        server.stop()


_REFUSAL_BODY = b'{"status":"error","errorType":"bad_data","error":"the test is over"}'
REFUSAL = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n"
    + f"Content-Length: {len(_REFUSAL_BODY)}\r\n\r\n".encode()
    + _REFUSAL_BODY
)


def refusing_url() -> str:
    """A URL where nothing listens: connections are refused, as on a fresh install without Prometheus."""
    return f"http://127.0.0.1:{free_port()}"


class Hanging:
    """A Prometheus that accepts connections and never answers (wedged, or a firewall that drops the answers): a
    real TCP listener on 127.0.0.1. ``accepted`` counts the connections it holds. Leaving the block answers every
    held and later request with a 400 at once, so a client waiting on it ends without sitting out its read
    timeout; then the listener closes."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._released = threading.Event()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="hanging-prometheus", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Hanging":
        self._acceptor.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._released.set()
        time.sleep(0.5)  # requests sent on the way out get their 400 too
        self._closing.set()
        self._acceptor.join()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            thread = threading.Thread(target=self._hold, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _hold(self, connection: socket.socket) -> None:
        with connection:
            self._released.wait()
            connection.settimeout(0.5)
            with contextlib.suppress(OSError):
                connection.recv(65536)
                connection.sendall(REFUSAL)
