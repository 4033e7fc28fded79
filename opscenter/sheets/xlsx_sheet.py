"""The handlers that turn a worksheet's XML into numbered rows of text, within the limits."""

import math
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from opscenter.sheets.bounds import Deadline, Limits, UnreadableFile, cell_text, quoted, too_many_rows, too_wide
from opscenter.sheets.xlsx_archive import Budget, parse, tag_of
from opscenter.sheets.xlsx_parts import Strings, Styles, unescape

_LAST_ROW, _LAST_COLUMN = 1_048_576, 16_384  # Excel's sheet: rows and columns (XFD)
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")


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


class Sheet:
    """The handlers that turn a worksheet's XML into numbered rows of text, within the limits."""

    def __init__(self, strings: Strings, styles: Styles, limits: Limits, deadline: Deadline, *, date1904: bool):
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

    def rows(self, archive: zipfile.ZipFile, name: str, budget: Budget) -> Iterator[tuple[int, list[str]]]:
        for _ in parse(archive, name, budget, self.deadline, start=self.start, end=self.end, text=self.text):
            yield from self.done
            self.done.clear()

    def _refuse(self, message: str) -> UnreadableFile:
        return UnreadableFile(message, line=self.row or None)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag_of(tag)
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
        local = tag_of(tag)
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
            return unescape(text) if kind != "e" else text
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
