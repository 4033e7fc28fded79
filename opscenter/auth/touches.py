"""API keys' last-used times, written behind the requests that used them: authenticating never writes.

When a key was last used is bookkeeping (an admin looks for keys nobody uses any more, to revoke them), kept to
the minute (``api_key_touch_interval_seconds``). Writing it in the request that used the key made a read need
the write lock: on SQLite behind whatever write transaction was open (a job's, another request's), on PostgreSQL
behind a lock on the key's row, for as long as those took. So a request only notes the key here, in memory, and
goes on; one thread of the process writes the noted keys, all that are waiting in one short transaction, one
UPDATE per key that is still stale. A request never waits for it. What is not written yet when the process stops
is written by ``stop()``; a crash loses at most the last few seconds of touches, which the next use redoes.
"""

import logging
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from opscenter.auth.service import touch_keys
from opscenter.db import Database


class Writer(Protocol):
    def __call__(self, session: Session, used: Mapping[uuid.UUID, datetime], *, touch_interval: timedelta) -> None: ...


log = logging.getLogger(__name__)

MAX_WAITING = 10_000  # keys noted and not written yet; beyond it a touch is dropped (the next use notes it again)
RETRY_SECONDS = 1.0  # after a failed write (database away or locked), wait this long before the next try


class KeyTouches:
    """Keys used and not yet written, and the thread that writes them. The console's sessions are noted the same
    way (their last-seen time, from which the idle timeout counts), by a second instance with their own ``writer``
    (``opscenter.auth.sessions.touch_sessions``)."""

    def __init__(
        self, db: Database, *, touch_interval: timedelta, writer: Writer = touch_keys, name: str = "api-key-touches"
    ) -> None:
        self.db = db
        self.touch_interval = touch_interval
        self.writer = writer
        self.name = name
        self._lock = threading.Lock()
        self._waiting: dict[uuid.UUID, datetime] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def note(self, api_key_id: uuid.UUID, used_at: datetime) -> None:
        """Remember that the key was used at ``used_at``; written soon, by the writer thread. Never blocks."""
        with self._lock:
            if api_key_id not in self._waiting and len(self._waiting) >= MAX_WAITING:
                return
            self._waiting[api_key_id] = max(used_at, self._waiting.get(api_key_id, used_at))
        self._wake.set()

    def write(self) -> int:
        """Write every key noted so far, in one transaction; returns how many were noted. On failure the keys stay
        noted (unless noted again meanwhile with a later time) and the error is raised."""
        with self._lock:
            batch, self._waiting = self._waiting, {}
        if not batch:
            return 0
        try:
            with self.db.transaction(write=True) as session:
                self.writer(session, batch, touch_interval=self.touch_interval)
        except BaseException:
            with self._lock:
                for key_id, used_at in batch.items():
                    self._waiting[key_id] = max(used_at, self._waiting.get(key_id, used_at))
            raise
        return len(batch)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the writer thread after it wrote what was noted."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                self.write()
            except Exception:
                log.warning("%s: could not record the last uses yet; trying again", self.name, exc_info=True)
                if self._stopping.wait(RETRY_SECONDS):
                    return
                self._wake.set()
                continue
            if self._stopping.is_set():
                return
