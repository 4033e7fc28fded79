"""The one export writer: numbers are numbers with their formats, instants are Asia/Shanghai date-times, text that
looks like a formula stays text (in XLSX a string cell, in CSV behind an apostrophe), and the sheet is ready for
Excel (frozen header, autofilter, widths that fit, CJK counting double)."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

from opscenter.exports import Column, Kind, Mark, Sheet, attachment, csv_chunks, display_width, write_xlsx
from opscenter.sheets import read_table
from tests.exported import assert_excel_ready, read_csv, read_xlsx

SHEET = Sheet(
    "sample",
    "样例: [测试]",
    (
        Column("名称"), Column("金额", Kind.MONEY), Column("元", Kind.MONEY), Column("可用率", Kind.PERCENT),
        Column("系数", Kind.DECIMAL), Column("件数", Kind.INTEGER), Column("日期", Kind.DATE),
        Column("时间", Kind.INSTANT), Column("来源", Kind.SOURCE),
    ),
)  # fmt: skip
FORMULAS = ["=1+1", "+86 10 1234", "-3F 机房", "@SUM(A1)", "\tTAB", "\rCR", '=HYPERLINK("http://x")', "'quoted"]
ROWS = [
    [text, 12_800_000, Decimal("99.5"), Decimal("99.40"), Decimal(1), 3, date(2026, 10, 1),
     datetime(2026, 10, 31, 16, 30, tzinfo=UTC), Mark("人工核定", manual=True)]
    for text in FORMULAS
] + [["合计", "小计", None, None, None, None, None, None, Mark("实测")]]  # fmt: skip


def _xlsx() -> bytes:
    target = io.BytesIO()
    assert write_xlsx(SHEET, iter(ROWS), target) == len(ROWS)
    return target.getvalue()


def test_formula_looking_text_stays_text_in_xlsx_and_csv() -> None:
    book = read_xlsx(_xlsx())
    assert_excel_ready(book)
    names = [row["名称"] for row in book.rows[:-1]]
    assert all(cell.data_type == "s" for cell in names), "string cells, never formulas"
    # XML reads a lone CR back as LF; everything else is kept exactly as written
    assert [cell.value for cell in names] == [text.replace("\r", "\n") for text in FORMULAS]

    content = b"".join(csv_chunks(SHEET, ROWS))
    in_csv = [row[0] for row in read_csv(content)[1:-1]]
    assert in_csv == ["'" + text for text in FORMULAS], "OWASP: an apostrophe before what Excel would run"
    assert [cells[0] for _, cells in read_table(content).rows][:-1] == FORMULAS, "and taken off again on import"


def test_numbers_are_numbers_with_their_formats_and_instants_are_shanghai_time() -> None:
    first = read_xlsx(_xlsx()).rows[0]
    assert (first["金额"].value, first["金额"].number_format, first["金额"].data_type) == (128000, "¥#,##0.00", "n")
    assert (first["元"].value, first["元"].number_format) == (99.5, "¥#,##0.00"), "a Decimal is yuan, an int fen"
    assert (first["可用率"].value, first["可用率"].number_format) == (0.994, "0.00%")
    assert (first["系数"].value, first["系数"].number_format) == (1, "0.00")
    assert (first["件数"].value, first["件数"].number_format) == (3, "0")
    assert first["日期"].value == datetime(2026, 10, 1)  # noqa: DTZ001 - a spreadsheet's date-time has no zone
    assert first["日期"].number_format == "yyyy-mm-dd"
    shanghai = datetime(2026, 11, 1, 0, 30)  # noqa: DTZ001 - Shanghai wall time, as the cell holds it
    assert first["时间"].value == shanghai, "16:30 UTC is 00:30 the next day in Shanghai"
    assert first["时间"].number_format == "yyyy-mm-dd hh:mm"
    assert first["来源"].value == "人工核定"

    _, first_csv, *_, last_csv = read_csv(b"".join(csv_chunks(SHEET, ROWS)))
    assert first_csv[1:8] == ["128000.00", "99.50", "99.40%", "1.00", "3", "2026-10-01", "2026-11-01 00:30:00"]
    assert last_csv[:3] == ["合计", "小计", ""], "a label in a figure's column is text"


def test_widths_fit_the_content_with_cjk_counting_double() -> None:
    assert display_width("abc") == 3
    assert display_width("省卫生健康委员会") == 16
    rows = [["省卫生健康委员会信息中心机房", 1, None, None, None, None, None, None, None]]
    book = read_xlsx(_write(rows))
    assert book.widths[0] >= display_width("省卫生健康委员会信息中心机房")
    assert book.widths[5] < book.widths[0]


def _write(rows: list[list[object]]) -> bytes:
    target = io.BytesIO()
    write_xlsx(SHEET, rows, target)
    return target.getvalue()


def test_a_file_name_with_any_character_makes_a_valid_header() -> None:
    assert attachment("tickets-2026-10-01.csv") == 'attachment; filename="tickets-2026-10-01.csv"'
    header = attachment('statement-深政数"2026"-01-2026-10.xlsx')
    header.encode("latin-1")  # what HTTP headers carry
    assert header.startswith('attachment; filename="statement-')
    assert "filename*=UTF-8''statement-%E6%B7%B1" in header
