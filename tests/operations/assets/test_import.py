"""Uploading an inventory exported from Excel: encodings, headers, and refusing a bad file whole."""

import io

import pytest
from openpyxl import Workbook

from tests.conftest import ApiFactory
from tests.factories import World
from tests.operations.assets import steps
from tests.operations.assets.steps import csv_file, csv_row, item

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_utf8_bom_csv_with_chinese_headers_is_imported(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    rows = [csv_row("SN-A1"), csv_row("SN-A2", kind="网络设备", value="1,200.50", date="2020/7/1", spec="")]
    imported = steps.upload(api, world.department, batch, csv_file(rows, encoding="utf-8-sig"))
    assert imported.status_code == 200, imported.text
    assert imported.json()["item_count"] == 2
    first, second = steps.items_of(api, world.department, batch)
    assert (first["kind"], first["name"], first["spec"], first["original_value"]) == (
        "server",
        "业务服务器 SN-A1",
        {"cpu": 32},
        "158000.00",
    )
    assert (second["kind"], second["kind_label"], second["original_value"]) == ("network_device", "网络设备", "1200.50")
    assert (second["purchase_date"], second["spec"]) == ("2020-07-01", {})


def test_a_gb18030_csv_from_excel_on_chinese_windows_is_imported(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    header = ["类别", "名称", "序列号", "规格型号", "位置", "原值(元)", "采购日期"]
    rows = [
        [
            "存储设备",
            "核心存储阵列（华为OceanStor）",
            "SN-GB1",
            "OceanStor 5310",
            "市政务云机房B区",
            "860000",
            "2019年5月20日",
        ]
    ]
    content = csv_file(rows, header=header, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really GB18030 bytes, no BOM
    imported = steps.upload(api, world.department, batch, content)
    assert imported.status_code == 200, imported.text
    (only,) = steps.items_of(api, world.department, batch)
    assert (only["kind"], only["name"], only["location"]) == (
        "storage",
        "核心存储阵列（华为OceanStor）",
        "市政务云机房B区",
    )
    assert (only["original_value"], only["purchase_date"]) == ("860000.00", "2019-05-20")


def test_english_headers_in_any_order_are_accepted(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    content = csv_file(
        [["SN-E1", "Database Server", "database", "12000"]],
        header=["Serial Number", "name", "KIND", "original_value"],
        encoding="utf-8",
    )
    imported = steps.upload(api, world.department, batch, content)
    assert imported.status_code == 200, imported.text
    (only,) = steps.items_of(api, world.department, batch)
    assert (only["serial_number"], only["kind"], only["model"], only["purchase_date"]) == (
        "SN-E1",
        "database",
        "",
        None,
    )


def test_a_file_with_three_bad_rows_is_refused_naming_all_three_and_imports_nothing(
    world: World, api: ApiFactory
) -> None:
    batch = steps.batch(api, world.department)
    rows = [
        csv_row("SN-B1"),
        csv_row("SN-B2", kind="打印机"),  # line 3: no such kind
        csv_row("SN-B3"),
        csv_row("SN-B4", value="十万"),  # line 5: not an amount
        csv_row("", date="2021-02-30"),  # line 6: no serial number, and no such date
    ]
    refused = steps.upload(api, world.department, batch, csv_file(rows))
    assert refused.status_code == 422, refused.text
    problems = {(e["line"], e["column"]) for e in refused.json()["errors"]}
    assert problems == {(3, "资产类别"), (5, "原值（元）"), (6, "序列号"), (6, "购置日期")}
    for error in refused.json()["errors"]:
        assert error["field"].startswith(f"lines.{error['line']}.")
        assert error["message"]
    after = steps.ok(api.as_(world.department).get(steps.path(batch)))
    assert (after["item_count"], after["version"]) == (0, batch["version"]), "nothing imported"
    assert steps.items_of(api, world.department, batch) == []


def test_a_serial_number_twice_in_the_file_is_refused(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    refused = steps.upload(
        api, world.department, batch, csv_file([csv_row("SN-D1"), csv_row("SN-D2"), csv_row("SN-D1")])
    )
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert (error["line"], error["column"], error["field"]) == (4, "序列号", "lines.4.serial_number")
    assert "line 2" in error["message"]


def test_a_serial_number_already_in_the_register_is_refused(world: World, api: ApiFactory) -> None:
    steps.handed_over(api, world, item("SN-R1"))
    batch = steps.batch(api, world.department_b, title="公安局移交")
    refused = steps.upload(api, world.department_b, batch, csv_file([csv_row("SN-R2"), csv_row("SN-R1")]))
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert (error["line"], error["column"]) == (3, "序列号")
    assert "already in the register" in error["message"]
    assert "asset_ids" not in error["message"], "another department's asset is not described"
    in_json = api.as_(world.department_b).act(steps.path(batch), "items", {"items": [item("SN-R1")]})
    assert in_json.status_code == 422
    assert in_json.json()["errors"][0]["field"] == "items.0.serial_number"


def test_a_serial_number_already_in_the_batch_is_refused(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-C1"))
    refused = steps.upload(api, world.department, batch, csv_file([csv_row("SN-C1")]))
    assert refused.status_code == 422
    assert "already item 1 of this batch" in refused.json()["errors"][0]["message"]


def test_header_problems_are_named_on_line_one(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    content = csv_file([["服务器", "x", "1"]], header=["资产类别", "资产名称", "颜色"])
    refused = steps.upload(api, world.department, batch, content)
    assert refused.status_code == 422
    errors = {(e["line"], e["column"], e["message"].split(";")[0]) for e in refused.json()["errors"]}
    assert errors == {
        (1, "颜色", "unknown column"),
        (1, "序列号", "required column is missing"),
        (1, "原值（元）", "required column is missing"),
    }


def test_format_and_register_problems_are_named_together_down_the_file(world: World, api: ApiFactory) -> None:
    steps.handed_over(api, world, item("SN-R1"))
    batch = steps.batch(api, world.department_b, title="公安局移交")
    rows = [csv_row("SN-R1"), csv_row("SN-R2", value="十万"), csv_row("SN-R3"), csv_row("SN-R2", kind="打印机")]
    refused = steps.upload(api, world.department_b, batch, csv_file(rows))
    assert refused.status_code == 422
    assert [(e["line"], e["column"]) for e in refused.json()["errors"]] == [
        (2, "序列号"),  # a rule: already in the register
        (3, "原值（元）"),  # a format: not an amount
        (5, "资产类别"),  # a format: no such kind
    ]


def test_a_file_that_is_not_text_is_refused(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department)
    refused = steps.upload(api, world.department, batch, b"\xff\xfe" + "资产".encode("utf-16-le"))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "file"
    assert "UTF-16" in refused.json()["errors"][0]["message"]


def test_an_xlsx_workbook_is_imported(world: World, api: ApiFactory) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(steps.CHINESE_HEADER)
    sheet.append(["机柜", "42U 标准机柜", "RACK-01", "图腾 G2", "市政务云机房A区", "", 8500.5, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    batch = steps.batch(api, world.department)
    imported = steps.upload(api, world.department, batch, buffer.getvalue(), content_type=XLSX)
    assert imported.status_code == 200, imported.text
    (only,) = steps.items_of(api, world.department, batch)
    assert (only["kind"], only["serial_number"], only["original_value"]) == ("rack", "RACK-01", "8500.50")


def test_an_upload_needs_the_batch_version_and_a_draft(world: World, api: ApiFactory) -> None:
    batch = steps.batch(api, world.department, item("SN-V1"))
    path = f"{steps.path(batch)}/items/import"
    content = csv_file([csv_row("SN-V2")])
    assert api.as_(world.department).post(path, content=content).status_code == 428
    assert steps.upload(api, world.department, batch, content).status_code == 200
    stale = api.as_(world.department).post(path, content=csv_file([csv_row("SN-V3")]), headers={"If-Match": '"1"'})
    assert stale.status_code == 412, "a retried upload is not added twice"
    steps.act(api, world.department, batch, "submit")
    assert steps.upload(api, world.department, batch, csv_file([csv_row("SN-V4")])).status_code == 409
