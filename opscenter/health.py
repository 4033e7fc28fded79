"""Liveness and readiness, for load balancers and orchestrators. No authentication."""

from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec
from sqlalchemy import text

from monitoring.metrics import DATABASE_UP
from opscenter.db import Database
from opscenter.migrate import Migrations, current_revisions
from opscenter.replica import ReadReplica

PUBLIC = {"exclude_from_auth": True, "public": True}


class HealthController(Controller):
    path = "/"
    tags = ["operations"]
    opt = PUBLIC
    include_in_schema = True

    @get("/health", description="The process is up.")
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        description="The database answers and its schema is at the migrations' head; else 503. With a read "
        "replica set, its state too (`replica`): a failing replica only sends lists to the primary (`degraded`).",
        responses={503: ResponseSpec(dict[str, Any], description="Not ready: see `checks`.", generate_examples=False)},
    )
    async def ready(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        db: Database = request.app.state.db
        replica: ReadReplica | None = request.app.state.replica
        migrations: Migrations = request.app.state.migrations
        checks = await anyio.to_thread.run_sync(_check_database, db, migrations)
        ready = all(value == "ok" for value in checks.values())
        DATABASE_UP.labels(database="primary").set(1 if checks["database"] == "ok" else 0)
        status = "ready" if ready else "unavailable"
        if replica is not None:
            checks["replica"] = await anyio.to_thread.run_sync(replica.check)
            if ready and checks["replica"] != "ok":
                status = "degraded"
        return Response({"status": status, "checks": checks}, status_code=200 if ready else 503)


def _check_database(db: Database, migrations: Migrations) -> dict[str, str]:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = current_revisions(connection)
    except Exception as exc:
        return {"database": f"unreachable: {type(exc).__name__}", "migrations": "unknown"}
    heads = migrations.heads
    if current == heads:
        migration_state = "ok"
    elif not current:
        migration_state = "not migrated: run `opscenter db upgrade`"
    else:
        migration_state = f"at {', '.join(sorted(current))}, head is {', '.join(sorted(heads))}"
    return {"database": "ok", "migrations": migration_state}
