"""Server processes on free loopback ports, pinned when asked; and sampling them with py-spy."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.harness.command import BIN, ROOT, SERVER_CPU
from tests import loopback

# ---- servers ----------------------------------------------------------------------------------------------------


def pinned(pin: bool, cpu: str) -> list[str]:
    return ["taskset", "-c", cpu] if pin else []


class Server:
    """A server process (and its workers) on a free loopback port, pinned to ``SERVER_CPU`` when asked, run from
    the checkout (so ``python -m bench.…`` finds this package), stopped on exit."""

    def __init__(self, command: list[str], env: Mapping[str, str], *, ready_path: str, pin: bool = False) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._command = [*pinned(pin, SERVER_CPU), *command, "--port", str(self.port)]
        self._env = {**os.environ, **env}
        self._ready_path = ready_path
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server, closed in __exit__
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(
            self._command, env=self._env, cwd=ROOT, stdout=self._log, stderr=self._log, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if loopback.get(self.base_url + self._ready_path, timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"server did not start: {self.output()}")

    def __exit__(self, *_: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def pids(self) -> list[int]:
        """The server's process and its descendants (uvicorn's workers)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(stat.parent.name))
        found, queue = [], [self.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            queue.extend(children.get(pid, []))
        return found

    def rss_mib(self) -> float:
        """Resident memory of the server's processes now (VmRSS), MiB."""
        kib = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kib += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        return kib / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time the server's processes have used so far."""
        return sum(cpu_seconds(pid) or 0.0 for pid in self.pids())

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process, or None when it is not (or no longer) on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# wrk sends thousands of requests a second with one key: the rate limits count them (their cost is in every
# figure, as in production) but never refuse one. bench/rate_limits.py measures that cost against limits off.
UNREACHED_RATE_LIMITS = {
    f"OPSCENTER_RATE_LIMIT_{name}": "1000000000" for name in ("READS", "WRITES", "BATCHES", "EXPORTS", "REFUSED")
}


def opscenter_server(url: str, *, pin: bool = False, workers: int = 1, **settings: str) -> Server:
    """The real thing: ``opscenter serve --no-scheduler`` (``--workers N``), ready once ``/ready`` answers 200."""
    env = {"OPSCENTER_DATABASE_URL": url, "OPSCENTER_LOG_LEVEL": "WARNING", **UNREACHED_RATE_LIMITS}
    env.update({f"OPSCENTER_{name.upper()}": value for name, value in settings.items()})
    command = [str(BIN / "opscenter"), "serve", "--no-scheduler", "--workers", str(workers)]
    return Server(command, env, ready_path="/ready", pin=pin)


def module_server(
    module: str, *arguments: str, pin: bool = False, ready_path: str = "/health", env: Mapping[str, str] | None = None
) -> Server:
    """A benchmark's own server: ``python -m <module> <arguments> --port N`` (a baseline, a variant)."""
    return Server([sys.executable, "-m", module, *arguments], env or {}, ready_path=ready_path, pin=pin)


def floor_server(url: str, *, pin: bool = False) -> Server:
    """OpsCenter plus the house floor of a write: an audited POST without its SQL (``bench/floor.py``)."""
    # the house's settings as opscenter_server gives them: rate limits that a load never reaches (the floor's
    # answers were 429s past the default limit, thousands a run)
    return module_server("bench.floor", "--url", url, pin=pin, env=UNREACHED_RATE_LIMITS)


def bare_server(url: str, *, pin: bool = False) -> Server:
    """The baseline of a write: a bare Litestar endpoint inserting one row per request (``bench/bare.py``)."""
    return module_server("bench.bare", "--url", url, pin=pin)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_tools(*tools: str) -> None:
    """Stop with the install command when a tool is missing (wrk, and taskset when pinning)."""
    packages = {"wrk": "wrk", "taskset": "util-linux", "prometheus": "prometheus", "promtool": "prometheus"}
    for tool in tools:
        if shutil.which(tool) is None:
            sys.exit(f"this benchmark needs {tool}: apt-get install {packages.get(tool, tool)}")


# ---- profiling --------------------------------------------------------------------------------------------------


@contextmanager
def profiled(server: Server, out: Path | None) -> Iterator[None]:
    """Sample the server with py-spy while the block runs (collapsed stacks in ``out``); nothing if ``out`` is None."""
    if out is None:
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    # --gil: only the thread holding the GIL, so threads waiting for it do not count as work
    command = [spy, "record", "--pid", str(server.pid), "--format", "raw", "--rate", "200", "--gil", "--nonblocking"]
    process = subprocess.Popen([*command, "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def print_profile(name: str, collapsed: Path, *, limit: int = 30) -> None:
    """The functions most often on the stack (inclusive), then most often on top (own time)."""
    print(f"   profile of {name} ({collapsed}): share of samples")
    for own in (False, True):
        print("   own time:" if own else "   inclusive:")
        for frame, share in top_frames(collapsed, limit=limit if not own else limit // 2, own=own):
            print(f"     {share:6.1%}  {frame}")


def top_frames(collapsed: Path, *, limit: int = 25, own: bool = False) -> list[tuple[str, float]]:
    """Share of samples in which each function appears (inclusive), or is the innermost frame (``own``)."""
    counts: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue  # py-spy ends the file with an empty line
        samples = int(number)
        total += samples
        frames = stack.split(";")
        names = {frames[-1]} if own else set(frames)
        for name in names:
            counts[name] = counts.get(name, 0) + samples
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:limit]
    return [(name, count / max(total, 1)) for name, count in ranked]
