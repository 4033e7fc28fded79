"""Sync or async database sessions under Litestar? Measured, not guessed.

Builds its own databases (a SQLite file in WAL mode and a scratch PostgreSQL database), serves one
endpoint that inserts one row, and loads it with wrk (50 connections) in two ways:

- sync  (what OpsCenter does): a sync SQLModel session in a ``sync_to_thread`` handler;
- async (the baseline): an async SQLAlchemy session (aiosqlite / psycopg async) in an async handler.

Then the real OpsCenter endpoint (``POST /api/v1/organizations``: auth, validation, insert, audit
event) for context. Prints requests/s for each and the sync/async ratio.

    .venv/bin/python -m bench.sync_vs_async [--db sqlite|postgresql|both] [--seconds 10] [--connections 50] [--pin]
"""

import argparse
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

from litestar import Litestar, get, post
from litestar.di import NamedDependency, Provide
from sqlmodel import Field, Session, SQLModel

from bench.harness import (
    Figure,
    Load,
    Server,
    arguments,
    check,
    chosen,
    databases,
    drive,
    each,
    module_server,
    opscenter_server,
    options,
    print_figures,
    require_tools,
    settings_for,
)
from opscenter.db import sqlalchemy_url


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


@get("/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


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
        [insert, ready], dependencies={"session": Provide(provide_session, sync_to_thread=False)}, on_startup=[start]
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

    return Litestar([insert, ready], dependencies={"session": Provide(provide_session)})


def serve_variant(variant: str, url: str, port: int) -> None:
    import uvicorn

    app = sync_app(url) if variant == "sync" else async_app(url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def variant_server(variant: str, url: str, *, pin: bool) -> Server:
    return module_server("bench.sync_vs_async", "--serve", variant, "--url", url, pin=pin, ready_path="/ready")


def prepare(url: str) -> str:
    """The bench table for the variants, and an admin's key for OpsCenter's own endpoint."""
    from opscenter.db import Database
    from opscenter.identity.models import OrgKind, Role
    from tests.factories import identity

    database = Database(settings_for(url))
    try:
        BenchRow.__table__.create(database.engine, checkfirst=True)  # type: ignore[attr-defined]
        admin = identity(
            database, user_name="bench.admin", role=Role.ADMIN, org_name="政务服务数据管理局", org_kind=OrgKind.BUREAU
        )
    finally:
        database.dispose()
    return admin.key


def main() -> None:
    parser = arguments(__doc__, load=True)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_variant(args.serve, args.url, args.port)
        return
    require_tools(*([] if args.requests else ["wrk"]), *(["taskset"] if args.pin else []))
    load = options(args)
    rows = Load("POST /rows", "/rows", method="POST", body="{}")
    with databases(chosen(args)) as urls:
        for name, url in urls.items():
            key = prepare(url)
            figures: list[Figure] = []
            for variant in ("async", "sync"):
                with variant_server(variant, url, pin=args.pin) as server:
                    baseline = None if variant == "async" else "async: POST /rows"
                    request = replace(rows, name=f"{variant}: POST /rows", baseline=baseline)
                    check(server, request, expect=201)
                    figures.append(drive(server, request, load))
            with opscenter_server(url, pin=args.pin) as server:
                organizations = Load(
                    "OpsCenter POST /api/v1/organizations (auth, audit)",
                    "/api/v1/organizations",
                    method="POST",
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                    body='{"name": "部门-{n}", "kind": "department"}',
                    baseline="async: POST /rows",
                )
                check(server, organizations, expect=201)
                figures.append(drive(server, organizations, load))
            print_figures(f"{name}: sync vs async sessions, one row inserted per request, {each(load)}", figures)


if __name__ == "__main__":
    main()
