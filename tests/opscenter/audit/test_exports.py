"""The audit trail export: the list's events and filters, newest first, each with its place in the chain and its
hash, times in Asia/Shanghai, organizations by name; a naive ``since`` refused before any file is written."""

from opscenter.audit.sequencer import seal_backlog
from opscenter.db import Database
from tests import factories
from tests.conftest import ApiFactory
from tests.exported import assert_excel_ready, assert_instant, csv_records, download, read_xlsx
from tests.factories import World

EVENTS = "/api/v1/audit-events"


def test_the_audit_trail_exports_as_listed_with_chain_places_and_shanghai_times(
    world: World, api: ApiFactory, db: Database
) -> None:
    api.as_(world.admin).post("/api/v1/organizations", {"name": "市交通运输局", "kind": "department"})
    seal_backlog(db)
    api.as_(world.admin).post("/api/v1/organizations", {"name": "-1+市水务局", "kind": "department"})
    listed = api.as_(world.auditor).get(EVENTS, params={"limit": "200"}).json()["items"]

    records = csv_records(download(api, world.auditor, f"{EVENTS}/export", "csv"))
    assert [record["事件ID"] for record in records] == [event["id"] for event in listed], "the list, newest first"
    newest, sealed = records[0], records[1]
    assert (newest["动作"], newest["链序号"], newest["哈希"]) == ("organization.create", "", ""), "not sealed yet"
    assert newest["变更"] == '{"kind": [null, "department"], "name": [null, "-1+市水务局"]}'
    assert (sealed["链序号"], sealed["哈希"]) == (str(listed[1]["seq"]), listed[1]["hash"])
    assert newest["操作人单位"] == factories.BUREAU_ORG, "the organization by name"

    filtered = csv_records(download(api, world.auditor, f"{EVENTS}/export", "csv", action="organization.create"))
    expected = [event["id"] for event in listed if event["action"] == "organization.create"]
    assert [record["事件ID"] for record in filtered] == expected, "the list's filters hold"

    book = read_xlsx(download(api, world.admin, f"{EVENTS}/export", "xlsx"))
    assert_excel_ready(book)
    assert_instant(book.rows[0]["时间"], listed[0]["occurred_at"])
    assert (book.rows[1]["链序号"].value, book.rows[1]["链序号"].data_type) == (listed[1]["seq"], "n")

    naive = api.as_(world.auditor).get(f"{EVENTS}/export", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 400, "refused before the file begins"
    assert naive.json()["errors"][0]["field"] == "since"
    assert api.as_(world.department).get(f"{EVENTS}/export").status_code == 403


def test_the_audit_trail_export_takes_the_lists_search(world: World, api: ApiFactory) -> None:
    api.as_(world.admin).post("/api/v1/organizations", {"name": "市交通运输局", "kind": "department"})
    api.as_(world.admin).post("/api/v1/organizations", {"name": "市水务局", "kind": "department"})
    searched = {"q": "organization.create", "limit": "200"}
    listed = [event["id"] for event in api.as_(world.auditor).get(EVENTS, params=searched).json()["items"]]
    everything = csv_records(download(api, world.auditor, f"{EVENTS}/export", "csv"))
    records = csv_records(download(api, world.auditor, f"{EVENTS}/export", "csv", q="organization.create"))
    assert [record["事件ID"] for record in records] == listed, "the file holds what the searched list shows"
    assert 2 <= len(records) < len(everything), "the search narrows the file"
