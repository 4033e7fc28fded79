"""Every export the API offers, written one way: CSV (UTF-8 with BOM) or XLSX, streamed at constant memory.

A domain describes its file as a ``Sheet``: Chinese headers and what kind of value each column holds, and hands
over its rows as an iterator of Python values (read in short transactions, see ``paged``). This module writes them
as people open them in Excel and WPS:

- numbers as numbers: money (``int`` fen, or a ``Decimal`` of yuan as the API answers it) as ``¥#,##0.00``,
  percentages (a ``Decimal`` of percent points, ``99.40``) as ``0.00%``, decimals as ``0.00``, integers as ``0``,
  dates as dates, instants as Asia/Shanghai date-times (``yyyy-mm-dd hh:mm``), so a column can be summed;
- text as text, never a formula: in XLSX a string cell whatever it starts with (openpyxl would write text starting
  with ``=`` as a formula), in CSV an apostrophe before text starting with ``= + - @``, a tab or a CR (OWASP's
  advice against CSV injection; ``opscenter.sheets.read_table`` takes it off again on import);
- a frozen header row, an autofilter over the header, and column widths estimated from the header and the first
  rows (a CJK character counts double);
- a figure that is not measured is marked by its ``SOURCE`` column (``Mark``), highlighted in XLSX;
- a text in a figure's column (a total row's ``合计``) is written as text.

The CSV is written as it is read; the XLSX is built by openpyxl in write-only mode (rows go straight to a temporary
file, only the styles stay in memory) and then streamed from that file, so 100,000 rows cost no more memory than 100.
"""

import codecs
import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from itertools import islice
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote

from litestar.response import Stream
from sqlalchemy import select
from sqlmodel import Session

from opscenter.db import Transactions
from opscenter.sheets import FORMULA_START
from opscenter.timekeeping import SHANGHAI

__all__ = [
    "CSV_MEDIA_TYPE",
    "SPREADSHEET_MEDIA_TYPES",
    "XLSX_MEDIA_TYPE",
    "Column",
    "ExportFormat",
    "Kind",
    "Mark",
    "Sheet",
    "csv_chunks",
    "export",
    "names",
    "paged",
    "write_xlsx",
]

# Litestar appends "; charset=utf-8" to a text/* media type itself.
CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPREADSHEET_MEDIA_TYPES = (CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE)
"""What an export route answers, for its ``opt={FILE_DOWNLOAD: SPREADSHEET_MEDIA_TYPES}`` (opscenter/openapi.py)."""


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class Kind(Enum):
    """What a column holds: how its cells are written (value, number format) in XLSX and CSV."""

    TEXT = "text"
    MONEY = "money"  # int: fen; Decimal: yuan
    PERCENT = "percent"  # Decimal percent points: 99.40 is 99.40 %
    DECIMAL = "decimal"  # two places: a score, a coefficient
    INTEGER = "integer"
    DATE = "date"
    INSTANT = "instant"  # an aware datetime, shown in Asia/Shanghai
    SOURCE = "source"  # a Mark: where a figure beside it comes from


NUMBER_FORMATS = {
    Kind.MONEY: "¥#,##0.00",
    Kind.PERCENT: "0.00%",
    Kind.DECIMAL: "0.00",
    Kind.INTEGER: "0",
    Kind.DATE: "yyyy-mm-dd",
    Kind.INSTANT: "yyyy-mm-dd hh:mm",
}


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT


@dataclass(frozen=True)
class Mark:
    """Where a figure comes from (``实测``, ``人工核定（申诉）``): ``manual`` ones are highlighted in XLSX."""

    label: str
    manual: bool = False


@dataclass(frozen=True)
class Sheet:
    """One export: its file name (without extension), its worksheet's title and its columns."""

    filename: str
    title: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]


Row = Sequence[Any]
C = TypeVar("C")

# Control characters XML 1.0 (and so XLSX) cannot hold.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CHUNK_ROWS = 1000  # CSV rows encoded per chunk sent
_FILE_CHUNK = 256 * 1024  # bytes of a built workbook sent at a time
_SAMPLED_ROWS = 200  # rows the column widths are estimated from
_MIN_WIDTH, _MAX_WIDTH = 6, 60
_CELL_CHARS = 32767  # Excel's limit for the text of one cell
_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


def escape(text: str) -> str:
    """Text as a CSV cell: an apostrophe before what Excel would run as a formula (and before a leading one)."""
    return "'" + text if text.startswith((*FORMULA_START, "'")) else text


def _yuan(value: int | Decimal) -> Decimal:
    return (Decimal(value) / 100).quantize(_CENT) if isinstance(value, int) else value.quantize(_CENT)


def _local(instant: datetime) -> datetime:
    """An instant as Asia/Shanghai wall time, without a zone (a spreadsheet has none)."""
    if instant.tzinfo is None:
        raise ValueError("an instant must be aware (UTC)")
    return instant.astimezone(SHANGHAI).replace(tzinfo=None)


def csv_cell(kind: Kind, value: Any) -> str:
    """One value as CSV text: numbers plain (``128000.00``, ``99.40%``), text defused."""
    if value is None:
        return ""
    if isinstance(value, str):  # a label in a figure's column (a total row's 合计): text
        return escape(value)
    if kind is Kind.MONEY:
        return f"{_yuan(value):f}"
    if kind is Kind.PERCENT:
        return f"{Decimal(value).quantize(_CENT):f}%"
    if kind is Kind.DECIMAL:
        return f"{Decimal(value).quantize(_CENT):f}"
    if kind is Kind.INTEGER:
        return str(int(value))
    if kind is Kind.DATE:
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind is Kind.INSTANT:
        return _local(value).strftime("%Y-%m-%d %H:%M:%S")
    if kind is Kind.SOURCE and isinstance(value, Mark):
        return escape(value.label)
    return escape(str(value))


def csv_chunks(sheet: Sheet, rows: Iterable[Row]) -> Iterator[bytes]:
    """The CSV file in pieces: UTF-8 with a BOM (Excel then reads Chinese), CRLF line ends."""
    kinds = [column.kind for column in sheet.columns]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([escape(header) for header in sheet.headers])
    yield codecs.BOM_UTF8 + _drain(buffer)
    iterator = iter(rows)
    while chunk := list(islice(iterator, _CHUNK_ROWS)):
        writer.writerows([csv_cell(kind, value) for kind, value in zip(kinds, row, strict=True)] for row in chunk)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def display_width(text: str) -> int:
    """Columns a text takes in Excel: a wide (CJK) character counts double."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _widths(sheet: Sheet, sample: list[Row]) -> list[int]:
    widths = []
    for position, column in enumerate(sheet.columns):
        texts = [csv_cell(column.kind, row[position]) for row in sample]
        widest = max([display_width(column.header), *(display_width(text) for text in texts)])
        if column.kind is Kind.MONEY:
            widest += 2 + widest // 3  # the ¥ and the thousands separators the format adds
        elif column.kind is Kind.INSTANT:
            widest = max(widest - 3, display_width(column.header))  # shown without seconds
        widths.append(min(max(widest + 2, _MIN_WIDTH), _MAX_WIDTH))
    return widths


def write_xlsx(sheet: Sheet, rows: Iterable[Row], target: BinaryIO) -> int:
    """The workbook (one worksheet) written to ``target``; returns the number of rows below the header."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=_sheet_title(sheet.title))
    iterator = iter(rows)
    sample = list(islice(iterator, _SAMPLED_ROWS))
    # Widths and the frozen pane are written before the first row (write-only mode), the filter after the last.
    for position, width in enumerate(_widths(sheet, sample), start=1):
        worksheet.column_dimensions[get_column_letter(position)].width = width
    worksheet.freeze_panes = "A2"

    def styled(value: Any, number_format: str | None = None, **style: Any) -> Any:
        cell = WriteOnlyCell(worksheet, value=value)
        if number_format is not None:
            cell.number_format = number_format
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    def template(kind: Kind) -> Any:
        return styled(None, NUMBER_FORMATS.get(kind))._style

    styles = {kind: template(kind) for kind in NUMBER_FORMATS}
    manual = styled(None, font=Font(bold=True, color="9C5700"), fill=PatternFill("solid", fgColor="FFEB9C"))._style

    def text_cell(text: str, style: Any = None) -> Any:
        cell: Any = WriteOnlyCell(worksheet, value=None)
        # a string, never a formula; at most what a cell holds (openpyxl cuts a plain str there too)
        cell._value, cell.data_type = _XML_ILLEGAL.sub("", text)[:_CELL_CHARS], "s"
        if style is not None:
            cell._style = style
        return cell

    def number_cell(value: Any, kind: Kind) -> Any:
        cell: Any = WriteOnlyCell(worksheet, value=value)
        cell._style = styles[kind]
        return cell

    def cells(row: Row) -> list[Any]:
        out: list[Any] = []
        for column, value in zip(sheet.columns, row, strict=True):
            kind = column.kind
            if value is None:
                out.append(None)
            elif kind is Kind.TEXT or isinstance(value, str):
                text = _XML_ILLEGAL.sub("", str(value))
                # openpyxl writes a plain str as a string cell, except one starting with "=": that one as a formula
                out.append(text_cell(text) if text.startswith("=") else text)
            elif kind is Kind.SOURCE:
                mark = value if isinstance(value, Mark) else Mark(str(value))
                out.append(text_cell(mark.label, manual if mark.manual else None))
            elif kind is Kind.MONEY:
                out.append(number_cell(_yuan(value), kind))
            elif kind is Kind.PERCENT:
                out.append(number_cell(Decimal(value) / _HUNDRED, kind))
            elif kind is Kind.DECIMAL:
                out.append(number_cell(Decimal(value).quantize(_CENT), kind))
            elif kind is Kind.INTEGER:
                out.append(number_cell(int(value), kind))
            elif kind is Kind.DATE:
                out.append(number_cell(value, kind))
            else:
                out.append(number_cell(_local(value), kind))
        return out

    bold = Font(bold=True)
    worksheet.append([text_cell(header, styled(None, font=bold)._style) for header in sheet.headers])
    count = 0
    for row in sample:
        worksheet.append(cells(row))
        count += 1
    for row in iterator:
        worksheet.append(cells(row))
        count += 1
    worksheet.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{count + 1}"
    workbook.save(target)
    return count


_TITLE_ILLEGAL = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    return _TITLE_ILLEGAL.sub("-", title)[:31] or "Sheet1"


def xlsx_chunks(sheet: Sheet, rows: Iterable[Row]) -> Iterator[bytes]:
    """The workbook built in a temporary file (constant memory), then read back in pieces."""
    with tempfile.TemporaryFile() as built:
        write_xlsx(sheet, rows, built)
        built.seek(0)
        while chunk := built.read(_FILE_CHUNK):
            yield chunk


def export(sheet: Sheet, rows: Iterable[Row], file_format: ExportFormat) -> Stream:
    """The controllers' answer: the file as a streamed attachment, ``<filename>.csv`` or ``.xlsx``.

    ``rows`` is iterated while the answer is sent, after the request's transaction has ended: read it in short
    transactions of its own (``paged``), never from the request's session.
    """
    if file_format is ExportFormat.XLSX:
        content, media_type, name = xlsx_chunks(sheet, rows), XLSX_MEDIA_TYPE, f"{sheet.filename}.xlsx"
    else:
        content, media_type, name = csv_chunks(sheet, rows), CSV_MEDIA_TYPE, f"{sheet.filename}.csv"
    return Stream(content, media_type=media_type, headers={"Content-Disposition": attachment(name)})


def attachment(name: str) -> str:
    """``Content-Disposition`` for a file name that may hold any character (a contract number in Chinese, a quote):
    an ASCII stand-in for old clients, and the name itself as RFC 6266 / 5987 ``filename*`` in UTF-8."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if plain == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def names(
    session: Session, model: Any, ids: Iterable[Any], *, attribute: str = "name", fallback: str = ""
) -> dict[Any, str]:
    """``id → name`` of the rows of ``model`` among ``ids`` (None ignored): one query, for a batch of rows. A row
    whose ``attribute`` is empty is named by its ``fallback`` attribute (a user's login name for no display name)."""
    wanted = {value for value in ids if value is not None}
    if not wanted:
        return {}
    shown = [getattr(model, attribute), getattr(model, fallback or attribute)]
    query = select(model.id, *shown).where(model.id.in_(list(wanted)))
    return {row[0]: row[1] or row[2] for row in session.execute(query)}


def paged(
    transactions: Transactions, read: Callable[[Session, C | None], tuple[Sequence[Row], C | None]]
) -> Iterator[Row]:
    """Rows read a batch at a time, each batch in a short read transaction of its own.

    ``read(session, after)`` answers a batch of rows and what the next batch starts after (a list's
    ``next_cursor``, or a key), None after the last. No transaction (and no pooled connection) is held while the
    rows are written and sent, so a slow download holds up nobody.
    """
    after: C | None = None
    while True:
        with transactions.transaction(write=False) as session:
            rows, after = read(session, after)
        yield from rows
        if after is None:
            return
