"""Reading a workbook with every cost bounded: what Excel writes reads as before, and whatever a file claims
beyond the limits, or that is not what the format says, is an UnreadableFile naming its problem."""

import io
import zipfile
from collections.abc import Callable
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from opscenter.sheets import DEFAULT_LIMITS, Deadline, Limits, UnreadableFile, cell_text, read_table
from opscenter.sheets.xlsx import MAX_DIRECTORY_BYTES, MAX_TOKEN_BYTES
from tests.operations.assets import hostile
from tests.operations.assets.steps import CHINESE_HEADER

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def rows_of(content: bytes, limits: Limits = DEFAULT_LIMITS) -> list[tuple[int, list[str]]]:
    table = read_table(content, limits)
    return [(1, table.header), *table.rows]


def refusal(content: bytes, limits: Limits = DEFAULT_LIMITS) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as refused:
        rows_of(content, limits)
    return refused.value


def with_sheet(*rows: str, strings: list[bytes] | None = None, raw: bool = False) -> bytes:
    return hostile.workbook(
        hostile.sheet([row.encode() for row in rows]),
        hostile.shared_strings(strings, raw=raw) if strings is not None else None,
    )


def trimmed(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells = cells[:-1]
    return cells


# ---- what spreadsheet programs write reads as openpyxl read it ---------------------------------------------------


def test_a_workbook_excel_could_write_reads_as_openpyxl_reads_it() -> None:
    # A spreadsheet's dates and times have no zone: what a person typed, read back as they typed it.
    typed_date, typed_time = datetime(2021, 3, 15), datetime(2020, 7, 1, 9, 30)  # noqa: DTZ001
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([*CHINESE_HEADER, "备注"])
    sheet.append(["服务器", "核心数据库服务器", "SN-01", "华为 2288H V6", "A区", '{"cpu": 32}', 158000, typed_date])
    sheet.append(["存储设备", "阵列", "SN-02", None, "B区", None, 8500.5, typed_time])
    sheet.append([None] * 8)
    sheet.append(["网络设备", "交换机", 12345678901234567890, True, 0.1 + 0.2, "=1+1", 1e20, None, "多行\n文本"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()

    expected_book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    expected = [
        (number, trimmed([cell_text(value) for value in values]))
        for number, values in enumerate(expected_book.worksheets[0].iter_rows(values_only=True), start=1)
        if any(cell_text(value).strip() for value in values)
    ]
    got = rows_of(content)
    assert got == expected
    assert got[1] == (
        2,
        ["服务器", "核心数据库服务器", "SN-01", "华为 2288H V6", "A区", '{"cpu": 32}', "158000", "2021-03-15"],
    )
    assert got[2][1][6:8] == ["8500.5", "2020-07-01T09:30:00"]


def test_shared_strings_rich_text_and_escapes_read_as_the_cell_shows_them() -> None:
    strings = [
        "<t>服务器</t>".encode(),
        # 核心 DB in two runs, and a phonetic guide (ruby) that is not the cell's text
        (
            '<r><rPr><b/></rPr><t>核心</t></r><r><t xml:space="preserve"> DB</t></r>'
            '<rPh sb="0" eb="2"><t>かく</t></rPh>'
        ).encode(),
        b"<t>line_x000D_ two _x005F_x0041_</t>",
    ]
    content = with_sheet(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>',
        '<row r="2"><c t="s"><v>2</v></c><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c>'
        '<c t="str"><f>A1</f><v>calc</v></c><c><v>1E3</v></c><c t="d"><v>2021-03-15T00:00:00</v></c></row>',
        strings=strings,
        raw=True,
    )
    assert rows_of(content) == [
        (1, ["服务器", "核心 DB"]),
        (2, ["line\r two _x0041_", "True", "#N/A", "calc", "1000", "2021-03-15"]),
    ]


@pytest.mark.parametrize(
    ("styles", "date1904", "serial", "shown"),
    [
        ('<xf numFmtId="14"/>', False, "44270", "2021-03-15"),  # Excel's built-in short date
        ('<xf numFmtId="31"/>', False, "44270", "2021-03-15"),  # yyyy"年"m"月"d"日" of Chinese Excel, by id alone
        ('<xf numFmtId="176"/>', False, "44270.5", "2021-03-15T12:00:00"),  # a custom format (below)
        ('<xf numFmtId="14"/>', True, "42808", "2021-03-15"),  # a workbook counting from 1904 (old Mac Excel)
        ('<xf numFmtId="2"/>', False, "44270", "44270"),  # 0.00: a number, not a date
    ],
)
def test_a_date_formatted_number_reads_as_its_date(styles: str, date1904: bool, serial: str, shown: str) -> None:
    sheet = [
        '<row r="1"><c t="inlineStr"><is><t>购置日期</t></is></c></row>',
        f'<row r="2"><c s="1"><v>{serial}</v></c></row>',
    ]
    style_part = (
        f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="176" formatCode="yyyy/m/d h:mm"/></numFmts>'
        f'<cellXfs count="2"><xf numFmtId="0"/>{styles}</cellXfs></styleSheet>'
    ).encode()
    content = hostile.workbook(hostile.sheet(row.encode() for row in sheet), styles=style_part)
    if date1904:
        content = _replace_part(
            content, "xl/workbook.xml", lambda xml: xml.replace(b"<sheets>", b'<workbookPr date1904="1"/><sheets>')
        )
    assert rows_of(content)[1] == (2, [shown])


def test_a_strict_ooxml_workbook_reads_like_a_transitional_one() -> None:
    strict = "http://purl.oclc.org/ooxml/spreadsheetml/main"
    content = hostile.workbook(
        [f'<worksheet xmlns="{strict}"><sheetData>'.encode(), hostile.header_row(), b"</sheetData></worksheet>"]
    )
    assert rows_of(content) == [(1, CHINESE_HEADER)]


def test_blank_rows_are_left_out_and_rows_keep_the_sheet_numbers() -> None:
    content = with_sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>',
        '<row r="2"><c r="A2" s="1"/></row>',
        '<row r="5"><c r="C5"><v>7</v></c></row>',
        '<row><c><v>8</v></c><c r="d6"><v>9</v></c></row>',  # no r: the row after the last; a lower-case cell
    )
    assert rows_of(content) == [(1, ["a"]), (5, ["", "", "7"]), (6, ["8", "", "", "9"])]


# ---- limits -----------------------------------------------------------------------------------------------------


def test_rows_are_counted_by_their_number_so_blank_ones_count_too() -> None:
    refused = refusal(hostile.blank_rows_xlsx(rows=200), Limits(rows=100))
    assert (refused.line, refused.message) == (
        102,
        "more than 100 rows below the header (blank rows count too): split the file",
    )
    assert len(rows_of(hostile.blank_rows_xlsx(rows=99), Limits(rows=100))) == 1


def test_rows_out_of_order_are_refused_as_they_would_count_as_one() -> None:
    refused = refusal(with_sheet('<row r="1"/>', '<row r="3"/>', '<row r="2"/>'))
    assert "out of order: row 2 after row 3" in refused.message


def test_a_cell_longer_than_the_limit_is_refused_inline_or_shared() -> None:
    long_text = "长" * 40_000
    inline = with_sheet(f'<row r="1"><c r="B1" t="inlineStr"><is><t>{long_text}</t></is></c></row>')
    assert refusal(inline).message == "cell B1 is longer than 32768 characters"
    shared = with_sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', strings=[long_text.encode()])
    assert refusal(shared).message == "shared string 0 of xl/sharedStrings.xml is longer than 32768 characters"


def test_a_value_beyond_the_column_limit_is_refused_and_blank_cells_there_are_not() -> None:
    styled = with_sheet('<row r="1"><c r="A1"><v>1</v></c><c r="XFD1" s="1"/></row>')
    assert rows_of(styled) == [(1, ["1"])]
    refused = refusal(with_sheet('<row r="1"><c r="A1"><v>1</v></c><c r="CW1"><v>2</v></c></row>'))
    assert (refused.line, refused.message) == (1, "values in 101 columns; a file may use at most 100 columns")


def test_a_cell_that_unpacks_past_the_budget_is_refused_by_its_declared_size_before_reading() -> None:
    refused = refusal(hostile.giant_cell_xlsx(size=60 * 1024 * 1024))
    assert refused.message.startswith("the workbook unpacks to more than 50331648 bytes (48 MiB)")
    assert "xl/sharedStrings.xml alone is 6291" in refused.message


def test_a_part_lying_about_its_size_is_stopped_by_the_cell_limit_or_found_damaged() -> None:
    giant = hostile.giant_cell_xlsx(size=60 * 1024 * 1024)
    told_less = hostile.declared_size(giant, "xl/sharedStrings.xml", 40 * 1024 * 1024)
    assert refusal(told_less).message == "shared string 0 of xl/sharedStrings.xml is longer than 32768 characters"
    told_little = hostile.declared_size(giant, "xl/sharedStrings.xml", 1_000)
    assert refusal(told_little).message.startswith("xl/sharedStrings.xml is damaged")


def test_what_the_parts_unpack_to_is_counted_as_they_are_read() -> None:
    """The parts read before the sheet (relationships, the workbook) count too, as they unpack."""
    padded = _replace_part(
        hostile.valid_xlsx([]),
        "xl/workbook.xml",
        lambda xml: xml.replace(b"</workbook>", b" " * 100_000 + b"</workbook>"),
    )
    refused = refusal(padded, Limits(unpacked_bytes=64 * 1024))
    assert refused.message == (
        "the workbook unpacks to more than 65536 bytes (0.0625 MiB), the most a file may: "
        "the limit was passed reading xl/workbook.xml"
    )


def test_a_piece_of_markup_longer_than_expat_should_hold_is_refused() -> None:
    """expat holds a tag or a comment whole until it ends: an attribute of megabytes, or a million of them."""
    longer = MAX_TOKEN_BYTES + 128 * 1024  # the check is made after each 64 KiB unpacked
    attribute = with_sheet(f'<row r="1" x="{"y" * longer}"/>')
    assert "a piece of markup longer than" in refusal(attribute).message
    comment = with_sheet(f"<!-- {'<' * longer} -->")
    assert "a piece of markup longer than" in refusal(comment).message


def test_an_archive_listing_thousands_of_parts_is_refused_before_they_are_read() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(MAX_DIRECTORY_BYTES // 40):
            archive.writestr(f"xl/media/image{n:06}.png", b"")
    refused = refusal(buffer.getvalue())
    assert refused.message.startswith("not a workbook: the archive's directory is")


def test_reading_stops_at_the_deadline() -> None:
    content = hostile.valid_xlsx([["服务器", "a", f"SN-{n}", "", "", "", "1", ""] for n in range(50)])
    deadline = Deadline(0.0)
    with pytest.raises(UnreadableFile, match="took more than 0 seconds of processor time"):
        list(read_table(content, Limits(), deadline).rows)


# ---- what is not what the format says ---------------------------------------------------------------------------

MALFORMED: dict[str, tuple[Callable[[], bytes], str]] = {
    "truncated XML": (hostile.truncated_xlsx, "xl/worksheets/sheet1.xml is not well-formed XML: no element found"),
    "shared string past the table": (
        hostile.bad_shared_string_xlsx,
        "cell C2 refers to shared string '7', but the workbook has 2 shared strings",
    ),
    "negative shared string": (lambda: hostile.bad_shared_string_xlsx("-1"), "refers to shared string '-1'"),
    "NaN": (hostile.nan_cell_xlsx, "cell G2 is a number cell holding 'NaN', which is no number"),
    "infinity": (
        lambda: hostile.nan_cell_xlsx("1e999"),
        "cell G2 holds '1e999', which is no finite number",
    ),
    "a number of 5000 digits": (
        lambda: hostile.nan_cell_xlsx("9" * 5000),
        "which is no number",
    ),
    "an ISO date of the 13th month": (hostile.invalid_date_xlsx, "cell H2 is a date cell holding '2021-13-45'"),
    "a date serial that is no day": (
        lambda: hostile.invalid_date_xlsx('<c r="H2" s="1"><v>1e300</v></c>'),
        "cell H2 is formatted as a date, but '1e300' is no day",
    ),
    "a boolean of 2": (
        lambda: hostile.invalid_date_xlsx('<c r="H2" t="b"><v>2</v></c>'),
        "cell H2 is a true/false cell holding '2'",
    ),
    "an unknown cell type": (
        lambda: hostile.invalid_date_xlsx('<c r="H2" t="x"><v>2</v></c>'),
        "cell H2 has the type 'x', which no sheet uses",
    ),
    "a billion laughs": (hostile.entity_xlsx, "xl/sharedStrings.xml declares a document type ('sst')"),
    "an external entity": (
        lambda: hostile.entity_xlsx(hostile.EXTERNAL_ENTITY, b"&secret;"),
        "xl/sharedStrings.xml declares a document type ('sst')",
    ),
    "an undeclared entity": (
        lambda: hostile.entity_xlsx(b"", b"&secret;"),
        "xl/sharedStrings.xml is not well-formed XML: undefined entity",
    ),
    "a cell reference that is none": (
        lambda: hostile.invalid_date_xlsx('<c r="H2x"><v>2</v></c>'),
        "a cell of row 2 is named 'H2x', which is no cell reference",
    ),
    "no sheet part": (
        lambda: _drop_part(hostile.valid_xlsx([]), "xl/worksheets/sheet1.xml"),
        "it has no part xl/worksheets/sheet1.xml",
    ),
    "an Excel 97-2003 file": (
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
        "an Excel 97-2003 (.xls) or password-protected workbook",
    ),
    "not a ZIP archive after all": (lambda: b"PK\x03\x04" + b"\x00" * 100, "not a readable XLSX workbook"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_workbook_is_refused_naming_its_problem(case: str) -> None:
    make, message = MALFORMED[case]
    assert message in refusal(make()).message


def test_a_part_packed_with_another_method_than_deflate_is_refused() -> None:
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(hostile.valid_xlsx([])))
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            method = zipfile.ZIP_BZIP2 if info.filename.endswith("sheet1.xml") else zipfile.ZIP_DEFLATED
            archive.writestr(info.filename, source.read(info), compress_type=method)
    assert refusal(buffer.getvalue()).message == (
        "xl/worksheets/sheet1.xml is packed with method 12; a workbook is packed with deflate"
    )


def test_styles_openpyxl_could_not_read_do_not_matter_to_the_cells() -> None:
    assert rows_of(hostile.bad_styles_xlsx())[1][1][:3] == ["服务器", "业务服务器 SN-X1", "SN-X1"]


def _parts(content: bytes) -> dict[str, bytes]:
    source = zipfile.ZipFile(io.BytesIO(content))
    return {info.filename: source.read(info) for info in source.infolist()}


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _drop_part(content: bytes, name: str) -> bytes:
    parts = _parts(content)
    del parts[name]
    return _zip(parts)


def _replace_part(content: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    parts = _parts(content)
    parts[name] = change(parts[name])
    return _zip(parts)
