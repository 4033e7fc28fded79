"""The column set of asset spreadsheets: what an upload may hold, what exports write, and the conversions.

Every column has an English key (also accepted as a header) and a Chinese header (written by exports,
accepted by imports, with a few common spellings besides). Headers match after NFKC normalization,
so full-width ``（元）`` and ASCII ``(元)`` are the same, and case, spaces and underscores do not matter.
Exports write the description columns plus register or inspection columns; an import reads the
description columns and accepts the others without reading them, so an export re-imports as it is.
"""

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from operations.assets.register.models import MAX_SPEC_CHARS, AssetDescription, AssetIn, AssetKind
from opscenter.errors import ErrorList, FieldError
from opscenter.exports import Column as SheetColumn
from opscenter.exports import Kind
from opscenter.schemas import MAX_JSON_DEPTH
from opscenter.sheets import DEFAULT_LIMITS, Deadline, Limits, Table, UnreadableFile, quoted, read_table


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()


KIND = Column("kind", "资产类别", ("类别", "资产类型", "类型"))
NAME = Column("name", "资产名称", ("名称",))
SERIAL = Column("serial_number", "序列号", ("sn", "serial", "资产序列号", "设备序列号"))
MODEL = Column("model", "型号", ("规格型号", "品牌型号"))
LOCATION = Column("location", "存放位置", ("位置", "所在位置"))
SPEC = Column("spec", "规格参数", ("规格", "配置"))
ORIGINAL_VALUE = Column("original_value", "原值（元）", ("原值", "资产原值"))
PURCHASE_DATE = Column("purchase_date", "购置日期", ("采购日期", "购买日期"))

DESCRIPTION = (KIND, NAME, SERIAL, MODEL, LOCATION, SPEC, ORIGINAL_VALUE, PURCHASE_DATE)
REQUIRED = frozenset({KIND.key, NAME.key, SERIAL.key, ORIGINAL_VALUE.key})

# Written by exports; an import accepts them and ignores them (the register, not a file, decides these).
ASSET_ID = Column("id", "资产ID")
STATE = Column("state", "状态")
OWNER = Column("owner_department", "所属部门")
OPERATOR = Column("operator_organization", "运营单位")
TRANSFERRED_ON = Column("transferred_on", "接管日期")
SERVICE_INSTANCES = Column("service_instance_ids", "关联服务实例")
POSITION = Column("position", "序号")
RESULT = Column("inspection_result", "验收结果")
DEFECT_NOTE = Column("defect_note", "缺陷说明")

REGISTER = (ASSET_ID, *DESCRIPTION, STATE, OWNER, OPERATOR, TRANSFERRED_ON, SERVICE_INSTANCES)
INVENTORY = (POSITION, *DESCRIPTION, RESULT, DEFECT_NOTE)
_IGNORED = (ASSET_ID, STATE, OWNER, OPERATOR, TRANSFERRED_ON, SERVICE_INSTANCES, POSITION, RESULT, DEFECT_NOTE)


def _normal(text: str) -> str:
    return re.sub(r"[\s_\-]", "", unicodedata.normalize("NFKC", text)).lower()


_BY_HEADER: dict[str, Column | None] = {}
for _column in DESCRIPTION:
    for _name in (_column.key, _column.header, *_column.aliases):
        _BY_HEADER[_normal(_name)] = _column
for _column in _IGNORED:
    _BY_HEADER[_normal(_column.key)] = _BY_HEADER[_normal(_column.header)] = None

_KINDS: dict[str, AssetKind] = {_normal(kind.value): kind for kind in AssetKind} | {
    _normal(kind.label): kind for kind in AssetKind
}
_KINDS |= {"存储": AssetKind.STORAGE, "软件授权": AssetKind.SOFTWARE_LICENSE, "许可证": AssetKind.SOFTWARE_LICENSE}
_KINDS |= {"其它": AssetKind.OTHER, "安全": AssetKind.SECURITY_DEVICE, "网络": AssetKind.NETWORK_DEVICE}
_SEPARATORS = re.compile(r"[,，\s]")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


@dataclass(frozen=True)
class Row:
    line: int
    asset: AssetIn


@dataclass
class ParsedFile:
    rows: list[Row] = field(default_factory=list)
    errors: ErrorList = field(default_factory=ErrorList)


_MAX_COLUMN_NAME = 100  # characters of a header quoted in an error: a header cell may be long


def error(line: int, column: str, key: str, message: str) -> FieldError:
    return FieldError(f"lines.{line}.{key}", message, line=line, column=column[:_MAX_COLUMN_NAME])


def parse_file(content: bytes, *, limits: Limits = DEFAULT_LIMITS) -> ParsedFile:
    """Every row of an uploaded CSV or XLSX as a new asset, or the problems found (the first
    ``MAX_LISTED_ERRORS`` listed, all counted): each bad cell, each serial number that appears on an earlier row
    too, and what is wrong with the file itself (``field="file"``, listed first: line 1 for the header).

    Reading stops at the first of ``limits`` the file passes (rows, cells, columns, what a workbook unpacks to,
    the time to read and check it all), so what a file costs is bounded whatever it holds.
    """
    parsed = ParsedFile()
    deadline = Deadline(limits.seconds)
    try:
        table = read_table(content, limits, deadline)
        layout = _layout(table, parsed.errors)
        if parsed.errors:
            return parsed
        first_line: dict[str, int] = {}
        for line, cells in table.rows:
            deadline.check()
            row = _row(line, cells, layout, table.header, parsed.errors)
            if row is None:
                continue
            serial = row.asset.serial_number
            if serial in first_line:
                message = f"serial number {serial} is also on line {first_line[serial]}"
                parsed.errors.add(error(line, _header_of(SERIAL, layout, table.header), SERIAL.key, message))
                continue
            first_line[serial] = line
            parsed.rows.append(row)
    except UnreadableFile as exc:
        parsed.errors.first(FieldError("file", exc.message, line=exc.line))
        parsed.rows.clear()  # the file is refused whole: what was read of it is of no use
    return parsed


def _layout(table: Table, errors: ErrorList) -> dict[int, Column]:
    """Which description column each position of the header holds; header problems go to ``errors``."""
    layout: dict[int, Column] = {}
    seen: dict[str, str] = {}
    for position, header in enumerate(table.header):
        name = header.strip().lstrip("\ufeff")
        if not name:
            continue
        column = _BY_HEADER.get(_normal(name), ...)
        if column is ...:
            known = "、".join(f"{c.header} ({c.key})" for c in DESCRIPTION)
            errors.add(error(1, name, "header", f"unknown column; the columns are {known}"))
        elif column is not None:
            if column.key in seen:
                errors.add(error(1, name, "header", f"the same column as {seen[column.key][:_MAX_COLUMN_NAME]}"))
            seen[column.key] = name
            layout[position] = column
    for column in DESCRIPTION:
        if column.key in REQUIRED and column.key not in seen:
            errors.add(error(1, column.header, column.key, "required column is missing"))
    return layout


def _header_of(column: Column, layout: dict[int, Column], header: list[str]) -> str:
    return next((header[position].strip() for position, c in layout.items() if c is column), column.header)


def _row(line: int, cells: list[str], layout: dict[int, Column], header: list[str], errors: ErrorList) -> Row | None:
    values: dict[str, Any] = {}
    problems: list[FieldError] = []
    unreadable: set[str] = set()
    for position, cell in enumerate(cells):
        column = layout.get(position)
        if column is None:
            if cell.strip() and (position >= len(header) or not header[position].strip()):
                problems.append(error(line, f"#{position + 1}", "file", "a value in a column without a header"))
            continue
        try:
            value = _convert(column, cell)
        except ValueError as exc:
            problems.append(error(line, header[position].strip(), column.key, str(exc)))
            unreadable.add(column.key)
            continue
        if value is not None:
            values[column.key] = value
    try:
        asset = AssetIn(**values)
    except ValidationError as exc:
        asset = None
        for problem in exc.errors(include_url=False):
            key = str(problem["loc"][0]) if problem["loc"] else "row"
            if key in unreadable:
                continue  # already named, as what the cell could not be read as
            column = next((c for c in DESCRIPTION if c.key == key), None)
            where = _header_of(column, layout, header) if column is not None else key
            message = "required" if problem["type"] == "missing" else problem["msg"].removeprefix("Value error, ")
            problems.append(error(line, where, key, message))
    errors.extend(problems)
    return Row(line, asset) if asset is not None and not problems else None


def _convert(column: Column, cell: str) -> Any:
    """One cell's text as the value the model takes; None when empty (the model's default, or "required")."""
    text = cell.strip()
    if not text:
        return None
    if column is KIND:
        kind = _KINDS.get(text) or _KINDS.get(_normal(text))
        if kind is None:
            choices = "、".join(f"{k.label} ({k.value})" for k in AssetKind)
            raise ValueError(f"unknown kind {quoted(text)}; one of {choices}")
        return kind
    if column is SPEC:
        return _spec(text)
    if column is ORIGINAL_VALUE:
        return _SEPARATORS.sub("", text).lstrip("¥￥").removesuffix("元")
    if column is PURCHASE_DATE:
        return _date(text)
    return text


def _spec(text: str) -> dict[str, Any]:
    """A spec cell: a JSON object, read as an API body's spec is (the model then holds it to the same rule).
    What Python's reader takes beyond JSON (NaN, Infinity) is refused; so is text no spec could be."""
    if len(text) > MAX_SPEC_CHARS:
        raise ValueError(f"spec is longer than {MAX_SPEC_CHARS} characters as JSON")
    try:
        spec = json.loads(text, parse_constant=_not_a_json_number)
    except RecursionError:
        raise ValueError(f"is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except _NotAJsonNumber as exc:
        raise ValueError(str(exc)) from None
    except ValueError:  # not JSON at all
        spec = None
    if not isinstance(spec, dict):
        raise ValueError('not a JSON object, e.g. {"cpu": 32, "memory_gb": 256}')
    return spec


class _NotAJsonNumber(ValueError):
    pass


def _not_a_json_number(constant: str) -> Any:
    raise _NotAJsonNumber(f"{constant} is not a JSON number; JSON numbers are finite")


def _date(text: str) -> date:
    match = _DATE.match(text)
    try:
        if match is None:
            raise ValueError
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise ValueError(f"not a date: {quoted(text)}; write YYYY-MM-DD, e.g. 2021-03-15") from None


def description_cells(asset: AssetDescription, original_value: Decimal) -> list[Any]:
    """The description columns of one asset or inventory item, as an export writes them (``SHEET_KINDS``)."""
    return [
        asset.kind.label,
        asset.name,
        asset.serial_number,
        asset.model,
        asset.location,
        json.dumps(asset.spec, ensure_ascii=False, sort_keys=True) if asset.spec else "",
        original_value,
        asset.purchase_date,
    ]


_KINDS_OF = {ORIGINAL_VALUE.key: Kind.MONEY, PURCHASE_DATE.key: Kind.DATE, TRANSFERRED_ON.key: Kind.DATE}
_KINDS_OF |= {POSITION.key: Kind.INTEGER}


def sheet_columns(columns: Sequence[Column]) -> tuple[SheetColumn, ...]:
    """The columns as an export writes them: money as money, dates as dates, the rest as text."""
    return tuple(SheetColumn(column.header, _KINDS_OF.get(column.key, Kind.TEXT)) for column in columns)


def headers(columns: Sequence[Column]) -> list[str]:
    return [column.header for column in columns]
