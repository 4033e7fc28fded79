"""Spreadsheet files as plain tables: read a CSV (UTF-8 with or without BOM, or GB18030) or an XLSX workbook
into rows of text. Every export the API offers is written by ``opscenter.exports``.

Rows are numbered as a spreadsheet numbers them: the header is row 1, and a quoted cell spanning several
physical lines is still one row, so the numbers in an error match what the user sees in Excel.
"""

import codecs
import csv
import io
from collections.abc import Iterator

from opscenter.sheets import encodings
from opscenter.sheets.bounds import (
    DEFAULT_LIMITS,
    MAX_ROW_CHARS,
    MIB,
    Deadline,
    Limits,
    Table,
    UnreadableFile,
    cell_text,
    quoted,
    too_many_rows,
    too_wide,
)

__all__ = [
    "DEFAULT_LIMITS",
    "FORMULA_START",
    "MAX_ROW_CHARS",
    "Deadline",
    "Limits",
    "Table",
    "UnreadableFile",
    "cell_text",
    "quoted",
    "read_table",
]

# openpyxl is imported where a workbook is written (and by opscenter/sheets/xlsx.py where one is read): imported
# with the app it would add 6 MiB to every serving process's memory (and 45 ms to its start) for the few requests
# that exchange XLSX files.

_CHECK_CHUNK = MIB  # bytes decoded at a time when checking a CSV's encoding
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of .xls, and of an encrypted .xlsx
# Excel runs a cell that starts with one of these as a formula ("CSV injection"): CSV exports put an
# apostrophe before such text (and before text starting with an apostrophe), and CSV imports take one off
# again, so a round trip is exact.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def read_table(content: bytes, limits: Limits = DEFAULT_LIMITS, deadline: Deadline | None = None) -> Table:
    """The first sheet of an XLSX workbook, or a CSV file, as a header and numbered rows of text.

    Reading stops with ``UnreadableFile`` at the first limit the file passes (rows, cell size, columns, what a
    workbook unpacks to, ``deadline``), or at the first thing in it that is not what it claims to be: the rows
    are read as they are iterated, so the error may come from ``rows`` too.
    """
    deadline = deadline or Deadline(limits.seconds)
    if content.startswith(_OLE_MAGIC):
        raise UnreadableFile(
            "an Excel 97-2003 (.xls) or password-protected workbook: save it as .xlsx, without a password"
        )
    if content.startswith(_ZIP_MAGIC):
        from opscenter.sheets.xlsx import read_xlsx

        return read_xlsx(content, limits, deadline)
    return _read_csv(content, limits, deadline)


def _encoding(content: bytes) -> str:
    """The codec that reads ``content`` whole, checked a megabyte at a time (no second copy of the file): UTF-8
    (with or without BOM), else GB18030 if what it decodes to is plausibly Chinese text (``encodings``)."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile(encodings.refusal("UTF-16, Excel's 'Unicode Text'"))
    if content.startswith(codecs.BOM_UTF8):
        if not _decodes(content, "utf-8-sig"):
            raise UnreadableFile(encodings.refusal("it starts with a UTF-8 byte order mark but is not UTF-8"))
        return "utf-8-sig"
    if _decodes(content, "utf-8"):
        return "utf-8"
    # GB18030 is a superset of GBK and GB2312: what Excel writes as plain "CSV" on a Chinese Windows. Nearly any
    # bytes decode as it, so the decoded text must also read as Chinese (a Big5 or Shift_JIS file does not).
    if _decodes(content, "gb18030") and _plausible(content):
        return "gb18030"
    raise UnreadableFile(encodings.refusal("neither UTF-8 nor GB18030 text such as Chinese Excel writes"))


def _plausible(content: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("gb18030")()
    view = memoryview(content)
    for start in range(0, len(content), _CHECK_CHUNK):
        if not encodings.plausible_chinese(decoder.decode(view[start : start + _CHECK_CHUNK])):
            return False
    return encodings.plausible_chinese(decoder.decode(b"", final=True))


def _decodes(content: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(content)
    try:
        for start in range(0, len(content), _CHECK_CHUNK):
            decoder.decode(view[start : start + _CHECK_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


class _Lines:
    """The physical lines of a CSV for ``csv.reader``, decoded as they are read, none of them (and no row,
    however many lines a quoted cell spans) longer than ``MAX_ROW_CHARS``."""

    def __init__(self, content: bytes, encoding: str) -> None:
        self._stream = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
        self.row = 1  # the row being read (the header is row 1)
        self._row_chars = 0

    def start_row(self, number: int) -> None:
        self.row, self._row_chars = number, 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self._stream.readline(MAX_ROW_CHARS + 1)
        if not line:
            raise StopIteration
        self._row_chars += len(line)
        if self._row_chars > MAX_ROW_CHARS:
            raise UnreadableFile(f"row {self.row} is longer than {MAX_ROW_CHARS} characters", line=self.row)
        return line


def _read_csv(content: bytes, limits: Limits, deadline: Deadline) -> Table:
    lines = _Lines(content, _encoding(content))
    reader = csv.reader(lines, strict=True)

    def next_row(number: int) -> list[str] | None:
        lines.start_row(number)
        deadline.check()
        try:
            cells = next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise UnreadableFile(f"a cell is longer than {limits.cell_chars} characters", line=number) from exc
            raise UnreadableFile(f"not readable as CSV: {exc}", line=number) from exc
        return _bounded(number, cells, limits)

    header = next_row(1)
    if header is None:
        raise UnreadableFile("the file is empty")

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        while (cells := next_row(number := number + 1)) is not None:
            if any(cell.strip() for cell in cells):
                yield number, [_unescape(cell) for cell in cells]

    return Table([_unescape(cell) for cell in header], rows())


def _bounded(number: int, cells: list[str], limits: Limits) -> list[str]:
    """The cells of row ``number`` up to its last value, once the row is known to be within ``limits``."""
    if number > limits.rows + 1:
        raise UnreadableFile(too_many_rows(limits), line=number)
    width = len(cells)
    while width and not cells[width - 1].strip():
        width -= 1
    if width > limits.columns:
        raise UnreadableFile(too_wide(width, limits), line=number)
    for position in range(width):
        if len(cells[position]) > limits.cell_chars:
            raise UnreadableFile(
                f"the cell in column {position + 1} is longer than {limits.cell_chars} characters", line=number
            )
    return cells[:width]


def _unescape(cell: str) -> str:
    return cell[1:] if cell[:1] == "'" and cell[1:].startswith((*FORMULA_START, "'")) else cell
