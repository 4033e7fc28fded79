"""Reading an export back as Excel would: every test of an export downloads it through the API and reads it here,
with openpyxl (XLSX) or the csv module (CSV), so a test sees cell types, number formats, the frozen header and the
autofilter, not only text."""

import codecs
import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tests import factories
from tests.conftest import ApiFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "¥#,##0.00"
PERCENT_FORMAT = "0.00%"
INSTANT_FORMAT = "yyyy-mm-dd hh:mm"


def download(api: ApiFactory, who: factories.Identity, path: str, file_format: str, **params: Any) -> bytes:
    response = api.as_(who).get(path, params={"format": file_format, **params})
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    expected = XLSX if file_format == "xlsx" else "text/csv"
    assert response.headers["content-type"].startswith(expected)
    return response.content


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(codecs.BOM_UTF8), "exports carry a BOM so that Excel reads Chinese"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def csv_records(content: bytes) -> list[dict[str, str]]:
    header, *rows = read_csv(content)
    return [dict(zip(header, row, strict=True)) for row in rows]


@dataclass(frozen=True)
class Cell:
    value: Any
    data_type: str  # openpyxl's: "s" text, "n" number, "d" date, "f" formula
    number_format: str


@dataclass(frozen=True)
class Workbook:
    header: list[str]
    rows: list[dict[str, Cell]]
    frozen: str | None
    autofilter: str | None
    widths: list[float]

    def values(self, header: str) -> list[Any]:
        return [row[header].value for row in self.rows]


def read_xlsx(content: bytes) -> Workbook:
    """The first worksheet, as openpyxl reads it (not read-only: the frozen pane and column widths come along)."""
    assert content.startswith(b"PK")
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    grid = list(sheet.iter_rows())
    header = [str(cell.value) for cell in grid[0]]
    for cell in grid[0]:
        assert cell.data_type == "s", "headers are text"
    rows = [
        {name: Cell(cell.value, cell.data_type, cell.number_format) for name, cell in zip(header, row, strict=True)}
        for row in grid[1:]
    ]
    widths = [sheet.column_dimensions[get_column_letter(n)].width for n in range(1, len(header) + 1)]
    return Workbook(header, rows, sheet.freeze_panes, sheet.auto_filter.ref, widths)


def assert_excel_ready(book: Workbook) -> None:
    """What every XLSX export does: the header row frozen, an autofilter over it and every row, widths that fit
    their header (a CJK character counts double), and no formula anywhere."""
    assert book.frozen == "A2"
    last = chr(ord("A") + len(book.header) - 1) if len(book.header) <= 26 else None
    assert book.autofilter is not None
    assert book.autofilter.startswith("A1:")
    assert book.autofilter.endswith(f"{len(book.rows) + 1}")
    if last is not None:
        assert book.autofilter == f"A1:{last}{len(book.rows) + 1}"
    for header, width in zip(book.header, book.widths, strict=True):
        wide = sum(2 if ord(char) > 0x2E80 else 1 for char in header)
        assert width >= min(wide, 60), f"column {header} is {width} wide, narrower than its header"
    assert len(set(book.widths)) > 1, "widths follow the content, not one width for all"
    for row in book.rows:
        for cell in row.values():
            assert cell.data_type != "f", f"a formula in an export: {cell.value!r}"


def assert_money(cell: Cell, amount: str) -> None:
    """A money cell: a number (Excel can sum it), shown as yuan, equal to the API's amount to the fen."""
    assert cell.data_type == "n", f"{cell.value!r} is not a number"
    assert isinstance(cell.value, int | float)
    assert Decimal(str(cell.value)).quantize(Decimal("0.01")) == Decimal(amount)
    assert cell.number_format == MONEY_FORMAT


def assert_percent(cell: Cell, percent: str) -> None:
    assert cell.data_type == "n"
    assert isinstance(cell.value, int | float)
    assert Decimal(str(cell.value)) * 100 == Decimal(percent)
    assert cell.number_format == PERCENT_FORMAT


def assert_instant(cell: Cell, rfc3339: str) -> None:
    """An instant as a date-time cell in Asia/Shanghai wall time."""
    from opscenter.timekeeping import SHANGHAI

    expected = datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).astimezone(SHANGHAI).replace(tzinfo=None)
    assert cell.data_type == "d" or isinstance(cell.value, datetime)
    assert cell.value == expected.replace(microsecond=cell.value.microsecond)
    assert cell.number_format == INSTANT_FORMAT
