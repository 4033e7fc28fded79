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

import contextlib
import io
import math
import posixpath
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from typing import Any
from xml.parsers import expat

from opscenter.sheets import MIB, Deadline, Limits, Table, UnreadableFile, cell_text, quoted, too_many_rows, too_wide

_CHUNK = 64 * 1024
MAX_TOKEN_BYTES = 256 * 1024
MAX_DIRECTORY_BYTES = 256 * 1024  # a workbook's central directory lists tens of parts in a few kilobytes
MAX_STYLES = 65_536  # cell formats (Excel allows 64,000) or number formats in one workbook
MAX_SHEETS = 1_024  # sheets looked at for the first worksheet
_LAST_ROW, _LAST_COLUMN = 1_048_576, 16_384  # Excel's sheet: rows and columns (XFD)

# Relationship types end with these names, in the transitional and the strict namespaces alike.
_DOCUMENT, _WORKSHEET, _STRINGS, _STYLES = "officeDocument", "worksheet", "sharedStrings", "styles"
# Number formats Chinese Excel writes by id alone for dates and times (年月日, 时分秒): not in openpyxl's table.
_CJK_DATE_FORMATS = frozenset(range(27, 37)) | frozenset(range(50, 59))
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")  # how OOXML writes a character XML cannot hold, e.g. _x000D_
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")


def read_xlsx(content: bytes, limits: Limits, deadline: Deadline) -> Table:
    """The first worksheet of ``content`` (an XLSX file): its row 1 as the header, the rows below with values."""
    archive = _open(content)
    budget = _Budget(limits.unpacked_bytes)
    parts = _locate(archive, budget, deadline)
    budget.declared(archive, [name for name in (parts.sheet, parts.strings, parts.styles) if name])
    strings = _shared_strings(archive, parts.strings, limits, budget, deadline) if parts.strings else _Strings()
    styles = _styles(archive, parts.styles, budget, deadline) if parts.styles else _Styles()
    sheet = _Sheet(strings, styles, limits, deadline, date1904=parts.date1904)
    rows = sheet.rows(archive, parts.sheet, budget)
    first = next(rows, None)
    if first is None:
        raise UnreadableFile("the sheet is empty")
    if first[0] == 1:
        return Table(first[1], rows)
    return Table([], chain([first], rows))


# ---- the archive -------------------------------------------------------------------------------------------------


def _open(content: bytes) -> zipfile.ZipFile:
    directory = _directory_size(content)
    if directory > MAX_DIRECTORY_BYTES:
        raise UnreadableFile(
            f"not a workbook: the archive's directory is {directory} bytes, a workbook's is a few kilobytes"
        )
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error) as exc:
        raise UnreadableFile(f"not a readable XLSX workbook: {exc}") from exc


def _directory_size(content: bytes) -> int:
    """The size of the central directory as the archive's end record states it (where ``zipfile`` looks for it):
    ``zipfile`` reads that many bytes and makes an object of every entry in them. 0 when there is no end record
    (``zipfile`` then refuses the file itself)."""
    end = len(content) - _EOCD.size
    if end < 0:
        return 0
    if content[end : end + 4] != b"PK\x05\x06":
        end = content.rfind(b"PK\x05\x06", max(0, end - 65_535))
        if end < 0 or end + _EOCD.size > len(content):
            return 0
    size: int = _EOCD.unpack_from(content, end)[5]
    locator = end - _EOCD64_LOCATOR.size
    record = locator - _EOCD64.size
    if (
        record >= 0
        and content[locator : locator + 4] == b"PK\x06\x07"
        and content[record : record + 4] == b"PK\x06\x06"
    ):
        size = max(size, _EOCD64.unpack_from(content, record)[8])
    return size


class _Budget:
    """What the parts read so far have unpacked to, against ``Limits.unpacked_bytes``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def _refuse(self, where: str) -> UnreadableFile:
        return UnreadableFile(
            f"the workbook unpacks to more than {self.limit} bytes ({self.limit / MIB:g} MiB), the most a file may: "
            f"{where}"
        )

    def declared(self, archive: zipfile.ZipFile, names: list[str]) -> None:
        """Refuse at once what the archive itself says is too large, before unpacking any of it."""
        infos = [_member(archive, name) for name in names]
        if sum(info.file_size for info in infos) > self.left:
            largest = max(infos, key=lambda info: info.file_size)
            raise self._refuse(f"{largest.filename} alone is {largest.file_size} bytes")

    def spend(self, size: int, name: str) -> None:
        self.left -= size
        if self.left < 0:
            raise self._refuse(f"the limit was passed reading {name}")


def _member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    try:
        info = archive.getinfo(name)
    except KeyError:
        # Part names are case-insensitive in a package (ECMA-376 part 2); ZIP names are not.
        found = [info for info in archive.infolist() if info.filename.lower() == name.lower()]
        if not found:
            raise UnreadableFile(f"not a readable XLSX workbook: it has no part {name}") from None
        info = found[0]
    if info.flag_bits & 0x1:
        raise UnreadableFile(f"{name} is encrypted: save the workbook without a password")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnreadableFile(f"{name} is packed with method {info.compress_type}; a workbook is packed with deflate")
    return info


# ---- XML ---------------------------------------------------------------------------------------------------------

Handler = Callable[..., None]


def _refuse_declarations(part: str) -> tuple[Handler, Handler]:
    """The handlers that refuse a DTD, and an entity declaration, in ``part``."""

    def doctype(name: str, *_: Any) -> None:
        raise UnreadableFile(f"{part} declares a document type ({quoted(name)}); a workbook's XML never does")

    def entity(name: str, *_: Any) -> None:
        raise UnreadableFile(f"{part} declares an entity ({quoted(name)}); a workbook's XML never does")

    return doctype, entity


def _local(name: str) -> str:
    """``tag`` of ``"http://…/main tag"``: namespaces differ between transitional and strict workbooks."""
    return name.rpartition(" ")[2]


def _parse(
    archive: zipfile.ZipFile,
    name: str,
    budget: _Budget,
    deadline: Deadline,
    *,
    start: Handler,
    end: Handler | None = None,
    text: Handler | None = None,
) -> Iterator[None]:
    """Part ``name`` through expat, a chunk at a time as it unpacks; yields after each chunk, so that a caller can
    take what the handlers collected (or stop reading)."""
    info = _member(archive, name)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    # An entity is declared only inside a DTD, which is refused first: the second handler is a second lock.
    parser.StartDoctypeDeclHandler, parser.EntityDeclHandler = _refuse_declarations(name)
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    fed = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                fed += len(chunk)
                budget.spend(len(chunk), name)
                deadline.check()
                parser.Parse(chunk, False)
                if fed - parser.CurrentByteIndex > MAX_TOKEN_BYTES:
                    raise UnreadableFile(f"{name} holds a piece of markup longer than {MAX_TOKEN_BYTES} bytes")
                yield
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise UnreadableFile(f"{name} is not well-formed XML: {exc}") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise UnreadableFile(f"{name} is damaged: {exc}") from exc
    yield


def _run(parse: Iterator[None]) -> None:
    for _ in parse:
        pass


class _Stop(Exception):
    """Raised by a handler that has read what it needs; the rest of the part is not read."""


def _until_done(parse: Iterator[None]) -> None:
    with contextlib.suppress(_Stop):
        _run(parse)


# ---- which parts -------------------------------------------------------------------------------------------------


@dataclass
class _Parts:
    sheet: str
    strings: str | None
    styles: str | None
    date1904: bool


@dataclass
class _Relationships:
    """The relationships of one part that a table needs: by id (the sheets'), and the first of each wanted type."""

    base: str
    ids: frozenset[str]
    by_id: dict[str, tuple[str, str]] = field(default_factory=dict)  # id: (type, part name)
    first: dict[str, str] = field(default_factory=dict)  # type: part name

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) != "Relationship" or attrs.get("TargetMode") == "External":
            return
        kind, target = attrs.get("Type", "").rpartition("/")[2], attrs.get("Target", "")
        absolute = target.startswith("/")
        part = target.lstrip("/") if absolute else posixpath.normpath(posixpath.join(self.base, target))
        if attrs.get("Id") in self.ids:
            self.by_id[attrs["Id"]] = (kind, part)
        if kind in (_DOCUMENT, _STRINGS, _STYLES):
            self.first.setdefault(kind, part)


def _relationships(
    archive: zipfile.ZipFile, owner: str, ids: frozenset[str], budget: _Budget, deadline: Deadline
) -> _Relationships:
    folder, _, file = owner.rpartition("/")
    name = posixpath.join(folder, "_rels", f"{file}.rels")
    found = _Relationships(base=folder, ids=ids)
    _run(_parse(archive, name, budget, deadline, start=found.start))
    return found


def _locate(archive: zipfile.ZipFile, budget: _Budget, deadline: Deadline) -> _Parts:
    workbook = "xl/workbook.xml"  # where every spreadsheet program puts it, if the package does not say
    if "_rels/.rels" in archive.NameToInfo:
        workbook = _relationships(archive, "", frozenset(), budget, deadline).first.get(_DOCUMENT, workbook)
    sheet_ids: list[str] = []
    date1904 = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal date1904
        tag = _local(name)
        if tag == "workbookPr":
            date1904 = attrs.get("date1904", "").lower() in ("1", "true")
        elif tag == "sheet":
            sheet_ids.extend(value for key, value in attrs.items() if " " in key and _local(key) == "id")
            if len(sheet_ids) >= MAX_SHEETS:
                raise _Stop

    _until_done(_parse(archive, workbook, budget, deadline, start=start))
    relationships = _relationships(archive, workbook, frozenset(sheet_ids), budget, deadline)
    sheet = next(
        (relationships.by_id[i][1] for i in sheet_ids if relationships.by_id.get(i, ("", ""))[0] == _WORKSHEET),
        None,
    )
    if sheet is None:
        raise UnreadableFile("the workbook has no worksheet")
    return _Parts(sheet, relationships.first.get(_STRINGS), relationships.first.get(_STYLES), date1904)


# ---- shared strings and styles -----------------------------------------------------------------------------------


def _unescape(text: str) -> str:
    """Characters OOXML writes as ``_xHHHH_`` (a surrogate stays as written: alone it is no character)."""
    if "_x" not in text:
        return text

    def character(match: re.Match[str]) -> str:
        code = int(match.group(1), 16)
        return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)

    return _ESCAPED.sub(character, text)


class _Strings:
    """The shared-string table, as one UTF-8 buffer and where each string ends in it."""

    def __init__(self) -> None:
        self._text = bytearray()
        self._ends = array("L")

    def add(self, text: str) -> None:
        self._text += text.encode()
        self._ends.append(len(self._text))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        start = self._ends[index - 1] if index else 0
        return self._text[start : self._ends[index]].decode()


def _shared_strings(
    archive: zipfile.ZipFile, name: str, limits: Limits, budget: _Budget, deadline: Deadline
) -> _Strings:
    strings = _Strings()
    most = (limits.rows + 1) * limits.columns  # the cells a sheet within the limits can have
    pieces: list[str] = []
    size = 0
    depth = {"t": 0, "rPh": 0}
    capturing = False

    def start(tag: str, _: dict[str, str]) -> None:
        nonlocal capturing, size
        local = _local(tag)
        if local == "si":
            pieces.clear()
            size = 0
        elif local in depth:
            depth[local] += 1
        capturing = depth["t"] > 0 and depth["rPh"] == 0  # phonetic guides (ruby) are not the cell's text

    def end(tag: str) -> None:
        nonlocal capturing
        local = _local(tag)
        if local == "si":
            if len(strings) >= most:
                raise UnreadableFile(f"{name} holds more than {most} strings, more than a sheet within limits has")
            strings.add(_unescape("".join(pieces)))
        elif local in depth:
            depth[local] -= 1
        capturing = depth["t"] > 0 and depth["rPh"] == 0

    def text(data: str) -> None:
        nonlocal size
        if capturing:
            size += len(data)
            if size > limits.cell_chars:
                raise UnreadableFile(
                    f"shared string {len(strings)} of {name} is longer than {limits.cell_chars} characters"
                )
            pieces.append(data)

    _run(_parse(archive, name, budget, deadline, start=start, end=end, text=text))
    return strings


@dataclass
class _Styles:
    """Which cell styles (indexes into ``cellXfs``) show a number as a date or as a duration."""

    dates: set[int] = field(default_factory=set)
    durations: set[int] = field(default_factory=set)


def _styles(archive: zipfile.ZipFile, name: str, budget: _Budget, deadline: Deadline) -> _Styles:
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    styles = _Styles()
    custom: dict[int, tuple[bool, bool]] = {}  # numFmtId: (a date, a duration)
    in_cell_formats = False
    cell_formats = 0

    def format_id(attrs: dict[str, str]) -> int:
        text = attrs.get("numFmtId", "0")
        if not text.isdigit() or len(text) > 6:
            raise UnreadableFile(f"{name} has a number format id that is no number: {quoted(text)}")
        return int(text)

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal in_cell_formats, cell_formats
        local = _local(tag)
        if local == "numFmt":
            if len(custom) >= MAX_STYLES:
                raise UnreadableFile(f"{name} defines more than {MAX_STYLES} number formats")
            code = attrs.get("formatCode", "")
            custom[format_id(attrs)] = (is_date_format(code), is_timedelta_format(code))
        elif local == "cellXfs":
            in_cell_formats = True
        elif local == "xf" and in_cell_formats:
            if cell_formats >= MAX_STYLES:
                raise UnreadableFile(f"{name} defines more than {MAX_STYLES} cell formats")
            number_format = format_id(attrs)
            is_date, is_duration = custom.get(number_format, (False, False))
            if number_format not in custom:
                builtin = BUILTIN_FORMATS.get(number_format)
                is_date = number_format in _CJK_DATE_FORMATS or is_date_format(builtin)
                is_duration = is_timedelta_format(builtin)
            if is_date:
                (styles.durations if is_duration else styles.dates).add(cell_formats)
            cell_formats += 1

    def end(tag: str) -> None:
        nonlocal in_cell_formats
        if _local(tag) == "cellXfs":
            in_cell_formats = False

    _run(_parse(archive, name, budget, deadline, start=start, end=end))
    return styles


# ---- the sheet ---------------------------------------------------------------------------------------------------


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def column_name(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Sheet:
    """The handlers that turn a worksheet's XML into numbered rows of text, within the limits."""

    def __init__(self, strings: _Strings, styles: _Styles, limits: Limits, deadline: Deadline, *, date1904: bool):
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

        self.strings, self.styles, self.limits, self.deadline = strings, styles, limits, deadline
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self.from_excel = from_excel
        self.done: list[tuple[int, list[str]]] = []  # rows read from the last chunk, waiting to be taken
        self.row = 0  # the row being read; 0 outside a row
        self.last_row = 0
        self.cells: dict[int, str] = {}
        self.column = 0  # the cell being read; 0 outside a cell
        self.last_column = 0
        self.type = "n"
        self.style = 0
        self.pieces: list[str] = []
        self.size = 0
        self.depth = {"v": 0, "is": 0, "t": 0, "rPh": 0}
        self.capturing = False

    def rows(self, archive: zipfile.ZipFile, name: str, budget: _Budget) -> Iterator[tuple[int, list[str]]]:
        for _ in _parse(archive, name, budget, self.deadline, start=self.start, end=self.end, text=self.text):
            yield from self.done
            self.done.clear()

    def _refuse(self, message: str) -> UnreadableFile:
        return UnreadableFile(message, line=self.row or None)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = _local(tag)
        if local == "row":
            self._start_row(attrs.get("r"))
        elif local == "c" and self.row:
            self._start_cell(attrs)
        elif local in self.depth and self.column:
            self.depth[local] += 1
            self._capture()

    def _start_row(self, number_text: str | None) -> None:
        self.deadline.check()
        if number_text is None:
            number = self.last_row + 1
        elif number_text.isdigit() and len(number_text) <= 7:
            number = int(number_text)
        else:
            raise UnreadableFile(f"a row of the sheet is numbered {quoted(number_text)}, which is no row number")
        if number <= self.last_row or number > _LAST_ROW:
            raise UnreadableFile(f"the sheet's rows are out of order: row {number} after row {self.last_row}")
        if number > self.limits.rows + 1:
            raise UnreadableFile(too_many_rows(self.limits), line=number)
        self.row = self.last_row = number
        self.cells = {}
        self.last_column = 0

    def _start_cell(self, attrs: dict[str, str]) -> None:
        reference = attrs.get("r")
        if reference is None:
            column = self.last_column + 1
        elif (match := _REF.fullmatch(reference)) is not None:
            column = _column(match.group(1).upper())
        else:
            raise self._refuse(f"a cell of row {self.row} is named {quoted(reference)}, which is no cell reference")
        if column <= self.last_column or column > _LAST_COLUMN:
            raise self._refuse(f"the cells of row {self.row} are out of order: {quoted(reference or '')}")
        style = attrs.get("s", "0")
        self.column = self.last_column = column
        self.type = attrs.get("t", "n")
        self.style = int(style) if style.isdigit() and len(style) <= 6 else -1
        self.pieces.clear()
        self.size = 0

    def _capture(self) -> None:
        depth = self.depth
        self.capturing = bool(depth["v"] or (depth["is"] and depth["t"] and not depth["rPh"]))

    def text(self, data: str) -> None:
        if self.capturing:
            self.size += len(data)
            if self.size > self.limits.cell_chars:
                raise self._refuse(f"cell {self._name()} is longer than {self.limits.cell_chars} characters")
            self.pieces.append(data)

    def end(self, tag: str) -> None:
        local = _local(tag)
        if local == "c" and self.column:
            self._end_cell()
        elif local == "row" and self.row:
            if self.cells:
                width = max(self.cells)
                self.done.append((self.row, [self.cells.get(column, "") for column in range(1, width + 1)]))
            self.row = 0
        elif local in self.depth and self.column:
            self.depth[local] -= 1
            self._capture()

    def _end_cell(self) -> None:
        value = self._value("".join(self.pieces))
        if value.strip():
            if self.column > self.limits.columns:
                raise self._refuse(too_wide(self.column, self.limits))
            self.cells[self.column] = value
        self.column = 0
        self.capturing = False
        for key in self.depth:
            self.depth[key] = 0

    def _name(self) -> str:
        return f"{column_name(self.column)}{self.row}"

    def _value(self, text: str) -> str:
        """The cell's value as the text a CSV would hold (``cell_text``), by its type."""
        kind = self.type
        if kind in ("inlineStr", "str", "e"):
            return _unescape(text) if kind != "e" else text
        if not text.strip():
            return ""
        if kind == "s":
            return self._shared(text)
        if kind == "n":
            return self._number(text.strip())
        if kind == "b":
            if text.strip() not in ("0", "1"):
                raise self._refuse(f"cell {self._name()} is a true/false cell holding {quoted(text)}")
            return str(text.strip() == "1")
        if kind == "d":
            try:
                return cell_text(datetime.fromisoformat(text.strip()))
            except ValueError:
                raise self._refuse(
                    f"cell {self._name()} is a date cell holding {quoted(text)}, which is no date"
                ) from None
        raise self._refuse(f"cell {self._name()} has the type {quoted(kind)}, which no sheet uses")

    def _shared(self, text: str) -> str:
        index = text.strip()
        if not index.isdigit() or len(index) > 12 or int(index) >= len(self.strings):
            raise self._refuse(
                f"cell {self._name()} refers to shared string {quoted(index)}, "
                f"but the workbook has {len(self.strings)} shared strings"
            )
        return self.strings[int(index)]

    def _number(self, text: str) -> str:
        name = self._name()
        if _NUMBER.fullmatch(text) is None or len(text) > 400:
            raise self._refuse(f"cell {name} is a number cell holding {quoted(text)}, which is no number")
        value: int | float = int(text) if text.lstrip("+-").isdigit() else float(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise self._refuse(f"cell {name} holds {quoted(text)}, which is no finite number")
        if self.style in self.styles.dates or self.style in self.styles.durations:
            try:
                moment: date | datetime | Any = self.from_excel(
                    value, self.epoch, timedelta=self.style in self.styles.durations
                )
            except (OverflowError, ValueError):
                raise self._refuse(f"cell {name} is formatted as a date, but {quoted(text)} is no day") from None
            return cell_text(moment)
        return cell_text(value)
