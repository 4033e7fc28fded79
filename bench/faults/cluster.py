"""The parts a fault run starts and breaks: a private PostgreSQL (``initdb`` in a temporary directory, ``pg_ctl`` on
a free loopback port — never the machine's shared server), and the uvicorn workers of ``opscenter serve``."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from tests.processes import free_port


class PrivatePostgres:
    """A PostgreSQL cluster of its own under ``root``: started, restarted as a crash would (``-m immediate``),
    stopped and removed with the run. As root, ``initdb`` and ``pg_ctl`` run as the ``postgres`` user (PostgreSQL
    refuses to run as root)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        self.log = root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/opscenter"

    def _run(self, *command: str) -> None:
        as_root = os.geteuid() == 0
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command] if as_root else list(command),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.root.parent.chmod(0o711)  # a temporary directory is 0700: let the postgres user through
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        self.start()
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE opscenter")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "120", "start")

    def restart_immediately(self) -> float:
        """``pg_ctl restart -m immediate``: every backend killed, crash recovery on start. Returns when the server
        accepts connections again (``-w``), the monotonic instant it did."""
        # -l again: without it the new postmaster writes to (and holds open) this process's pipe
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "immediate", "-w", "-t", "120", "restart")
        return time.monotonic()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (uvicorn's worker processes, for ``opscenter serve --workers N``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if parent == pid:
            found.append(int(stat.parent.name))
    return found


def api_workers(pid: int) -> list[int]:
    """The serving processes under ``opscenter serve`` (multiprocessing's helpers, e.g. its resource tracker, not)."""
    workers = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"resource_tracker" not in command:
            workers.append(child)
    return workers


def serving_now(pids: list[int], port: int) -> int | None:
    """One of ``pids`` holding an established connection on ``port`` (a request in flight), or None."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rpartition(":")[2], 16) == port:  # 01: ESTABLISHED
                established.add(fields[9])  # the socket's inode
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in established for link in links):
            return pid
    return None
