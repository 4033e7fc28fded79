"""What one uploaded file may make the server do, how a refusal reads, and a table as the readers give it: shared
by the CSV reader (``opscenter.sheets``) and the XLSX reader (``opscenter.sheets.xlsx``)."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

MIB = 1024 * 1024
# One CSV row (all its physical lines): a real inventory row is a few hundred characters, a spec at most 4,000.
MAX_ROW_CHARS = MIB


class UnreadableFile(Exception):
    """The bytes are not a table we can read, or more of one than we read; ``line`` is the row at which reading
    failed, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Limits:
    """What one uploaded file may make the server do. A file beyond any of them is refused whole, with the
    limit named: these bound the memory, time and answer a file can cost, whatever its bytes say."""

    rows: int = 20_000  # below the header, blank ones included (a blank row costs reading too)
    cell_chars: int = 32_768
    columns: int = 100  # the columns that hold values; an inventory has 8 to 14
    unpacked_bytes: int = 48 * MIB  # what the parts of a workbook read (sheet, shared strings, styles) unpack to
    seconds: float = 20.0  # of processor time, to read and check the whole file


class Deadline:
    """The time a file may take to read and check; ``check`` refuses the file once it has passed.

    Processor time of the thread reading the file (the one that made the deadline), not time on the clock: what
    a file costs the server, whatever else the server is doing. On a busy server twelve honest files read at
    once each take longer on the clock, and none of them is refused for it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.thread_time() + seconds

    def check(self) -> None:
        if time.thread_time() > self._at:
            raise UnreadableFile(
                f"reading the file took more than {self.seconds:g} seconds of processor time, the most a file may: "
                "split it into smaller files"
            )


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number, cells as text), blank rows left out


def quoted(text: str, most: int = 40) -> str:
    """``text`` as a message quotes it, cut short: a cell may hold 32,768 characters, an answer lists hundreds."""
    return repr(text if len(text) <= most else text[:most] + "…")


def too_many_rows(limits: Limits) -> str:
    return f"more than {limits.rows} rows below the header (blank rows count too): split the file"


def too_wide(width: int, limits: Limits) -> str:
    return f"values in {width} columns; a file may use at most {limits.columns} columns"


def cell_text(value: Any) -> str:
    """A cell's value as the text a CSV would hold. Numbers come back as the shortest text that round-trips,
    so a money cell typed as 1234.56 reads "1234.56" and is then parsed as a Decimal, never summed as a float."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
