"""The SLA report export: the list's reports for the month, percentages as percentages (to the digit the API
answers), contracts, instances and departments by number or name, and a department exporting only its own."""

from datetime import date, timedelta

from opscenter.db import Database
from opscenter.timekeeping import utcnow
from sla.measurements.models import Measurement
from tests import factories
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.exported import assert_excel_ready, assert_percent, csv_records, download, read_xlsx
from tests.factories import World

REPORTS = "/api/v1/sla/reports"


def _measured_october(db: Database, instance: dict[str, str], contract: dict[str, str]) -> None:
    """Every day of October 2026 measured: 1,432 of 1,440 samples up (99.44 %)."""
    rows = [
        {
            "service_instance_id": instance["id"],
            "department_id": instance["department_id"],
            "contract_id": contract["id"],
            "line_no": 1,
            "day": date(2026, 10, 1) + timedelta(days=n),
            "up_samples": 1432,
            "samples": 1440,
            "expected_samples": 1440,
            "maintenance_seconds": 0,
            "pulled_at": utcnow(),
            "promql": [],
        }
        for n in range(31)
    ]
    with db.transaction(write=True) as session:
        session.add_all(Measurement.model_validate(row) for row in rows)


def test_the_sla_report_export_matches_the_list_with_percentages_and_names(
    api: ApiFactory, world: World, db: Database
) -> None:
    contract, (instance,) = contracts.provisioned_contract(api, world, start="2026-10-01")
    _measured_october(db, instance, contract)
    listed = contracts.ok(api.as_(world.bureau).get(REPORTS, params={"period": "2026-10"}))["items"]
    assert [(report["availability"], report["status"]) for report in listed] == [("99.44", "breached")]

    (record,) = csv_records(download(api, world.department, f"{REPORTS}/export", "csv", period="2026-10"))
    assert (record["月份"], record["合同编号"], record["服务实例"]) == ("2026-10", contract["number"], instance["name"])
    assert (record["受益部门"], record["状态"], record["可用率来源"]) == (factories.DEPARTMENT_A, "未达标", "实测")
    assert (record["可用率"], record["覆盖率"], record["目标可用率"]) == ("99.44%", "100.00%", "99.90%")
    assert (record["样本数"], record["缺测天数"]) == ("44640", "0")

    book = read_xlsx(download(api, world.bureau, f"{REPORTS}/export", "xlsx", period="2026-10"))
    assert_excel_ready(book)
    (row,) = book.rows
    assert_percent(row["可用率"], "99.44")
    assert_percent(row["扣减比例"], listed[0]["credit_pct"])
    assert (row["正常样本"].value, row["正常样本"].data_type) == (44392, "n")

    mine = download(api, world.department_b, f"{REPORTS}/export", "csv", period="2026-10")
    assert csv_records(mine) == [], "another department's lines are not in its file"
    refused = api.as_(world.department_b).get(
        f"{REPORTS}/export", params={"period": "2026-10", "contract_id": contract["id"]}
    )
    assert refused.status_code == 404, "another department's contract, as if absent"
