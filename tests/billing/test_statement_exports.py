"""A statement's file adds up as the API does: after credit notes its payable is the API's payable, a figure set by
hand in a dispute says so, departments and instances are named, and every figure is a number Excel can sum."""

from decimal import Decimal

from tests import factories
from tests.billing import steps
from tests.billing.steps import ChosenInputs
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.contracts.steps import ok
from tests.exported import assert_excel_ready, assert_money, assert_percent, csv_records, download, read_xlsx
from tests.factories import World
from tests.sla.ratings import steps as ratings


def _export_path(statement: dict[str, object]) -> str:
    return f"/api/v1/statements/{statement['id']}/export"


def test_the_exported_payable_is_the_apis_after_credit_notes_and_a_manual_availability_is_marked(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, (instance,) = contracts.provisioned_contract(api, world, start="2026-10-10", end="2026-12-31")
    chosen.set_sla(contract, 1, steps.measured("90.00"))
    chosen.add_breach(contract, 1, number="GD-2026-0042")
    ratings.rate(api, world.department, instance, "2026-10", 85)
    steps.run(api, world.operator, "2026-10")
    statement = ok(
        steps.act(api, world.operator, steps.statement_of(api, world.operator, contract, "2026-10"), "issue")
    )
    path = f"/api/v1/statements/{statement['id']}"
    dispute = ok(api.as_(world.department).post(f"{path}/disputes", {"line_no": 1, "reason": "停电所致"}), 201)
    resolution = {"resolution": "manual_availability", "availability": "99.40", "reason": "按维护窗口复核"}
    ok(api.as_(world.bureau).act(f"/api/v1/disputes/{dispute['id']}", "resolve", resolution))
    ok(steps.act(api, world.bureau, steps.read(api, world.bureau, statement["id"]), "approve"))
    for amount in ("10000.00", "6000.00"):
        note = {"line_no": 1, "amount": amount, "reason": "工单复核"}
        ok(
            api.as_(world.bureau).post(f"{path}/credit-notes", note, headers={"Idempotency-Key": ratings.new_key()}),
            201,
        )
    answered = steps.read(api, world.bureau, statement["id"])
    assert (answered["amount"], answered["credited"], answered["payable"]) == ("16646.45", "16000.00", "646.45")

    records = csv_records(download(api, world.bureau, _export_path(statement), "csv"))
    line, total = records
    assert (total["行号"], total["基数"], total["扣减合计"], total["结算金额"]) == (
        "合计",
        "21290.32",
        "4643.87",
        "16646.45",
    )
    assert (total["贷项冲减"], total["应付金额"]) == ("16000.00", answered["payable"]), (
        "the file pays what the API says"
    )
    assert (line["结算金额"], line["贷项冲减"], line["应付金额"]) == ("16646.45", "16000.00", "646.45")
    assert (line["可用率"], line["实测可用率"], line["可用率来源"]) == ("99.40%", "90.00%", "人工核定（申诉处理）")
    assert (line["评分"], line["评分来源"], line["系数"]) == ("85.00", "评价均分", "0.97")
    assert (line["受益部门"], line["服务实例"]) == (factories.DEPARTMENT_A, instance["name"]), "names, not ids"
    assert line["超时工单"] == "GD-2026-0042"

    book = read_xlsx(download(api, world.bureau, _export_path(statement), "xlsx"))
    assert_excel_ready(book)
    sheet_line, sheet_total = book.rows
    for header in ("基数", "SLA扣减", "工单罚金", "评价扣减", "扣减合计", "结算金额", "贷项冲减", "应付金额"):
        assert_money(sheet_line[header], answered["lines"][0].get(_API.get(header, ""), line[header]))
    assert_money(sheet_total["应付金额"], "646.45")
    assert_money(sheet_total["贷项冲减"], "16000.00")
    summed = sum(Decimal(str(value)) for value in book.values("应付金额")[:-1])
    assert summed == Decimal("646.45"), "the lines' payable add up to the total"
    assert_percent(sheet_line["可用率"], "99.40")
    assert_percent(sheet_line["实测可用率"], "90.00")
    assert sheet_line["可用率来源"].value == "人工核定（申诉处理）"
    coefficient = sheet_line["系数"]
    assert (coefficient.data_type, coefficient.value, coefficient.number_format) == ("n", 0.97, "0.00")
    assert sheet_line["受益部门"].value == factories.DEPARTMENT_A


_API = {"基数": "base", "SLA扣减": "sla_credit", "工单罚金": "penalties", "评价扣减": "rating_ded",
        "扣减合计": "deduction", "结算金额": "amount"}  # fmt: skip


def test_an_unrated_lines_coefficient_is_a_number_like_a_rated_ones(
    world: World, api: ApiFactory, chosen: ChosenInputs
) -> None:
    contract, _ = contracts.provisioned_contract(api, world, start="2026-06-16", end="2026-07-10")
    steps.run(api, world.operator, "2026-06")
    statement = steps.statement_of(api, world.bureau, contract, "2026-06")
    assert steps.line(statement, 1)["coefficient"] == "1"

    (line, total) = csv_records(download(api, world.bureau, _export_path(statement), "csv"))
    assert (line["系数"], line["评分来源"], line["标记"]) == ("1.00", "未评价", "本月未评价")
    assert (total["应付金额"], total["贷项冲减"]) == (statement["payable"], "0.00")
    sheet_line = read_xlsx(download(api, world.bureau, _export_path(statement), "xlsx")).rows[0]
    coefficient = sheet_line["系数"]
    assert (coefficient.data_type, coefficient.value, coefficient.number_format) == ("n", 1, "0.00")
    assert sheet_line["评分"].value is None
