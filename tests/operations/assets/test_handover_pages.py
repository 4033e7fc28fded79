"""A department's handover in the console: its batches, an inventory uploaded through the same import as the API
(a GB18030 CSV from Excel works; a bad row is shown in place with its line, column and message, and nothing is
added), the operations center's inspection item by item, and another department's batch a 404."""

import re

import httpx

from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.console.people import Person, logged_in
from tests.factories import World
from tests.operations.assets import steps
from tests.operations.assets.steps import csv_file, item
from tests.support import RunningServer

GB_HEADER = ["类别", "名称", "序列号", "规格型号", "位置", "原值(元)", "采购日期"]


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None
    return found.group(1)


def _upload(person: Person, page: str, content: bytes, version: str) -> httpx.Response:
    return person.http.post(
        f"{page}/import",
        data={"csrf_token": person.csrf, "version": version},
        files={"file": ("盘点清单.csv", content, "text/csv")},
    )


def _gb_row(serial: str, value: str = "860000") -> list[str]:
    return ["存储设备", "核心存储阵列", serial, "OceanStor 5310", "市政务云机房B区", value, "2019年5月20日"]


def test_a_gb18030_csv_with_a_bad_row_shows_that_rows_error_and_adds_nothing_then_the_fixed_file_imports(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    with logged_in(server.base_url, db, world.department) as department:
        created = department.submit(
            "/console/handovers/", {"title": "卫健委第一批存储移交", "planned_date": "2027-01-15"}
        )
        assert created.status_code == 303
        page = created.headers["location"].split("?")[0]
        assert "卫健委第一批存储移交" in department.page("/console/handovers").text
        version = _version(department.page(page).text)
        bad = csv_file([_gb_row("SN-GB1"), _gb_row("SN-GB2", value="八十万")], header=GB_HEADER, encoding="gb18030")
        refused = _upload(department, page, bad, version)
        assert refused.status_code == 422
        errors = re.search(r'id="row-errors".*?</table>', refused.text, re.S)
        assert errors is not None
        cells = re.findall(r"<td>(.*?)</td>", errors.group(0), re.S)
        assert cells[:2] == ["3", "原值(元)"]  # the second row below the header, in the column the file named
        assert "清单为空" in refused.text  # nothing added
        good = csv_file([_gb_row("SN-GB1"), _gb_row("SN-GB2")], header=GB_HEADER, encoding="gb18030")
        imported = _upload(department, page, good, version)
        assert imported.status_code == 303
        after = department.page(imported.headers["location"]).text
        assert "资产清单已导入" in after
        assert "SN-GB2" in after
        assert "¥860,000.00" in after
    events = api.as_(world.auditor).get("/api/v1/audit-events?action=handover_batch.add_items").json()["items"]
    assert [event["actor_name"] for event in events] == ["chen.jie"]


def test_the_operations_center_inspects_item_by_item_and_a_stale_form_shows_the_current_state(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    batch = steps.batch(api, world.department, item("SN-P1"), item("SN-P2"))
    steps.act(api, world.department, batch, "submit")
    page = f"/console/handovers/{batch['id']}"
    first, _ = steps.items_of(api, world.operator, batch)
    with logged_in(server.base_url, db, world.operator) as operator:
        assert batch["title"] in operator.page("/console/handovers?status=submitted").text
        stale = _version(operator.page(page).text)
        note_needed = operator.submit(
            f"{page}/inspect", {"version": stale, "item_id": first["id"], "result": "rejected", "defect_note": ""}
        )
        assert note_needed.status_code == 422
        assert "请写明问题" in note_needed.text
        rejected = operator.submit(
            f"{page}/inspect",
            {"version": stale, "item_id": first["id"], "result": "rejected", "defect_note": "硬盘告警"},
        )
        assert rejected.status_code == 303
        again = operator.submit(f"{page}/inspect", {"version": stale, "accept_remaining": "1"})
        assert again.status_code == 412
        assert "已被他人修改" in again.text
        assert "硬盘告警" in again.text
    assert api.as_(world.operator).get(steps.path(batch)).json()["rejected_count"] == 1


def test_another_departments_batch_is_a_404(api: ApiFactory, world: World, db: Database, server: RunningServer) -> None:
    batch = steps.batch(api, world.department, item("SN-X1"))
    with logged_in(server.base_url, db, world.department_b) as stranger:
        assert stranger.page(f"/console/handovers/{batch['id']}").status_code == 404
        assert batch["title"] not in stranger.page("/console/handovers").text
