"""List pages from a PostgreSQL streaming replica (``OPSCENTER_DATABASE_REPLICA_URL``), when one is set.

What reads there (the web layer decides: ``opscenter.web.reads_from_replica``): a GET whose answer is a
list page (``CursorPage``), unless its handler says ``opt={"replica": False}``; a GET handler may opt in
with ``opt={"replica": True}``. Everything else reads from the primary: single objects (so the ETag a
client fetches for ``If-Match`` right after its own write is always current), writes, authentication,
jobs, the CLI. The wiring builds the replica (when one is set) and keeps it beside the database.

The trade-off: a replica lags the primary by its replication delay (milliseconds on a healthy LAN,
more under load or after a network hiccup). A list fetched right after a write may not show it yet;
a fetch by id always does. Lists are snapshots anyway (the next page may differ from the last), so
clients that must see their own write read it by id.

When the replica fails (cannot connect, drops connections, its schema is behind the migrations),
the request that met the failure answers 503 with Retry-After, and lists read from the primary for
``OPSCENTER_REPLICA_RETRY_SECONDS`` (30 s) before the replica is tried again; ``/ready`` probes it
and says which one lists use. A replica never takes the API down.
"""

import logging
import time

from sqlalchemy import event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from monitoring.metrics import DATABASE_UP
from opscenter.db import create_db_engine
from opscenter.migrate import Migrations, current_revisions
from opscenter.settings import Settings

log = logging.getLogger(__name__)


class ReadReplica:
    """The replica's engine and a circuit breaker: a failing replica hands its reads back to the primary."""

    def __init__(self, settings: Settings, migrations: Migrations) -> None:
        self.migrations = migrations  # a replica behind them is not used
        self.engine = create_db_engine(settings, replica=True)
        self._sessions = sessionmaker(self.engine, class_=Session, expire_on_commit=False)
        self._retry_seconds = settings.replica_retry_seconds
        self._down_until = 0.0
        event.listen(self.engine, "handle_error", self._on_error)
        DATABASE_UP.labels(database="replica").set(1)

    @property
    def up(self) -> bool:
        return time.monotonic() >= self._down_until

    def session(self) -> Session | None:
        """A read session on the replica, or None while it is considered down."""
        return self._sessions() if self.up else None

    def check(self) -> str:
        """For ``/ready``: ``ok``, or what is wrong (and then lists read from the primary for a while)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                current = current_revisions(connection)
        except Exception as exc:
            self.mark_down(f"unreachable: {type(exc).__name__}")
            return f"unreachable: {type(exc).__name__}; lists read from the primary"
        heads = self.migrations.heads
        if current != heads:
            state = f"at {', '.join(sorted(current)) or 'no revision'}, head is {', '.join(sorted(heads))}"
            self.mark_down(state)
            return f"{state}; lists read from the primary"
        self.mark_up()
        return "ok"

    def mark_down(self, reason: str) -> None:
        if self.up:
            log.warning("replica: %s; lists read from the primary for %.0f s", reason, self._retry_seconds)
        self._down_until = time.monotonic() + self._retry_seconds
        DATABASE_UP.labels(database="replica").set(0)

    def mark_up(self) -> None:
        self._down_until = 0.0
        DATABASE_UP.labels(database="replica").set(1)

    def dispose(self) -> None:
        self.engine.dispose()

    def _on_error(self, context: ExceptionContext) -> None:
        # Connection trouble, not a query's own error (a statement timeout is the query's business).
        connecting = context.connection is None and isinstance(context.sqlalchemy_exception, OperationalError)
        if context.is_disconnect or connecting:
            self.mark_down(f"connection failed: {type(context.original_exception).__name__}")
