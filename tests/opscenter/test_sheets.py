"""Reading a CSV file within limits: every row counts (blank ones too), no row, cell or width beyond its limit,
the encoding found without a second copy of the file, and the answer to a file full of problems stays short."""

import codecs
import random

import pytest

from operations.assets.register import columns
from opscenter.errors import MAX_LISTED_ERRORS
from opscenter.sheets import DEFAULT_LIMITS, MAX_ROW_CHARS, Deadline, Limits, UnreadableFile, read_table
from tests.operations.assets.steps import CHINESE_HEADER, csv_file, csv_row


def rows_of(content: bytes, limits: Limits = DEFAULT_LIMITS) -> list[tuple[int, list[str]]]:
    table = read_table(content, limits)
    return [(1, table.header), *table.rows]


def refusal(content: bytes, limits: Limits = DEFAULT_LIMITS) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as refused:
        rows_of(content, limits)
    return refused.value


def test_blank_rows_count_toward_the_row_limit() -> None:
    content = csv_file([csv_row("SN-1"), *([[""] * 8] * 5)])
    assert len(rows_of(content, Limits(rows=6))) == 2
    refused = refusal(content, Limits(rows=5))
    assert (refused.line, refused.message) == (
        7,
        "more than 5 rows below the header (blank rows count too): split the file",
    )
    empty_lines = ",".join(CHINESE_HEADER).encode() + b"\r\n" * 30
    assert refusal(empty_lines, Limits(rows=20)).line == 22


def test_a_row_longer_than_a_megabyte_is_refused_however_many_lines_it_spans() -> None:
    one_line = ",".join(CHINESE_HEADER).encode() + b"\r\n" + b"x" * (MAX_ROW_CHARS + 10) + b"\r\n"
    assert refusal(one_line).message == f"row 2 is longer than {MAX_ROW_CHARS} characters"
    spanning = ",".join(CHINESE_HEADER).encode() + b"\r\n" + b'"a\r\nb",' * (MAX_ROW_CHARS // 7 + 10) + b"\r\n"
    refused = refusal(spanning)
    assert (refused.line, refused.message) == (2, f"row 2 is longer than {MAX_ROW_CHARS} characters")


def test_a_cell_longer_than_the_limit_is_refused() -> None:
    refused = refusal(csv_file([csv_row("SN-1", name="名" * 40_000)]))
    assert (refused.line, refused.message) == (2, "the cell in column 2 is longer than 32768 characters")
    beyond_the_csv_module = refusal(csv_file([csv_row("SN-1", name="名" * 200_000)]))
    assert (beyond_the_csv_module.line, beyond_the_csv_module.message) == (
        2,
        "a cell is longer than 32768 characters",
    )


def test_values_beyond_the_column_limit_are_refused_and_blank_cells_there_are_not() -> None:
    assert rows_of(csv_file([[*csv_row("SN-1"), *[""] * 500]]))[1] == (2, csv_row("SN-1"))
    refused = refusal(csv_file([[*csv_row("SN-1"), *[""] * 200, "x"]]))
    assert (refused.line, refused.message) == (2, "values in 209 columns; a file may use at most 100 columns")


def test_the_encoding_is_found_a_megabyte_at_a_time() -> None:
    """GB18030 whose two-byte characters straddle the megabyte boundaries, and UTF-8 that breaks late."""
    rows = [csv_row(f"SN-{n:06}", location="市政务云机房A区") for n in range(20_000)]
    gb18030 = csv_file(rows, encoding="gb18030")
    assert len(gb18030) > 2 * 1024 * 1024
    assert rows_of(gb18030)[-1][1][4] == "市政务云机房A区"
    ascii_first = [csv_row(f"SN-{n:06}", kind="server", name="db", location="A") for n in range(20_000)]
    late_break = csv_file([*ascii_first, csv_row("SN-LAST", location="机房")], encoding="gb18030")
    assert late_break.index("机房".encode("gb18030")) > 1024 * 1024
    with pytest.raises(UnicodeDecodeError):
        late_break.decode("utf-8")
    assert rows_of(late_break, Limits(rows=30_000))[-1][1][4] == "机房", "read as GB18030 from the start"
    broken = codecs.BOM_UTF8 + csv_file(rows, encoding="utf-8") + b"\xff"
    assert "it starts with a UTF-8 byte order mark but is not UTF-8" in refusal(broken).message


def test_reading_stops_at_the_deadline() -> None:
    content = csv_file([csv_row(f"SN-{n}") for n in range(10)])
    with pytest.raises(UnreadableFile, match="took more than 0 seconds of processor time"):
        list(read_table(content, Limits(), Deadline(0.0)).rows)


def test_a_file_with_a_problem_in_every_row_lists_the_first_ones_and_counts_them_all() -> None:
    parsed = columns.parse_file(csv_file([csv_row(f"SN-{n}", kind="打印机") for n in range(1_000)]))
    assert parsed.errors.count == 1_000
    assert len(parsed.errors.listed) == MAX_LISTED_ERRORS
    assert [error.line for error in parsed.errors][:3] == [2, 3, 4]
    refusal = parsed.errors.refusal("Nothing was added")
    assert refusal.detail == "Nothing was added: 1000 problem(s) found. The first 200 are listed."
    assert refusal.total == 1_000


def test_the_problem_that_stops_reading_is_listed_first() -> None:
    rows = [csv_row("SN-1", kind="打印机"), csv_row("SN-2"), [*csv_row("SN-3"), *[""] * 100, "x"]]
    parsed = columns.parse_file(csv_file(rows))
    assert [(error.field, error.line) for error in parsed.errors] == [("file", 4), ("lines.2.kind", 2)]
    assert parsed.rows == [], "a file refused whole adds nothing"


def test_quoted_cell_text_in_a_message_is_cut_short() -> None:
    parsed = columns.parse_file(csv_file([csv_row("SN-1", kind="打" * 5_000)]))
    (error,) = parsed.errors
    assert len(error.message) < 400
    assert "…" in error.message


# An inventory as a department's spreadsheet holds it, with English headers; in traditional characters for Big5
# (Taiwan, Hong Kong), in Japanese for Shift_JIS, in simplified characters for GB18030.
_ENGLISH = ["kind", "name", "serial_number", "location", "original_value"]
_TRADITIONAL = [["server", f"資料庫伺服器{n}", f"SN-{n:04}", f"臺北機房A區第{n}櫃", "12000.00"] for n in range(40)]
_JAPANESE = [["server", f"データベースサーバー{n}", f"SN-{n:04}", f"東京DC第{n}ラック", "1200"] for n in range(40)]
_SIMPLIFIED = [["server", f"数据库服务器{n}", f"SN-{n:04}", f"政务云机房A区{n}柜，“主用”", "12000"] for n in range(40)]


@pytest.mark.parametrize(
    ("rows", "encoding"),
    [(_TRADITIONAL, "big5"), (_JAPANESE, "shift_jis"), (_TRADITIONAL[:1], "big5"), (_JAPANESE[:1], "shift_jis")],
)
def test_a_big5_or_shift_jis_file_is_refused_naming_the_encodings_we_read(rows: list[list[str]], encoding: str) -> None:
    content = csv_file(rows, header=_ENGLISH, encoding=encoding)
    content.decode("gb18030")  # it decodes, as mojibake: decoding alone proves nothing
    message = refusal(content).message
    assert "encoding" in message
    assert "UTF-8, UTF-8 with BOM, or GB18030/GBK" in message


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8", "utf-8-sig"])
def test_the_same_inventory_in_gb18030_gbk_or_utf8_is_read(encoding: str) -> None:
    assert rows_of(csv_file(_SIMPLIFIED, header=_ENGLISH, encoding=encoding))[-1][1][1] == "数据库服务器39"


@pytest.mark.parametrize("seed", range(8))
def test_binary_is_refused_for_its_encoding(seed: int) -> None:
    content = random.Random(seed).randbytes(8192).replace(b"PK", b"pk").lstrip(b"\xef\xff\xfe\xd0")
    assert "encoding" in refusal(content).message
