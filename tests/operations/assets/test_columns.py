"""Reading spreadsheet cells as people type them in Excel, and writing them back so that they read the same."""

from datetime import date
from decimal import Decimal

import pytest

from operations.assets.register import columns
from opscenter.exports import Column, Sheet, csv_chunks
from opscenter.sheets import Limits, read_table
from tests.operations.assets.steps import CHINESE_HEADER, csv_file


def _parse(*rows: list[str], header: list[str] = CHINESE_HEADER) -> columns.ParsedFile:
    return columns.parse_file(csv_file(list(rows), header=header), limits=Limits(rows=100))


@pytest.mark.parametrize(
    ("written", "kind"),
    [("服务器", "server"), ("server", "server"), ("Network_Device", "network_device"), ("其它", "other")],
)
def test_a_kind_is_read_by_its_chinese_label_or_its_value(written: str, kind: str) -> None:
    (row,) = _parse([written, "名称", "SN-1", "", "", "", "1", ""]).rows
    assert row.asset.kind == kind


@pytest.mark.parametrize(
    ("written", "amount"),
    [("1500", "1500.00"), ("1,200.50", "1200.50"), ("¥3000.1", "3000.10"), ("￥88元", "88.00"), ("0", "0.00")],
)
def test_an_original_value_is_read_as_yuan_with_two_decimals(written: str, amount: str) -> None:
    (row,) = _parse(["服务器", "名称", "SN-1", "", "", "", written, ""]).rows
    assert row.asset.original_value == Decimal(amount)


@pytest.mark.parametrize("written", ["-5", "1.005", "1e3", "一千"])
def test_an_original_value_that_is_not_yuan_is_a_row_error(written: str) -> None:
    parsed = _parse(["服务器", "名称", "SN-1", "", "", "", written, ""])
    assert [(e.line, e.column, e.field) for e in parsed.errors] == [(2, "原值（元）", "lines.2.original_value")]


@pytest.mark.parametrize("written", ["2021-03-05", "2021/3/5", "2021.3.5", "2021年3月5日"])
def test_a_purchase_date_is_read_in_the_usual_spellings(written: str) -> None:
    (row,) = _parse(["服务器", "名称", "SN-1", "", "", "", "1", written]).rows
    assert row.asset.purchase_date == date(2021, 3, 5)


def test_headers_match_whatever_the_width_case_or_spacing() -> None:
    header = ["资产 类别", "NAME", "Serial_Number", "原值(元)"]
    (row,) = _parse(["存储设备", "阵列", "SN-1", "10"], header=header).rows
    assert (row.asset.kind, row.asset.serial_number, row.asset.original_value) == ("storage", "SN-1", Decimal("10"))


def test_every_problem_of_a_row_is_named() -> None:
    parsed = _parse(["打印机", "", "SN-1", "", "", "[1, 2]", "1", "昨天"])
    assert {e.column for e in parsed.errors} == {"资产类别", "资产名称", "规格参数", "购置日期"}
    assert parsed.rows == []


def test_blank_rows_are_skipped_and_rows_are_numbered_as_in_excel() -> None:
    parsed = _parse(
        ["服务器", "a", "SN-1", "", "", "", "1", ""], [""] * 8, ["服务器", "b", "SN-2", "", "", "", "x", ""]
    )
    assert [row.line for row in parsed.rows] == [2]
    assert [error.line for error in parsed.errors] == [4]


def test_too_many_rows_is_one_file_error() -> None:
    rows = [["服务器", "a", f"SN-{n}", "", "", "", "1", ""] for n in range(4)]
    parsed = columns.parse_file(csv_file(rows), limits=Limits(rows=3))
    assert [(e.field, e.line) for e in parsed.errors] == [("file", 5)]


def test_formula_looking_text_survives_a_csv_round_trip() -> None:
    cells = ["=1+1", "+86 10", "-3F", "@home", "'=already", "plain", "'quoted"]
    sheet = Sheet("cells", "cells", tuple(Column(f"a{n}") for n in range(len(cells))))
    table = read_table(b"".join(csv_chunks(sheet, [cells])))
    (row,) = list(table.rows)
    assert row == (2, cells)
