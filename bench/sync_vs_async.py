"""Sync or async database sessions under Litestar? Measured, not guessed.

Builds its own databases (a SQLite file in WAL mode and a scratch PostgreSQL database), serves one
endpoint that inserts one row, and loads it with wrk (50 connections) in two ways:

- sync  (what OpsCenter does): a sync SQLModel session in a ``sync_to_thread`` handler;
- async (the baseline): an async SQLAlchemy session (aiosqlite / psycopg async) in an async handler.

Then the real OpsCenter endpoint (``POST /api/v1/organizations``: auth, validation, insert, audit
event on the hash chain) for context. Prints requests/s for each and the sync/async ratio.

    .venv/bin/python bench/sync_vs_async.py [--seconds 10] [--connections 50]
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from litestar import Litestar, post  # noqa: E402
from litestar.di import NamedDependency, Provide  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import Field, Session, SQLModel  # noqa: E402

from opscenter.db import sqlalchemy_url  # noqa: E402


class BenchRow(SQLModel, table=True):
    __tablename__ = "bench_row"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    note: str = "x"


def _sqlite_pragmas(engine: object) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: object, _: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def sync_app(url: str) -> Litestar:
    """OpsCenter's own machinery: its Database (BEGIN IMMEDIATE on SQLite), session provider and route decorator."""
    from opscenter.db import Database
    from opscenter.settings import Settings
    from opscenter.web import post as opscenter_post
    from opscenter.web import provide_session

    def start(app: Litestar) -> None:
        app.state.db = Database(Settings(database_url=url, db_pool_size=20))

    @opscenter_post("/rows")
    def insert(session: NamedDependency[Session]) -> dict[str, str]:
        row = BenchRow()
        session.add(row)
        session.flush()
        return {"id": str(row.id)}

    return Litestar(
        [insert], dependencies={"session": Provide(provide_session, sync_to_thread=False)}, on_startup=[start]
    )


def async_app(url: str) -> Litestar:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    sa_url = sqlalchemy_url(url)
    if sa_url.get_backend_name() == "sqlite":
        sa_url = sa_url.set(drivername="sqlite+aiosqlite")
        engine = create_async_engine(sa_url, pool_size=20, max_overflow=20)
        _sqlite_pragmas(engine.sync_engine)
    else:
        engine = create_async_engine(sa_url, pool_size=20, max_overflow=20)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def provide_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session
            await session.commit()

    @post("/rows")
    async def insert(session: NamedDependency[AsyncSession]) -> dict[str, str]:
        row = BenchRow()
        session.add(row)
        await session.flush()
        return {"id": str(row.id)}

    return Litestar([insert], dependencies={"session": Provide(provide_session)})


def serve_variant(variant: str, url: str, port: int) -> None:
    import uvicorn

    if variant == "opscenter":
        from opscenter.app import create_app
        from opscenter.settings import Settings

        app = create_app(Settings(database_url=url, log_level="WARNING"))
    else:
        app = sync_app(url) if variant == "sync" else async_app(url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(variant: str, url: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", variant, "--url", url, "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


WRK_POST = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"name": "部门-%s-%d-%d", "kind": "department"}', id_prefix, thread_id, counter)
  return wrk.format("POST", path, headers, body)
end
"""


def run_wrk(base: str, path: str, seconds: int, connections: int, headers: dict[str, str], body_script: bool) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        header_lines = "".join(f'headers["{k}"] = "{v}"\n' for k, v in headers.items())
        script.write(f'path = "{path}"\nheaders = {{}}\n{header_lines}id_prefix = "{uuid.uuid4().hex[:8]}"\n')
        if body_script:
            script.write(WRK_POST)
        else:
            script.write('request = function() return wrk.format("POST", path, headers, "{}") end\n')
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script.name, base],
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(script.name)
    for line in result.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            errors = [raw for raw in result.stdout.splitlines() if "Non-2xx" in raw or "Socket errors" in raw]
            if errors:
                print("   wrk:", "; ".join(e.strip() for e in errors))
            return float(line.split()[1])
    raise RuntimeError(result.stdout + result.stderr)


@contextmanager
def databases() -> Iterator[dict[str, str]]:
    from tests.support import postgres_database

    folder = tempfile.mkdtemp(prefix="opscenter-bench-")
    try:
        with postgres_database("opscenter_bench") as pg_url:
            yield {"sqlite": f"sqlite:///{folder}/bench.db", "postgresql": pg_url}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def prepare(url: str) -> str:
    """Migrate, add the bench table, create an admin; return the admin's key."""
    from opscenter.db import Database
    from opscenter.migrate import upgrade
    from opscenter.organizations.models import OrgKind, Role
    from opscenter.settings import Settings
    from tests.factories import identity

    settings = Settings(database_url=url, log_level="WARNING")
    upgrade(settings)
    database = Database(settings)
    BenchRow.__table__.create(database.engine, checkfirst=True)  # type: ignore[attr-defined]
    admin = identity(
        database, user_name="bench.admin", role=Role.ADMIN, org_name="政务服务数据管理局", org_kind=OrgKind.BUREAU
    )
    with database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    database.dispose()
    return admin.key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--serve")
    parser.add_argument("--url")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        serve_variant(args.serve, args.url, args.port)
        return
    if shutil.which("wrk") is None:
        sys.exit("bench needs wrk: apt-get install wrk")

    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s, one row inserted per request, {os.cpu_count()} cores")
    with databases() as urls:
        for name, url in urls.items():
            key = prepare(url)
            figures = {}
            for variant in ("sync", "async"):
                with server(variant, url) as base:
                    figures[variant] = run_wrk(base, "/rows", args.seconds, args.connections, {}, body_script=False)
            with server("opscenter", url) as base:
                figures["opscenter"] = run_wrk(
                    base,
                    "/api/v1/organizations",
                    args.seconds,
                    args.connections,
                    {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                    body_script=True,
                )
            print(
                f"{name:>10}: sync {figures['sync']:8.0f} req/s | async (baseline) {figures['async']:8.0f} req/s"
                f" | sync/async {figures['sync'] / figures['async']:.2f}x"
                f" | OpsCenter POST /organizations (auth+audit) {figures['opscenter']:6.0f} req/s"
            )


if __name__ == "__main__":
    main()
