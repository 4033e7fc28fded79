"""A hostile upload against a real server process, measured from outside: how long the answer took and how large
it was, how much the server's resident memory grew (read from /proc), and how other clients fared meanwhile.

The server runs as ``opscenter serve`` in its own process so that its memory is its own. A watchdog kills it
when it grows past ``KILL_GROWTH`` (a regression must fail the test, not take the machine down).
"""

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from opscenter.settings import Settings
from tests import loopback
from tests.factories import Identity
from tests.processes import OpsCenterProcess, eventually, free_port

MIB = 1024 * 1024
KILL_GROWTH = 1024 * MIB
# What a hostile upload may cost, at most: its answer's time and size, the server's memory, another client's wait.
ANSWER_SECONDS = 10.0
ANSWER_BYTES = 256 * 1024
GROWTH = 100 * MIB
SIDE_SECONDS = 3.0


def _status_field(pid: int, name: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/<pid>/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(name)


@dataclass
class Server:
    process: OpsCenterProcess
    base_url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss(self) -> int:
        return _status_field(self.pid, "VmRSS")

    def peak(self) -> int:
        return _status_field(self.pid, "VmHWM")

    def reset_peak(self) -> None:
        """Make the kernel's high-water mark the current resident size (clear_refs, Linux 4.0+)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def alive(self) -> bool:
        return self.process.process.poll() is None


@contextlib.contextmanager
def serving(settings: Settings, log: Path, **env: str) -> Iterator[Server]:
    """``opscenter serve`` (one process, no scheduler) on the tests' database, up and answering."""
    port = free_port()
    environment = {"OPSCENTER_DATABASE_URL": settings.database_url, "OPSCENTER_LOG_LEVEL": "WARNING", **env}
    with OpsCenterProcess(["serve", "--no-scheduler", "--port", str(port)], env=environment, log=log) as process:
        base_url = f"http://127.0.0.1:{port}"

        def health() -> bool:
            if process.process.poll() is not None:
                raise AssertionError(f"serve exited:\n{process.output()}")
            try:
                return loopback.get(f"{base_url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        eventually(health, within=60, what="serve answered /health")
        yield Server(process, base_url)


@dataclass(frozen=True)
class SideAnswer:
    what: str
    status: int | None  # None: no answer at all (the connection failed or timed out)
    seconds: float
    overlapped: bool  # sent while the hostile upload was still waiting for its answer


@dataclass
class Measured:
    status: int | None
    seconds: float
    size: int
    growth: int  # bytes: the server's peak resident size during the upload, beyond its size before
    body: bytes
    killed: bool
    side: list[SideAnswer] = field(default_factory=list)

    def figures(self) -> str:
        return f"status {self.status}, {self.seconds:.2f} s, {self.size:,} bytes, RSS +{self.growth / MIB:.1f} MiB" + (
            " (killed by the watchdog)" if self.killed else ""
        )

    def slowest_side(self) -> SideAnswer | None:
        return max(self.side, key=lambda answer: answer.seconds, default=None)


SideCall = tuple[str, Callable[[], httpx.Response]]


def measure(server: Server, send: Callable[[], httpx.Response], side: list[SideCall]) -> Measured:
    """Send one hostile request while ``side`` calls go round and round from other clients; the figures."""
    server.reset_peak()
    before = server.rss()
    done = threading.Event()
    killed = threading.Event()
    answers: list[SideAnswer] = []

    def watchdog() -> None:
        while not done.is_set():
            with contextlib.suppress(OSError, LookupError):
                if server.rss() - before > KILL_GROWTH:
                    killed.set()
                    server.process.kill()
                    return
            time.sleep(0.02)

    def other_clients() -> None:
        while not done.is_set():
            for what, call in side:
                overlapped = not done.is_set()
                started = time.monotonic()
                try:
                    status: int | None = call().status_code
                except httpx.HTTPError:
                    status = None
                answers.append(SideAnswer(what, status, time.monotonic() - started, overlapped))
            time.sleep(0.02)

    threads = [threading.Thread(target=watchdog, daemon=True), threading.Thread(target=other_clients, daemon=True)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)  # the other clients are under way before the upload starts
    started = time.monotonic()
    try:
        response: httpx.Response | None = send()
    except httpx.HTTPError:
        response = None
    seconds = time.monotonic() - started
    try:
        growth = server.peak() - before
    except (OSError, LookupError):  # killed by the watchdog: gone from /proc, or a zombie without memory
        growth = KILL_GROWTH
    done.set()
    for thread in threads:
        thread.join(timeout=120)
    body = response.content if response is not None else b""
    return Measured(
        status=response.status_code if response is not None else None,
        seconds=seconds,
        size=len(body),
        growth=growth,
        body=body,
        killed=killed.is_set(),
        side=answers,
    )


def record(name: str, measured: Measured) -> None:
    """Append the figures to ``$OPSCENTER_UPLOAD_FIGURES`` when set (how the report's table was made)."""
    target = os.environ.get("OPSCENTER_UPLOAD_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            slowest = measured.slowest_side()
            side = f"; slowest other request {slowest.what} {slowest.status} {slowest.seconds:.2f} s" if slowest else ""
            out.write(f"{name}: {measured.figures()}{side}\n")


def client(server: Server, who: Identity) -> httpx.Client:
    return loopback.client(base_url=server.base_url, headers={"Authorization": f"Bearer {who.key}"}, timeout=120)


def others(server: Server, who: Identity) -> list[SideCall]:
    """Another department reading its batches and opening one: a read and a write, each a short request."""
    other = client(server, who)
    return [
        ("GET /api/v1/handovers", lambda: other.get("/api/v1/handovers", params={"limit": "5"})),
        (
            "POST /api/v1/handovers",
            lambda: other.post("/api/v1/handovers", json={"title": "公安局移交", "planned_date": "2027-02-01"}),
        ),
    ]


def assert_others_served(measured: Measured) -> None:
    assert any(answer.overlapped for answer in measured.side), "no other request was made during the upload"
    for answer in measured.side:
        assert answer.status in (200, 201), f"{answer.what} answered {answer.status} during the upload"
        assert answer.seconds < SIDE_SECONDS, f"{answer.what} took {answer.seconds:.1f} s during the upload"
