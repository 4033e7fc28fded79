"""Test plumbing: databases created for the run, a real HTTP server, and an API client."""

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import psycopg
import uvicorn
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from opscenter.audit.models import GENESIS_HASH
from opscenter.db import Database
from tests import loopback

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# The test apps' OPSCENTER_METRICS_TOKEN: what a scraper sends for the business figures on /metrics.
METRICS_TOKEN = "test-metrics-token-7f3a9c"


UNREACHED_RATE_LIMITS: dict[str, object] = {
    f"rate_limit_{name}": 1_000_000_000 for name in ("reads", "writes", "batches", "exports", "refused")
}


def scrape(base_url: str, *, token: str | None = METRICS_TOKEN) -> str:
    """The text of ``/metrics`` as Prometheus reads it with the metrics token (``token=None``: as anyone does)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = loopback.get(f"{base_url}/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.text


T = TypeVar("T")


def postgres_admin_url() -> str:
    return os.environ.get("OPSCENTER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for this run; dropped afterwards."""
    admin_url = make_url(postgres_admin_url())
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wipe(db: Database) -> None:
    """Delete every row (children first) and reset the audit chain, so each test starts from nothing."""
    with db.transaction(write=True) as session:
        if db.engine.dialect.name == "postgresql":
            # The audit trail refuses DELETE by trigger; only a superuser in replica mode gets past it.
            session.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name == "audit_chain_head":
                session.execute(table.update().values(seq=0, hash=GENESIS_HASH))
            else:
                session.execute(table.delete())


class RunningServer:
    """A real uvicorn server on a free loopback port, in a thread of the test process."""

    def __init__(self, app: Litestar) -> None:
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", proxy_headers=False)
        )
        self._thread = threading.Thread(target=self._server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> "RunningServer":
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=60)
        # a server still stopping (its scheduler waiting on a job) would go on beside the next test
        assert not self._thread.is_alive(), "the test server did not stop within 60 s"


class Api:
    """An HTTP client acting with one API key."""

    def __init__(self, base_url: str, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = loopback.client(base_url, headers=headers, timeout=30)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.patch(path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.put(path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.delete(path, **kwargs)

    def act(self, path: str, action: str, json: Any = None) -> httpx.Response:
        """A workflow action, with If-Match taken from a fresh GET of the object."""
        current = self.get(path)
        assert current.status_code == 200, current.text
        return self.post(f"{path}/{action}", json=json, headers={"If-Match": current.headers["ETag"]})

    def close(self) -> None:
        self.http.close()


def race(*calls: Callable[[], T]) -> list[T]:
    """Start every call at the same instant, each in its own thread; their answers, in call order."""
    barrier = threading.Barrier(len(calls))
    answers: list[T | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers), "a racer failed without an answer"
    return [answer for answer in answers if answer is not None]
