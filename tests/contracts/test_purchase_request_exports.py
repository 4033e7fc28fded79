"""The purchase request export: the list's requests (and filters), one row per item, estimates as money that adds
up to the API's estimated total, departments, services and approvers by name, and a department's file holding only
its own requests."""

from decimal import Decimal

from tests import factories
from tests.conftest import ApiFactory
from tests.contracts import steps
from tests.exported import assert_excel_ready, assert_money, csv_records, download, read_xlsx
from tests.factories import World

EXPORT = "/api/v1/purchase-requests/export"
HOSTILE = "@SUM(1+1)*cmd|' /C calc'!A0"


def test_the_purchase_request_export_lists_every_item_with_money_and_names(world: World, api: ApiFactory) -> None:
    service = steps.catalog_service(api, world)
    steps.budget(api, world, world.department, 2027, "900000.00")
    approved = steps.approved_request(
        api, world, world.department, steps.item(service, quantity=20, start="2027-01-10")
    )
    two_items = steps.item(service, quantity=2), steps.item(service, quantity=3, start="2027-07-01")
    draft = steps.draft_request(api, world.department, *two_items, title=HOSTILE)
    theirs = steps.draft_request(api, world.department_b, steps.item(service), title="公安云资源")

    records = csv_records(download(api, world.department, EXPORT, "csv"))
    assert [record["申请ID"] for record in records] == [draft["id"], draft["id"], approved["id"]], "newest first"
    assert theirs["id"] not in {record["申请ID"] for record in records}, "a department exports only its own"
    assert records[0]["申请标题"] == "'" + HOSTILE
    first_approved = records[2]
    assert (first_approved["申请部门"], first_approved["服务"], first_approved["状态"]) == (
        factories.DEPARTMENT_A,
        "云服务器（4核8G）",
        "已批准",
    )
    assert (first_approved["审批人"], first_approved["预估金额"]) == ("li.na", approved["estimated_total"])

    book = read_xlsx(download(api, world.bureau, EXPORT, "xlsx", department_id=str(world.department.organization_id)))
    assert_excel_ready(book)
    rows = [row for row in book.rows if row["申请ID"].value == draft["id"]]
    assert [row["序号"].value for row in rows] == [1, 2]
    assert (rows[0]["申请标题"].value, rows[0]["申请标题"].data_type) == (HOSTILE, "s")
    summed = sum(Decimal(str(row["预估金额"].value)).quantize(Decimal("0.01")) for row in rows)
    assert summed == Decimal(draft["estimated_total"]), "the items add up to the request's estimate"
    assert_money(rows[0]["单价"], "1500.00")
    assert rows[0]["开始日期"].number_format == "yyyy-mm-dd"

    approved_only = csv_records(download(api, world.bureau, EXPORT, "csv", status="approved"))
    assert [record["申请ID"] for record in approved_only] == [approved["id"]], "the list's filters hold"


def test_the_purchase_request_export_takes_the_lists_search_and_order(world: World, api: ApiFactory) -> None:
    item = steps.item(steps.catalog_service(api, world))
    first = steps.draft_request(api, world.department, item, title="数据库扩容")
    second = steps.draft_request(api, world.department, item, title="云主机采购")
    third = steps.draft_request(api, world.department, item, title="备份存储扩容")

    def exported(**params: str) -> list[str]:
        records = csv_records(download(api, world.department, EXPORT, "csv", **params))
        listed = api.as_(world.department).get("/api/v1/purchase-requests", params=params).json()["items"]
        assert [record["申请ID"] for record in records] == [request["id"] for request in listed], params
        return [record["申请ID"] for record in records]

    assert exported(q="扩容") == [third["id"], first["id"]], "the search narrows the file"
    assert exported(sort="oldest") == [first["id"], second["id"], third["id"]]
    assert exported(q="扩容", sort="oldest") == [first["id"], third["id"]]
