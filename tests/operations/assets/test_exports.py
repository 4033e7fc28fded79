"""Exports for Excel (CSV with BOM, XLSX; Chinese headers), and an export uploaded again gives the same register."""

from opscenter.db import Database
from tests import factories
from tests.conftest import ApiFactory
from tests.exported import assert_excel_ready, assert_money, read_xlsx
from tests.factories import World
from tests.operations.assets import steps
from tests.operations.assets.steps import ASSETS, item, read_csv
from tests.support import wipe

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REGISTER_HEADER = [
    "资产ID",
    "资产类别",
    "资产名称",
    "序列号",
    "型号",
    "存放位置",
    "规格参数",
    "原值（元）",
    "购置日期",
    "状态",
    "所属部门",
    "运营单位",
    "接管日期",
    "关联服务实例",
]
ITEMS = (
    item("SN-X1", spec={"cpu": 32, "备注": "双路电源"}, original_value="158000.05"),
    item("SN-X2", kind="software_license", name='=HYPERLINK("http://x")', model="", purchase_date=None, spec={}),
    item("SN-X3", kind="rack", location="-1F 机房", original_value="0.00"),
)


def _export(api: ApiFactory, who: factories.Identity, path: str, file_format: str) -> bytes:
    response = api.as_(who).get(path, params={"format": file_format})
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    return response.content


def _without_ids(rows: list[list[str]]) -> list[list[str]]:
    """The rows without the id column, by serial number (assets registered in one millisecond have no order)."""
    return [rows[0][1:], *sorted(row[1:] for row in rows[1:])]


def _by_serial(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    return {row[3]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


def test_the_register_exports_as_csv_and_xlsx_with_chinese_headers(world: World, api: ApiFactory) -> None:
    steps.handed_over(api, world, *ITEMS)
    content = _export(api, world.department, f"{ASSETS}/export", "csv")
    rows = read_csv(content)
    assert rows[0] == REGISTER_HEADER
    exported = _by_serial(rows)
    first = exported["SN-X1"]
    assert (first["资产类别"], first["序列号"], first["原值（元）"], first["状态"]) == (
        "服务器",
        "SN-X1",
        "158000.05",
        "已接管运营",
    )
    assert (first["所属部门"], first["运营单位"]) == (factories.DEPARTMENT_A, factories.OPERATOR_ORG)
    assert first["规格参数"] == '{"cpu": 32, "备注": "双路电源"}'
    assert exported["SN-X2"]["资产名称"] == '\'=HYPERLINK("http://x")', "text Excel would run as a formula is defused"
    assert exported["SN-X3"]["存放位置"] == "'-1F 机房"

    book = read_xlsx(_export(api, world.department, f"{ASSETS}/export", "xlsx"))
    assert book.header == REGISTER_HEADER
    assert_excel_ready(book)
    in_sheet = {row["序列号"].value: row for row in book.rows}
    assert sorted(in_sheet) == ["SN-X1", "SN-X2", "SN-X3"]
    name = in_sheet["SN-X2"]["资产名称"]
    assert (name.value, name.data_type) == ('=HYPERLINK("http://x")', "s"), "a text cell, never a formula"
    assert_money(in_sheet["SN-X1"]["原值（元）"], "158000.05")
    assert_money(in_sheet["SN-X3"]["原值（元）"], "0.00")
    bought = in_sheet["SN-X1"]["购置日期"]
    assert (bought.data_type, bought.number_format) == ("d", "yyyy-mm-dd"), "a date, not text"
    assert in_sheet["SN-X1"]["所属部门"].value == factories.DEPARTMENT_A, "the department by name"
    assert read_csv(_export(api, world.department_b, f"{ASSETS}/export", "csv")) == [REGISTER_HEADER]


def test_a_handover_inventory_exports_with_its_inspection(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, *ITEMS)
    steps.act(api, world.department, batch, "submit")
    first = steps.items_of(api, world.operator, batch)[0]
    steps.inspect(api, world, batch, steps.reject(first))
    rows = read_csv(_export(api, world.bureau, f"{steps.path(batch)}/inventory", "csv"))
    assert rows[0] == ["序号", *REGISTER_HEADER[1:9], "验收结果", "缺陷说明"]
    assert [row[-2:] for row in rows[1:]] == [
        ["验收不合格", "硬盘SMART告警，需更换后再移交"],
        ["验收合格", ""],
        ["验收合格", ""],
    ]
    assert api.as_(world.department_b).get(f"{steps.path(batch)}/inventory").status_code == 404


def test_an_exported_register_uploaded_again_gives_the_same_register(
    world: World, api: ApiFactory, db: Database
) -> None:
    steps.handed_over(api, world, *ITEMS)
    exported_csv = _export(api, world.department, f"{ASSETS}/export", "csv")
    exported_xlsx = _export(api, world.department, f"{ASSETS}/export", "xlsx")

    for exported, content_type in ((exported_csv, "text/csv"), (exported_xlsx, XLSX)):
        wipe(db)
        fresh = factories.world(db)
        batch = steps.batch(api, fresh.department)
        uploaded = steps.upload(api, fresh.department, batch, exported, content_type=content_type)
        assert uploaded.status_code == 200, uploaded.text
        steps.act(api, fresh.department, batch, "submit")
        steps.inspect(api, fresh, batch)
        steps.sign_all(api, fresh, batch)
        again = _export(api, fresh.department, f"{ASSETS}/export", "csv")
        assert _without_ids(read_csv(again)) == _without_ids(read_csv(exported_csv))
