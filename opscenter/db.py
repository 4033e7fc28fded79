"""The database: one engine per process, sessions per transaction, and the column types every model shares.

SQLite (the embedded default) runs in WAL mode with foreign keys on; a write transaction takes the
write lock when it begins (``BEGIN IMMEDIATE``) so concurrent writers queue on ``busy_timeout``
instead of failing half-way with "database is locked". Reads begin deferred and never block writers.
PostgreSQL is the production database. Services ``flush()``; whoever opens the transaction commits.
"""

import collections
import enum
import itertools
import json
import operator
import os
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any, Protocol, TypeVar

from sqlalchemy import JSON, Connection, DateTime, Dialect, Engine, Table, create_engine, event, insert
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import declared_attr, make_transient_to_detached, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel

from opscenter.errors import PreconditionFailed
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow

# Constraint names that Alembic can reproduce and SQLite batch mode can find again.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_WRITE = "opscenter_write"
_HOLDS_WRITER = "opscenter_holds_writer"
T = TypeVar("T")


def new_id() -> uuid.UUID:
    """A UUIDv7: random enough to be unguessable, time-ordered so ids sort by creation."""
    millis = time.time_ns() // 1_000_000
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on every database; naive values are refused on the way in.

    SQLite has no timezone type, so instants are stored there as naive UTC and made aware again
    on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        # TypeDecorator answers ``object``; keyset cursors (opscenter.pagination) read instants back by it.
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def instant_field(*, nullable: bool = False, index: bool = False, **kwargs: Any) -> Any:
    """A column for an aware UTC instant."""
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index, **kwargs)


def enum_field(enum: type[StrEnum], **kwargs: Any) -> Any:
    """A column that stores an enum's lowercase value (not its Python name) as plain text."""
    column_type = SAEnum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
    return Field(sa_type=column_type, **kwargs)


class Identified(SQLModel):
    """One id scheme for every resource: a UUIDv7 primary key."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)


class Timestamped(SQLModel):
    created_at: datetime = instant_field(default_factory=utcnow)
    updated_at: datetime = instant_field(default_factory=utcnow, sa_column_kwargs={"onupdate": utcnow})


class Versioned(SQLModel):
    """Optimistic concurrency: every UPDATE says ``WHERE id = ? AND version = ?`` and bumps the version.

    SQLAlchemy's ``version_id_col`` issues that conditional UPDATE and raises ``StaleDataError`` when
    no row matched; the error layer answers 412. The version is also the object's ETag.
    """

    version: int = Field(default=1, ge=1)

    def require_version(self, expected: int) -> None:
        """Refuse (412) a change made against a version that is no longer the current one."""
        if self.version != expected:
            raise PreconditionFailed(
                f"The object is at version {self.version}, not {expected}; fetch it again and retry."
            )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def sqlalchemy_url(database_url: str) -> URL:
    """Plain ``sqlite:///path`` and ``postgresql://…`` URLs, with the driver chosen here."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def create_db_engine(settings: Settings, *, replica: bool = False) -> Engine:
    """The engine of the primary database, or with ``replica`` of the read replica (read-only sessions)."""
    url = sqlalchemy_url((replica and settings.database_replica_url) or settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings)
    options = "-c timezone=UTC"
    if settings.db_statement_timeout_ms:
        options += f" -c statement_timeout={settings.db_statement_timeout_ms}"
    connect_args: dict[str, Any] = {"application_name": f"opscenter-{os.getpid()}"}
    if replica:
        # A standby refuses writes anyway; saying so makes a stand-in (or a promoted replica) refuse them too.
        # A dead replica must not hold a request long: lists fall back to the primary (opscenter/replica.py).
        options += " -c default_transaction_read_only=on"
        connect_args["connect_timeout"] = 3
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        connect_args={"options": options, **connect_args},
    )


def _sqlite_engine(url: URL, settings: Settings) -> Engine:
    if url.database and url.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(url.database)), exist_ok=True)
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # The pool hands a connection to whichever thread checks one out next: each is used by one thread at a
        # time, but not always by the thread that opened it.
        connect_args={"check_same_thread": False, "timeout": settings.sqlite_busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself instead of pysqlite's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.close()

    # Writers of this process queue here, in order, before they ask SQLite for its write lock: SQLite's own
    # busy handler sleeps in growing steps (up to 100 ms) and lets latecomers overtake, which turns fifty
    # concurrent writers into seconds of tail latency. Other processes still meet busy_timeout.
    writer = WriterQueue()
    wait_seconds = settings.sqlite_busy_timeout_ms / 1000

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        if not write:
            connection.exec_driver_sql("BEGIN")
            return
        held = connection.connection.info  # the pooled connection's own dict, as ``record.info`` at checkin
        if not held.get(_HOLDS_WRITER):
            if not writer.acquire(timeout=wait_seconds):
                raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
            held[_HOLDS_WRITER] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _release(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # A connection goes back to the pool only after its transaction committed or rolled back.
        if record.info.pop(_HOLDS_WRITER, False):
            writer.release()

    return engine


class Transactions(Protocol):
    """Whatever opens transactions as ``Database.transaction`` does: work that opens its own short transactions
    (a job's steps) takes one of these rather than a session."""

    def transaction(self, *, write: bool) -> AbstractContextManager[Session]: ...


class WithinTransaction:
    """``Transactions`` that are all one transaction, the caller's, which it ends: for work that opens its own
    transactions (a job's steps) when a caller wants it inside one of its own (an API request, the demo's seeding,
    a benchmark that rolls back)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Session]:
        yield self.session


class WriterQueue:
    """A lock handed to its waiters in the order they came (``threading.Lock`` is not: a thread that releases it and
    asks again at once usually gets it back before the waiter wakes).

    A job that writes in many short transactions (a day of measurements, a batch of seals) releases the writer
    between them; handed over in order, a request that came meanwhile waits for one of those transactions, never
    for the whole job.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: collections.deque[threading.Event] = collections.deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ended
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # the next in line holds it now: nobody can overtake
            else:
                self._held = False


class Database:
    """The engine and two session factories: read transactions and write transactions."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_db_engine(settings)
        self._reads = sessionmaker(self.engine, class_=Session, expire_on_commit=False)
        self._writes = sessionmaker(
            self.engine.execution_options(**{_WRITE: True}), class_=Session, expire_on_commit=False
        )
        self._single_reads = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    @property
    def write_engine(self) -> Engine:
        return self.engine.execution_options(**{_WRITE: True})

    def session(self, *, write: bool) -> Session:
        """A new session; its transaction begins at its first statement. End it with ``finish``."""
        return (self._writes if write else self._reads)()

    @staticmethod
    def finish(session: Session, *, commit: bool) -> None:
        """Commit if asked, then close; closing without a commit rolls the transaction back.

        Loaded objects stay readable afterwards: nothing expires on commit, and close() detaches
        them instead of expiring them as rollback() would.
        """
        try:
            if commit:
                session.commit()
        finally:
            session.close()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Session]:
        """One transaction: committed when a write block ends normally, rolled back otherwise."""
        session = self.session(write=write)
        try:
            yield session
        except BaseException:
            self.finish(session, commit=False)
            raise
        self.finish(session, commit=write)

    @contextmanager
    def single_read(self) -> Iterator[Connection]:
        """A connection for one read statement (a statement sees one snapshot on its own). On PostgreSQL in
        autocommit: no BEGIN and ROLLBACK round trips around it, half of what a read transaction of one statement
        costs there. SQLite: a read transaction, as ``transaction(write=False)`` (its BEGIN is in process)."""
        with self._single_reads.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()


def core_table(model: type[SQLModel]) -> Table:
    """A model's Core table. Hot read paths select plain columns from it: a Core query skips the ORM's
    per-statement work (about half the cost of a small query)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert plain rows (dicts with the same keys) in the session's transaction, without ORM objects.

    On PostgreSQL through COPY: for 10,000 handover items about twice as fast as a pipelined executemany, in
    this process and in the server (for 10,000 SLA measurements 0.15 s against 0.30 s). A row that breaks a
    constraint fails the whole COPY (raised as psycopg's error). On SQLite an executemany per 1,000 rows, each
    one prepared statement already.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for start in range(0, len(rows), 1000):
            session.execute(insert(table), list(rows[start : start + 1000]))
        return
    names = list(rows[0])
    # Only JSON and enum columns need a value made copyable; the rest psycopg adapts as they are.
    converted = [
        (at, convert) for at, name in enumerate(names) if (convert := _copyable(table.c[name].type)) is not None
    ]
    quote = connection.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    values = operator.itemgetter(*names)
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            line = list(values(row)) if len(names) > 1 else [values(row)]
            for at, convert in converted:
                line[at] = convert(line[at])
            copy.write_row(line)


_JSON_TEXT = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps with options builds one per call


def _copyable(column_type: Any) -> Callable[[Any], Any] | None:
    """What makes a value of a column of ``column_type`` copyable: JSON as text, an enum by its value."""
    if isinstance(column_type, JSON):
        return _JSON_TEXT
    if isinstance(column_type, SAEnum):
        return lambda value: value.value if isinstance(value, enum.Enum) else value
    return None


def insert_new(session: Session, rows: Sequence[SQLModel]) -> None:
    """Insert ``rows``, objects only created in this transaction, and keep them in the session as if read from the
    database: later changes to them are flushed as UPDATEs, as usual. Give parents before their children.

    Plain INSERTs (a batch of one table as one executemany), without the unit of work: for a row that is only
    inserted, its flush (sorting the session's objects, diffing every attribute, post-processing each row) costs
    more than the INSERT itself. The rows must be complete, as their constructors make them (ids, timestamps,
    versions set); a null where the column has a default leaves it to the default. Whatever else the session holds
    pending is flushed first.
    """
    session.flush()
    connection = session.connection()
    for table, same_table in itertools.groupby(rows, key=lambda row: row.__table__):  # type: ignore[attr-defined]
        values = [_values(row, table) for row in same_table]
        if len(values) > 1 and all(one.keys() == values[0].keys() for one in values):
            connection.execute(_plain_insert(table), values)  # a batch: one executemany, sent in batches of rows
        else:
            for one in values:
                connection.execute(_plain_insert(table), one)
    for row in rows:
        make_transient_to_detached(row)
    session.add_all(rows)


def _values(row: SQLModel, table: Table) -> dict[str, Any]:
    return {
        column.key: value
        for column in table.columns
        if (value := getattr(row, column.key)) is not None or (column.default is None and column.server_default is None)
    }


@cache
def _plain_insert(table: Table) -> Any:
    return insert(table)  # built once per table


def insert_or_skip(session: Session, model: type[SQLModel], values: dict[str, Any], *, unique: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING id``: the new row's id, or None when a row with
    that unique key exists already.

    Under a race the second insert waits for the transaction holding the same key to end, then skips
    (PostgreSQL) — so the loser can read the winner's committed row instead of failing; SQLite write
    transactions are serialized anyway. ``values`` must give every column (no ORM defaults apply).
    """
    connection = session.connection()
    statement = _insert_or_skip_statement(connection.dialect.name, model, tuple(unique))
    return connection.execute(statement, values).scalar()


@cache
def _insert_or_skip_statement(dialect: str, model: type[SQLModel], unique: tuple[str, ...]) -> Any:
    # Built once and executed with parameters: building it per call (values inlined) costs more than the insert.
    table = model.__table__  # type: ignore[attr-defined]
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)
