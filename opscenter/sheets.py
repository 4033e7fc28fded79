"""Spreadsheet files as plain tables: read a CSV (UTF-8 with or without BOM, or GB18030) or an XLSX workbook
into rows of text, and write rows as CSV (UTF-8 with BOM, so Excel reads Chinese) or XLSX; every export the
API offers (the asset register, a handover inventory, a statement) is answered through ``download``.

Rows are numbered as a spreadsheet numbers them: the header is row 1, and a quoted cell spanning several
physical lines is still one row, so the numbers in an error match what the user sees in Excel.
"""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from litestar import Response

# openpyxl is imported where a workbook is read or written: imported with the app it would add 6 MiB to every
# serving process's memory (and 45 ms to its start) for the few requests that exchange XLSX files.

# Litestar appends "; charset=utf-8" to a text/* media type itself.
CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_ZIP_MAGIC = b"PK\x03\x04"
# Excel runs a cell that starts with one of these as a formula ("CSV injection"): CSV exports put an
# apostrophe before such text (and before text starting with an apostrophe), and CSV imports take one off
# again, so a round trip is exact.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters XML 1.0 (and so XLSX) cannot hold.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class UnreadableFile(Exception):
    """The bytes are not a table we can read; ``line`` is the row at which reading failed, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number, cells as text), blank rows left out


def read_table(content: bytes) -> Table:
    """The first sheet of an XLSX workbook, or a CSV file, as a header and numbered rows of text."""
    if content.startswith(_ZIP_MAGIC):
        return _read_xlsx(content)
    return _read_csv(_decode(content))


def _decode(content: bytes) -> str:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile("UTF-16 text (Excel's 'Unicode Text') is not supported: save as 'CSV UTF-8' instead")
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableFile("the file starts with a UTF-8 byte order mark but is not UTF-8") from exc
    # GB18030 is a superset of GBK and GB2312: what Excel writes as plain "CSV" on a Chinese Windows.
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the file is neither UTF-8 nor GB18030 text, nor an XLSX workbook")


def _read_csv(text: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UnreadableFile(f"not a readable CSV header: {exc}", line=1) from exc
    if header is None:
        raise UnreadableFile("the file is empty")

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        while True:
            number += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise UnreadableFile(f"not readable as CSV: {exc}", line=number) from exc
            if any(cell.strip() for cell in cells):
                yield number, [_unescape(cell) for cell in cells]

    return Table([_unescape(cell) for cell in header], rows())


def _unescape(cell: str) -> str:
    return cell[1:] if cell[:1] == "'" and cell[1:].startswith((*_FORMULA_START, "'")) else cell


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(f"not a readable XLSX workbook: {exc}") from exc
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        raise UnreadableFile("the workbook has no sheet")
    numbered = enumerate(sheet.iter_rows(values_only=True), start=1)
    first = next(numbered, None)
    if first is None:
        raise UnreadableFile("the sheet is empty")
    header = [_text(value) for value in first[1]]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in numbered:
                cells = [_text(value) for value in values]
                if any(cell.strip() for cell in cells):
                    yield number, cells
        finally:
            workbook.close()

    return Table(header, rows())


def _text(value: Any) -> str:
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


def write_csv(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """UTF-8 with a BOM (Excel then reads Chinese correctly), CRLF line ends, formula-looking text defused."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_escape(cell) for cell in row] for row in rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def _escape(cell: str) -> str:
    return "'" + cell if cell.startswith((*_FORMULA_START, "'")) else cell


def write_xlsx(title: str, header: list[str], rows: Iterable[list[str]]) -> bytes:
    """One sheet; every cell is text (never a formula), so Excel shows exactly what the register holds."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])

    def text(value: str) -> Any:  # a Cell (openpyxl's WriteOnlyCell is a function making one)
        cell = WriteOnlyCell(sheet, value=_XML_ILLEGAL.sub("", value))
        cell.data_type = "s"  # openpyxl would take text starting with "=" for a formula
        return cell

    sheet.append([text(value) for value in header])
    for row in rows:
        sheet.append([text(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


SPREADSHEET_MEDIA_TYPES = (CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE)
"""What an export route answers, for its ``opt={FILE_DOWNLOAD: SPREADSHEET_MEDIA_TYPES}`` (opscenter/openapi.py)."""


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    media_type: str
    filename: str


def spreadsheet(
    name: str, sheet: str, header: list[str], rows: Iterable[list[Any]], file_format: ExportFormat
) -> ExportFile:
    """Rows under a header as ``name``.csv or ``name``.xlsx (one sheet called ``sheet``)."""
    if file_format == ExportFormat.XLSX:
        return ExportFile(write_xlsx(sheet, header, rows), XLSX_MEDIA_TYPE, f"{name}.xlsx")
    return ExportFile(write_csv(header, rows), CSV_MEDIA_TYPE, f"{name}.csv")


def download(file: ExportFile) -> Response[bytes]:
    """The controllers' answer: the file as an attachment."""
    disposition = f'attachment; filename="{file.filename}"'
    return Response(file.content, media_type=file.media_type, headers={"Content-Disposition": disposition})
