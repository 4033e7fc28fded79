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
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from litestar import Litestar, post  # noqa: E402
from litestar.di import NamedDependency, Provide  # noqa: E402
from sqlmodel import Field, Session, SQLModel  # noqa: E402

from bench.harness import (  # noqa: E402
    Figure,
    Load,
    Server,
    check,
    databases,
    drive,
    identity,
    opscenter_server,
    print_figures,
    require_tools,
    settings_for,
)
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

    app = sync_app(url) if variant == "sync" else async_app(url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def variant_server(variant: str, url: str) -> Server:
    return Server([sys.executable, __file__, "--serve", variant, "--url", url], {}, "/rows")


def prepare(url: str) -> str:
    """The bench table for the variants, and an admin's key for OpsCenter's own endpoint."""
    from opscenter.db import Database

    database = Database(settings_for(url))
    BenchRow.__table__.create(database.engine, checkfirst=True)  # type: ignore[attr-defined]
    database.dispose()
    _, key = identity(url, user_name="bench.admin", role="admin", org_name="政务服务数据管理局", org_kind="bureau")
    return key


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
    require_tools()
    rows = Load("POST /rows", "/rows", method="POST", body="{}")
    with databases() as urls:
        for name, url in urls.items():
            key = prepare(url)
            figures: list[Figure] = []
            for variant in ("async", "sync"):
                with variant_server(variant, url) as server:
                    baseline = None if variant == "async" else "async: POST /rows"
                    load = replace(rows, name=f"{variant}: POST /rows", baseline=baseline)
                    check(server, load, expect=201)
                    figures.append(drive(server, load, seconds=args.seconds, connections=args.connections))
            with opscenter_server(url) as server:
                organizations = Load(
                    "OpsCenter POST /api/v1/organizations (auth, audit)",
                    "/api/v1/organizations",
                    method="POST",
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                    body='{"name": "部门-{n}", "kind": "department"}',
                    baseline="async: POST /rows",
                )
                check(server, organizations, expect=201)
                figures.append(drive(server, organizations, seconds=args.seconds, connections=args.connections))
            print_figures(f"{name}: sync vs async sessions, one row inserted per request", figures)


if __name__ == "__main__":
    main()
