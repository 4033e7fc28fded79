"""The rest of the day in a real browser, and every console page read by axe-core: a department uploads a GB18030
CSV with a bad row to its handover batch and sees that row's error in place (nothing of the file imported), and
disputes a line of its statement, which the bureau resolves; then each role walks the pages the first test did not
open (lists and details, maintenance windows, the audit trail and its chain, the admin's pages, account and
password, "awaiting me" of each role). Every page: no serious or critical axe-core violation, a screenshot in
``test-artifacts/console/``, and no request to a host other than 127.0.0.1."""

from datetime import timedelta

import pytest
from playwright.sync_api import Browser

from opscenter.db import Database
from opscenter.timekeeping import utcnow
from tests.billing import steps as billing
from tests.conftest import ApiFactory
from tests.console.browser.conftest import Desk
from tests.console.people import give_password
from tests.contracts import steps as contracts
from tests.factories import World
from tests.operations.assets import steps as handovers

# Once, in the SQLite run: what a browser adds (the pages' markup, HTMX, the scripts, axe-core, the screenshots) is the
# same whichever database is behind the server. The pages' queries run on PostgreSQL in tests/console, over HTTP.
pytestmark = pytest.mark.once

PERIOD = "2026-02"
# The header Excel writes for a department's own inventory sheet, saved as "CSV (逗号分隔)": GB18030.
GB_HEADER = ["类别", "名称", "序列号", "规格型号", "位置", "原值(元)", "采购日期"]


def _gb_row(serial: str, value: str = "860000") -> list[str]:
    return ["存储设备", "核心存储阵列", serial, "OceanStor 5310", "市政务云机房B区", value, "2019年5月20日"]


def _issued_statement_and_proposed_window(api: ApiFactory, world: World) -> tuple[contracts.JSON, contracts.JSON]:
    """An issued statement of the department's contract, and a maintenance window proposed on its instance."""
    contract, (served,) = contracts.provisioned_contract(api, world)
    with billing.chosen_inputs():
        billing.run(api, world.operator, PERIOD)
    statement = billing.statement_of(api, world.bureau, contract, PERIOD)
    statement = contracts.ok(billing.act(api, world.operator, statement, "issue"))
    starts = utcnow() + timedelta(days=2)
    window = {
        "service_instance_ids": [served["id"]],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "reason": "核心交换机固件升级",
    }
    contracts.ok(api.as_(world.operator).post("/api/v1/maintenance-windows", window), 201)
    return statement, contract


def test_the_department_files_and_disputes_and_every_page_passes_axe(
    browser: Browser, console: str, api: ApiFactory, world: World, db: Database
) -> None:
    statement, contract = _issued_statement_and_proposed_window(api, world)
    batch = handovers.batch(api, world.department, handovers.item("SN-KEPT"), title="卫健委存储设备移交")
    for who in (world.department, world.bureau, world.operator, world.auditor, world.admin):
        give_password(db, who)

    # The department uploads a GB18030 CSV with one bad row: that row's error in place, nothing of the file added.
    department = Desk(browser, console)
    department.log_in(world.department)
    department.page.wait_for_url("**/console")
    department.check("awaiting-department")
    department.page.get_by_role("link", name="资产接管").click()
    department.check("handovers")
    department.page.get_by_role("link", name="卫健委存储设备移交").click()
    department.check("handover")
    sheet = handovers.csv_file([_gb_row("SN-GB1"), _gb_row("SN-GB2", value="八十六万")], GB_HEADER, "gb18030")
    department.page.get_by_label("CSV（UTF-8 或 GB18030）或 XLSX 文件").set_input_files(
        {"name": "盘点清单.csv", "mimeType": "text/csv", "buffer": sheet}
    )
    department.page.get_by_role("button", name="上传").click()
    errors = department.page.locator("#row-errors tbody tr")
    assert errors.count() == 1
    shown = tuple(errors.first.locator("td").all_inner_texts())
    assert shown[:2] == ("3", "原值(元)")  # the second row below the header, in the column the file named
    by_api = handovers.upload(api, world.department, batch, sheet)  # the same file through the API: refused alike
    assert by_api.status_code == 422
    assert [(str(e["line"]), e["column"], e["message"]) for e in by_api.json()["errors"]] == [shown]
    items = department.page.locator("#items tbody").inner_text()
    assert "SN-KEPT" in items
    assert "SN-GB1" not in items  # the good row of a refused file is not imported either
    department.check("handover-row-errors")
    assert [kept["serial_number"] for kept in handovers.items_of(api, world.department, batch)] == ["SN-KEPT"]
    department.page.get_by_role("button", name="提交运营中心验收").click()
    assert department.page.locator("#status").inner_text() == "验收中"

    # The department disputes a line of its statement.
    department.page.get_by_role("link", name="结算单").first.click()
    department.check("statements")
    department.page.get_by_role("link", name=contract["number"]).click()
    department.page.get_by_label("第 1 行的申诉理由").fill("2月12日停电已报备维护窗口")
    department.page.get_by_role("button", name="申诉").click()
    assert "已提出申诉" in department.page.locator("[role=status]").inner_text()
    assert "申诉中" in department.page.locator("#lines").inner_text()
    assert "2月12日停电已报备维护窗口" in department.page.locator("#disputes").inner_text()
    department.check("statement-disputed")
    department.page.get_by_role("link", name="维护窗口").click()
    department.check("maintenance-department")
    department.visit("/console/account", "account")
    department.page.get_by_role("link", name="修改密码").click()
    department.check("password")
    department.close()

    # The bureau finds the dispute awaiting it and resolves it; the proposed maintenance window waits for it too.
    bureau = Desk(browser, console)
    bureau.log_in(world.bureau)
    bureau.page.get_by_role("link", name="待处理的结算申诉").click()
    bureau.page.get_by_role("link", name=contract["number"]).click()
    bureau.check("statement-dispute-to-resolve")
    bureau.page.get_by_label("处理方式").select_option("accepted")
    bureau.page.get_by_label("理由（必填）").fill("核实无误，维持原结算")
    bureau.page.get_by_role("button", name="处理", exact=True).click()
    assert "申诉已处理" in bureau.page.locator("[role=status]").inner_text()
    assert "核实无误，维持原结算" in bureau.page.locator("#disputes").inner_text()
    bureau.check("statement")
    bureau.visit("/console", "awaiting-bureau-after")
    bureau.page.get_by_role("link", name="待审批的维护窗口").click()
    bureau.check("maintenance-bureau")
    bureau.close()
    assert billing.read(api, world.bureau, statement["id"])["disputes"][0]["status"] == "resolved"

    # The operations center's desk: awaiting me, the batch to inspect item by item, and the contracts list.
    operator = Desk(browser, console)
    operator.log_in(world.operator)
    operator.page.wait_for_url("**/console")
    operator.check("awaiting-operator")
    operator.page.get_by_role("link", name="待验收的接管批次").click()
    operator.page.get_by_role("link", name="卫健委存储设备移交").click()
    operator.check("handover-inspection")
    operator.page.get_by_role("link", name="合同").click()
    operator.check("contracts")
    operator.close()

    # The auditor: the trail, and the chain verified.
    auditor = Desk(browser, console)
    auditor.log_in(world.auditor)
    auditor.page.wait_for_url("**/console")
    auditor.check("awaiting-auditor")
    auditor.page.get_by_role("link", name="审计日志").click()
    assert "dispute.resolve" in auditor.page.locator("table").inner_text()
    auditor.check("audit")
    auditor.page.get_by_role("link", name="立即校验整条链").click()
    auditor.page.locator("#verdict").wait_for()
    auditor.check("audit-chain")
    auditor.close()

    # The admin: organizations, users, one user, API keys, and a new key shown once.
    admin = Desk(browser, console)
    admin.log_in(world.admin)
    admin.page.wait_for_url("**/console")
    admin.check("awaiting-admin")
    admin.page.get_by_role("link", name="组织").click()
    admin.check("organizations")
    admin.page.get_by_role("link", name="用户", exact=True).click()
    admin.check("users")
    admin.page.get_by_role("link", name=world.department.user_name).click()
    admin.check("user")
    admin.page.get_by_role("navigation", name="主导航").get_by_role("link", name="API 密钥").click()
    admin.check("api-keys")
    admin.page.get_by_label("用途").fill("报表系统对接")
    admin.page.get_by_label("用户（登录名）", exact=True).fill(world.department.user_name)
    admin.page.get_by_role("button", name="创建").click()
    assert admin.page.get_by_label("密钥").input_value()
    admin.check("api-key-created")
    admin.close()
