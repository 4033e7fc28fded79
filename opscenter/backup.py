"""``opscenter db backup``: a consistent copy of the embedded database while it serves.

SQLite's online backup API copies the database page by page under its own read snapshot, so writers go on and the
copy is the database as of one instant: every committed transaction before it, none after, the audit chain whole.
Steps of ``PAGES_PER_STEP`` pages let writers in between. On PostgreSQL this is ``pg_dump``'s work (README,
"Backup and restore").
"""

import sqlite3
from collections.abc import Callable
from pathlib import Path

from opscenter.db import sqlalchemy_url

PAGES_PER_STEP = 1024  # 4 MiB at SQLite's default page size; writers wait at most one step


class NotSQLite(Exception):
    """The database is not a SQLite file: back it up with the server's own tools."""


def backup_sqlite(database_url: str, target: Path, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Copy the SQLite database of ``database_url`` to ``target`` (which must not exist); returns its pages."""
    url = sqlalchemy_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise NotSQLite(database_url.split("://", 1)[0])
    if target.exists():
        raise FileExistsError(f"{target} exists; not overwritten")
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(
            copy,
            pages=PAGES_PER_STEP,
            progress=(lambda _status, remaining, total: progress(total - remaining, total)) if progress else None,
        )
        pages: int = copy.execute("PRAGMA page_count").fetchone()[0]
    finally:
        copy.close()
        source.close()
    return pages
