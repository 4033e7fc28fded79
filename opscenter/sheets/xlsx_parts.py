"""Which parts of a workbook a table needs (the first worksheet, its shared strings and styles), and the two of
them read whole before the sheet: the shared strings, kept compact, and which cell styles are dates."""

import posixpath
import re
import zipfile
from array import array
from dataclasses import dataclass, field

from opscenter.sheets.bounds import Deadline, Limits, UnreadableFile, quoted
from opscenter.sheets.xlsx_archive import Budget, Stop, parse, run, tag_of, until_done

MAX_STYLES = 65_536  # cell formats (Excel allows 64,000) or number formats in one workbook
MAX_SHEETS = 1_024  # sheets looked at for the first worksheet
# Relationship types end with these names, in the transitional and the strict namespaces alike.
_DOCUMENT, _WORKSHEET, _STRINGS, _STYLES = "officeDocument", "worksheet", "sharedStrings", "styles"
# Number formats Chinese Excel writes by id alone for dates and times (年月日, 时分秒): not in openpyxl's table.
_CJK_DATE_FORMATS = frozenset(range(27, 37)) | frozenset(range(50, 59))
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")  # how OOXML writes a character XML cannot hold, e.g. _x000D_


@dataclass
class Parts:
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
        if tag_of(name) != "Relationship" or attrs.get("TargetMode") == "External":
            return
        kind, target = attrs.get("Type", "").rpartition("/")[2], attrs.get("Target", "")
        absolute = target.startswith("/")
        part = target.lstrip("/") if absolute else posixpath.normpath(posixpath.join(self.base, target))
        if attrs.get("Id") in self.ids:
            self.by_id[attrs["Id"]] = (kind, part)
        if kind in (_DOCUMENT, _STRINGS, _STYLES):
            self.first.setdefault(kind, part)


def _relationships(
    archive: zipfile.ZipFile, owner: str, ids: frozenset[str], budget: Budget, deadline: Deadline
) -> _Relationships:
    folder, _, file = owner.rpartition("/")
    name = posixpath.join(folder, "_rels", f"{file}.rels")
    found = _Relationships(base=folder, ids=ids)
    run(parse(archive, name, budget, deadline, start=found.start))
    return found


def locate(archive: zipfile.ZipFile, budget: Budget, deadline: Deadline) -> Parts:
    """The parts a table needs, as the package's and the workbook's relationships name them: the first sheet
    that is a worksheet (not a chart), the shared strings and styles (if any), and the workbook's epoch."""
    workbook = "xl/workbook.xml"  # where every spreadsheet program puts it, if the package does not say
    if "_rels/.rels" in archive.NameToInfo:
        workbook = _relationships(archive, "", frozenset(), budget, deadline).first.get(_DOCUMENT, workbook)
    sheet_ids: list[str] = []
    date1904 = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal date1904
        tag = tag_of(name)
        if tag == "workbookPr":
            date1904 = attrs.get("date1904", "").lower() in ("1", "true")
        elif tag == "sheet":
            sheet_ids.extend(value for key, value in attrs.items() if " " in key and tag_of(key) == "id")
            if len(sheet_ids) >= MAX_SHEETS:
                raise Stop

    until_done(parse(archive, workbook, budget, deadline, start=start))
    relationships = _relationships(archive, workbook, frozenset(sheet_ids), budget, deadline)
    sheet = next(
        (relationships.by_id[i][1] for i in sheet_ids if relationships.by_id.get(i, ("", ""))[0] == _WORKSHEET),
        None,
    )
    if sheet is None:
        raise UnreadableFile("the workbook has no worksheet")
    return Parts(sheet, relationships.first.get(_STRINGS), relationships.first.get(_STYLES), date1904)


def unescape(text: str) -> str:
    """Characters OOXML writes as ``_xHHHH_`` (a surrogate stays as written: alone it is no character)."""
    if "_x" not in text:
        return text

    def character(match: re.Match[str]) -> str:
        code = int(match.group(1), 16)
        return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)

    return _ESCAPED.sub(character, text)


class Strings:
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


def shared_strings(archive: zipfile.ZipFile, name: str, limits: Limits, budget: Budget, deadline: Deadline) -> Strings:
    """The shared-string table: each string's text runs (not its phonetic guide), at most ``limits.cell_chars``
    long, and no more strings than the cells of a sheet within ``limits``."""
    strings = Strings()
    most = (limits.rows + 1) * limits.columns  # the cells a sheet within the limits can have
    pieces: list[str] = []
    size = 0
    depth = {"t": 0, "rPh": 0}
    capturing = False

    def start(tag: str, _: dict[str, str]) -> None:
        nonlocal capturing, size
        local = tag_of(tag)
        if local == "si":
            pieces.clear()
            size = 0
        elif local in depth:
            depth[local] += 1
        capturing = depth["t"] > 0 and depth["rPh"] == 0  # phonetic guides (ruby) are not the cell's text

    def end(tag: str) -> None:
        nonlocal capturing
        local = tag_of(tag)
        if local == "si":
            if len(strings) >= most:
                raise UnreadableFile(f"{name} holds more than {most} strings, more than a sheet within limits has")
            strings.add(unescape("".join(pieces)))
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

    run(parse(archive, name, budget, deadline, start=start, end=end, text=text))
    return strings


@dataclass
class Styles:
    """Which cell styles (indexes into ``cellXfs``) show a number as a date or as a duration."""

    dates: set[int] = field(default_factory=set)
    durations: set[int] = field(default_factory=set)


def cell_styles(archive: zipfile.ZipFile, name: str, budget: Budget, deadline: Deadline) -> Styles:
    """Which cell formats show a number as a date (or a duration), by their number format."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    styles = Styles()
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
        local = tag_of(tag)
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
        if tag_of(tag) == "cellXfs":
            in_cell_formats = False

    run(parse(archive, name, budget, deadline, start=start, end=end))
    return styles
