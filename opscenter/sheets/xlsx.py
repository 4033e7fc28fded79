"""The first sheet of an XLSX workbook as rows of text, read with every cost bounded.

An XLSX file is a ZIP archive of XML parts, and a general-purpose reader (openpyxl) follows whatever the parts say:
a 1.5 MB file whose one cell unpacks to 1.5 GB, a million blank rows, a number cell holding NaN. This reader opens
only the parts a table needs (the package and workbook relationships, the workbook, the first worksheet, its
shared strings and cell styles) and:

- refuses an archive whose central directory is far larger than a workbook's, an encrypted part, or a compression
  other than deflate;
- counts what the parts unpack to against ``Limits.unpacked_bytes``: the sizes the archive declares before reading,
  and the bytes as they come, each part read as a stream;
- parses XML with expat itself, refusing any DTD: an OOXML part never has one, and without one there are no entity
  declarations, internal (a billion laughs) or external (a file of the server's). expat holds a whole tag, comment
  or processing instruction before reporting it, so no piece of markup may be longer than ``MAX_TOKEN_BYTES``;
- refuses a row numbered beyond ``Limits.rows`` + 1 (blank rows are numbered too), rows or cells out of order, a
  value beyond ``Limits.columns``, a cell longer than ``Limits.cell_chars``; and checks the deadline as it goes;
- keeps the shared strings as one UTF-8 buffer and its offsets, not a Python string each.

Anything in a part that is not what the format says (XML that is not well-formed, a shared string past the end of
the table, a number that is NaN, a date cell that is no date) is an ``UnreadableFile`` naming the part or the cell.
"""

from itertools import chain

from opscenter.sheets.bounds import Deadline, Limits, Table, UnreadableFile
from opscenter.sheets.xlsx_archive import MAX_DIRECTORY_BYTES, MAX_TOKEN_BYTES, Budget, open_archive
from opscenter.sheets.xlsx_parts import Strings, Styles, cell_styles, locate, shared_strings
from opscenter.sheets.xlsx_sheet import Sheet

__all__ = ["MAX_DIRECTORY_BYTES", "MAX_TOKEN_BYTES", "read_xlsx"]


def read_xlsx(content: bytes, limits: Limits, deadline: Deadline) -> Table:
    """The first worksheet of ``content`` (an XLSX file): its row 1 as the header, the rows below with values."""
    archive = open_archive(content)
    budget = Budget(limits.unpacked_bytes)
    parts = locate(archive, budget, deadline)
    budget.declared(archive, [name for name in (parts.sheet, parts.strings, parts.styles) if name])
    strings = shared_strings(archive, parts.strings, limits, budget, deadline) if parts.strings else Strings()
    styles = cell_styles(archive, parts.styles, budget, deadline) if parts.styles else Styles()
    sheet = Sheet(strings, styles, limits, deadline, date1904=parts.date1904)
    rows = sheet.rows(archive, parts.sheet, budget)
    first = next(rows, None)
    if first is None:
        raise UnreadableFile("the sheet is empty")
    if first[0] == 1:
        return Table(first[1], rows)
    return Table([], chain([first], rows))
