"""The baseline for a write: a bare Litestar endpoint that inserts one row into the same database.

No authentication, no validation, no audit: one ``INSERT`` in one transaction, in a worker thread
(sync SQLAlchemy, as OpsCenter's handlers), over the same engine configuration OpsCenter uses
(WAL and ``BEGIN IMMEDIATE`` on SQLite, the same pool). Served by uvicorn as ``opscenter serve`` is.

    python -m bench.bare --url sqlite:///path.db --port 8001
"""

import argparse
import uuid

import uvicorn
from litestar import Litestar, get, post
from sqlalchemy import Column, MetaData, String, Table, Uuid

from opscenter.db import Database
from opscenter.settings import LogLevel, Settings

bench_row = Table(
    "bench_row",
    MetaData(),
    Column("id", Uuid, primary_key=True),
    Column("note", String(32), nullable=False),
)


def create_bare_app(url: str) -> Litestar:
    database = Database(Settings(database_url=url, log_level=LogLevel.WARNING))
    bench_row.create(database.engine, checkfirst=True)
    engine = database.write_engine

    @post("/rows", sync_to_thread=True)
    def insert() -> dict[str, str]:
        row_id = uuid.uuid4()
        with engine.begin() as connection:
            connection.execute(bench_row.insert().values(id=row_id, note="x"))
        return {"id": str(row_id)}

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar([insert, health], on_shutdown=[lambda: database.dispose()])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_bare_app(args.url), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
