"""Files made to hurt a server that trusts them, for the upload tests: each as small on the wire as the attack
allows, each aimed at one thing a file can make the server do (memory, time, errors, the XML parser).

A workbook here is written part by part with ``zipfile``, as Excel lays it out (content types, relationships,
workbook, one sheet, shared strings, styles), so that it is a real XLSX file to every reader but the one
hostile part.
"""

import io
import struct
import zipfile
from collections.abc import Iterable, Iterator

from tests.operations.assets.steps import CHINESE_HEADER, csv_row

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE_TYPE}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OFFICE_TYPE}.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="{_OFFICE_TYPE}.styles+xml"/>
</Types>""".encode()
_ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PACKAGE_REL}">
<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>""".encode()
_WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">
<sheets><sheet name="资产" sheetId="1" r:id="rId1"/></sheets>
</workbook>""".encode()
_WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PACKAGE_REL}">
<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/>
</Relationships>""".encode()
_STRINGS_REL = f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'.encode()
_STRINGS_TYPE = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_OFFICE_TYPE}.sharedStrings+xml"/>'.encode()
# Style 1 is a date (built-in number format 14, yyyy-mm-dd in a Chinese locale), as Excel writes a typed date.
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" xfId="0"/><xf numFmtId="14" xfId="0" applyNumberFormat="1"/></cellXfs>
</styleSheet>""".encode()
_CHUNK = 1 << 20


def _columns() -> list[str]:
    return [chr(ord("A") + index) for index in range(len(CHINESE_HEADER))]


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline_row(number: int, cells: list[str]) -> bytes:
    """One ``<row>`` of inline strings (as openpyxl writes them)."""
    inner = "".join(
        f'<c r="{column}{number}" t="inlineStr"><is><t>{_text(cell)}</t></is></c>'
        for column, cell in zip(_columns(), cells, strict=False)
        if cell
    )
    return f'<row r="{number}">{inner}</row>'.encode()


def sheet(rows: Iterable[bytes], *, prolog: bytes = b"") -> Iterator[bytes]:
    """A worksheet part around ``rows`` (each a ``<row>`` element), streamed."""
    yield b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + prolog
    yield f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetData>'.encode()
    yield from rows
    yield b"</sheetData></worksheet>"


def shared_strings(strings: Iterable[bytes], *, prolog: bytes = b"", raw: bool = False) -> Iterator[bytes]:
    """A shared-string table of ``strings`` (each the escaped text of one ``<si>``, or with ``raw`` its XML: rich
    text runs, phonetic guides), streamed."""
    yield b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + prolog
    yield f'<sst xmlns="{_MAIN}">'.encode()
    for text in strings:
        yield b"<si>" + (text if raw else b"<t>" + text + b"</t>") + b"</si>"
    yield b"</sst>"


def workbook(
    sheet_part: Iterable[bytes], strings_part: Iterable[bytes] | None = None, *, styles: bytes = STYLES
) -> bytes:
    """An XLSX file: one sheet, its shared strings (if any) and styles."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        types = _CONTENT_TYPES
        if strings_part is not None:
            types = types.replace(b"</Types>", _STRINGS_TYPE + b"</Types>")
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        relationships = _WORKBOOK_RELS
        if strings_part is not None:
            relationships = relationships.replace(b"</Relationships>", _STRINGS_REL + b"</Relationships>")
        archive.writestr("xl/_rels/workbook.xml.rels", relationships)
        archive.writestr("xl/styles.xml", styles)
        _write(archive, "xl/worksheets/sheet1.xml", sheet_part)
        if strings_part is not None:
            _write(archive, "xl/sharedStrings.xml", strings_part)
    return buffer.getvalue()


def _write(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> None:
    with archive.open(name, "w") as part:
        pending = bytearray()
        for chunk in chunks:
            pending += chunk
            if len(pending) >= _CHUNK:
                part.write(pending)
                pending.clear()
        part.write(pending)


def header_row() -> bytes:
    return inline_row(1, CHINESE_HEADER)


# ---- the three files of issue 18 -----------------------------------------------------------------------------


def error_flood_csv(rows: int = 5_000, extra_cells: int = 1_600) -> bytes:
    """16.7 MB of CSV whose every row is a good item followed by hundreds of values in columns without a
    header: 8,000,000 row errors, each of which the old server listed in its answer."""
    tail = ",x" * extra_cells
    lines = [",".join(CHINESE_HEADER)]
    lines += [",".join(csv_row(f"SN-FLOOD-{n:05}")) + tail for n in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def giant_cell_xlsx(size: int = 1_500_000_000) -> bytes:
    """About 1.5 MB of XLSX whose one shared string is ``size`` characters long (deflate packs a run of one
    letter a thousand to one)."""

    def text() -> Iterator[bytes]:
        block = b"A" * _CHUNK
        left = size
        while left > 0:
            yield block[: min(left, _CHUNK)]
            left -= _CHUNK

    def strings() -> Iterator[bytes]:
        yield b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        yield f'<sst xmlns="{_MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
        yield from text()
        yield b"</t></si></sst>"

    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>server</t></is></c><c r="B2" t="s"><v>0</v></c></row>'
    return workbook(sheet([header_row(), row]), strings())


def blank_rows_xlsx(rows: int = 1_000_000) -> bytes:
    """About 5 MB of XLSX holding a header and then a million rows with nothing in them but a style, as a
    sheet whose formatting was dragged down to the bottom holds them."""

    def blank() -> Iterator[bytes]:
        for number in range(2, rows + 2):
            yield f'<row r="{number}"><c r="A{number}" s="1"/></row>'.encode()

    return workbook(sheet([header_row(), *blank()]))


# ---- malformed workbooks: each a 422 naming the file's problem, never a 500 ------------------------------------

_GOOD_ROW = ["服务器", "业务服务器 SN-X1", "SN-X1", "华为 2288H V6", "机房A区", "", "158000", "2021-03-15"]


def _good_sheet() -> list[bytes]:
    return [header_row(), inline_row(2, _GOOD_ROW)]


def truncated_xlsx() -> bytes:
    """A sheet whose XML stops in the middle of a cell (a download cut short, then zipped)."""
    whole = b"".join(sheet(_good_sheet()))
    return workbook([whole[: whole.index(b"SN-X1") + 3]])


def bad_shared_string_xlsx(index: str = "7") -> bytes:
    """A cell pointing past the end of the shared-string table (two strings)."""
    row = inline_row(2, _GOOD_ROW).replace(
        b'<c r="C2" t="inlineStr"><is><t>SN-X1</t></is></c>', f'<c r="C2" t="s"><v>{index}</v></c>'.encode()
    )
    return workbook(sheet([header_row(), row]), shared_strings([b"SN-S1", b"SN-S2"]))


def nan_cell_xlsx(value: str = "NaN") -> bytes:
    """A number cell holding NaN (no spreadsheet writes one; a script can), or another ``value``."""
    row = inline_row(2, _GOOD_ROW).replace(
        b'<c r="G2" t="inlineStr"><is><t>158000</t></is></c>', f'<c r="G2"><v>{value}</v></c>'.encode()
    )
    return workbook(sheet([header_row(), row]))


def invalid_date_xlsx(cell: str = '<c r="H2" t="d"><v>2021-13-45</v></c>') -> bytes:
    """A date cell that holds no date: an ISO 8601 date cell (``t="d"``) of the 13th month, by default; or a
    date-formatted number whose serial is no day at all (``<c r="H2" s="1"><v>1e300</v></c>``)."""
    row = inline_row(2, _GOOD_ROW).replace(b'<c r="H2" t="inlineStr"><is><t>2021-03-15</t></is></c>', cell.encode())
    return workbook(sheet([header_row(), row]))


BILLION_LAUGHS = (
    b'<!DOCTYPE sst [<!ENTITY a "lollollollollollollollollollol">'
    + b"".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">'.encode() for n in range(9))
    + b"]>\n"
)
EXTERNAL_ENTITY = b'<!DOCTYPE sst [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'


def entity_xlsx(prolog: bytes = BILLION_LAUGHS, reference: bytes = b"&j;") -> bytes:
    """Shared strings that declare entities (a billion laughs, or a file of the server's) and use one."""
    name = f'<c r="B2" t="inlineStr"><is><t>{_GOOD_ROW[1]}</t></is></c>'.encode()
    row = inline_row(2, _GOOD_ROW).replace(name, b'<c r="B2" t="s"><v>0</v></c>')
    return workbook(sheet([header_row(), row]), shared_strings([reference], prolog=prolog))


def bad_styles_xlsx() -> bytes:
    """Styles that break the schema (a fill with no pattern): openpyxl raised TypeError on them."""
    broken = STYLES.replace(b'<fill><patternFill patternType="none"/></fill>', b"<fill/>")
    return workbook(sheet(_good_sheet()), styles=broken)


def valid_xlsx(rows: list[list[str]]) -> bytes:
    """A plain workbook of inline strings under the Chinese header."""
    return workbook(sheet([header_row(), *(inline_row(number, row) for number, row in enumerate(rows, start=2))]))


def declared_size(content: bytes, name: str, size: int) -> bytes:
    """``content`` (a ZIP) with the central directory lying that part ``name`` unpacks to ``size`` bytes."""
    patched = bytearray(content)
    entry = patched.find(b"PK\x01\x02")
    while entry >= 0:
        name_length = struct.unpack_from("<H", patched, entry + 28)[0]
        if patched[entry + 46 : entry + 46 + name_length] == name.encode():
            struct.pack_into("<L", patched, entry + 24, size)
            return bytes(patched)
        entry = patched.find(b"PK\x01\x02", entry + 46)
    raise LookupError(name)
