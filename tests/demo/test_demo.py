"""``opscenter demo``, run as a newcomer runs it: a real subprocess on a database of its own, twice."""

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlmodel import SQLModel, col

from billing.statements.models import Statement
from contracts.purchasing.models import PurchaseRequest, PurchaseStatus
from operations.assets.handover.models import HandoverBatch, HandoverStatus
from operations.assets.register.models import Asset, AssetState
from operations.tickets.models import Ticket, TicketStatus
from opscenter.app import create_app
from opscenter.db import Database
from opscenter.demo.province import Calendar
from opscenter.identity.models import Role
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow
from sla.maintenance.models import MaintenanceStatus, MaintenanceWindow
from tests import loopback
from tests.console.people import Person
from tests.demo.steps import run_demo
from tests.support import RunningServer, scrape


def row_counts(db: Database) -> dict[str, int]:
    with db.transaction(write=False) as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def test_the_demo_seeds_a_province_once_and_a_second_run_duplicates_nothing(demo_settings: Settings) -> None:
    first = run_demo(demo_settings, "--if-empty")  # what scripts/serve runs on a fresh install
    lines = [line.split("\t") for line in first.stdout.splitlines()]
    assert {len(line) for line in lines} == {4}, "role, login, key, console password"
    keys = {role: key for role, _, key, _ in lines}
    console_passwords = {login: password for _, login, _, password in lines}
    last_month = str(Calendar(utcnow()).last_month)
    assert sorted(keys) == sorted(role.value for role in Role), "one key per role, printed once"

    db = Database(demo_settings)
    try:
        seeded = row_counts(db)
        assert seeded["organization"] == 12
        assert seeded["catalog_service"] == 12
        assert seeded["service_instance"] == 50
        assert 3 <= seeded["contract"] <= 4
        with db.transaction(write=False) as session:
            request_states = set(session.execute(select(col(PurchaseRequest.status)).distinct()).scalars())
            batch_states = set(session.execute(select(col(HandoverBatch.status)).distinct()).scalars())
            operated = session.execute(
                select(func.count()).select_from(Asset).where(col(Asset.state) == AssetState.OPERATED)
            ).scalar_one()
            window_states = set(session.execute(select(col(MaintenanceWindow.status)).distinct()).scalars())
            ticket_states = set(session.execute(select(col(Ticket.status)).distinct()).scalars())
            statements = session.execute(
                select(func.count()).select_from(Statement).where(col(Statement.period) == last_month)
            ).scalar_one()
            late = session.execute(
                select(func.count()).select_from(Ticket).where(col(Ticket.resolution_breached_at).is_not(None))
            ).scalar_one()
        assert request_states == set(PurchaseStatus), "a purchase request in every state"
        assert window_states == set(MaintenanceStatus), "a maintenance window in every state"
        assert ticket_states == set(TicketStatus), "a ticket in every state"
        assert late >= 2, "some tickets missed their resolution target"
        assert statements == 3, "last month's statement of each contract in force"
        assert {HandoverStatus.COMPLETED, HandoverStatus.SUBMITTED} <= batch_states, "one batch still in inspection"
        assert 250 <= operated <= 350

        again = run_demo(demo_settings)
        assert again.stdout == "", "keys are shown once"
        assert "printed when it was first seeded" in again.stderr
        assert row_counts(db) == seeded, "a second run writes nothing, not even an audit event"

        untouched = run_demo(demo_settings, "--if-empty")
        assert "not seeding" in untouched.stderr
        assert row_counts(db) == seeded
    finally:
        db.dispose()

    with RunningServer(create_app(demo_settings)) as server:
        _each_key_works_with_its_roles_permissions(server.base_url, keys)
        _each_password_opens_the_console(server.base_url, console_passwords)
        _the_dashboards_figures_are_on_metrics(server.base_url)


def _each_password_opens_the_console(base_url: str, console_passwords: dict[str, str]) -> None:
    for login, password in console_passwords.items():
        person = Person(base_url)
        try:
            assert person.log_in(login, password).headers["location"] == "/console", login
            assert person.page("/console").status_code == 200
        finally:
            person.close()


def _the_dashboards_figures_are_on_metrics(base_url: str) -> None:
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scrape(base_url))
        for sample in family.samples
    }

    def series(name: str) -> dict[str, float]:
        return {
            dict(labels).get("department") or dict(labels)["service"]: v
            for (n, labels), v in samples.items()
            if n == name
        }

    budgets, committed = series("opscenter_budget_yuan"), series("opscenter_budget_committed_yuan")
    assert len(budgets) == 10, "this year's budget of every department"
    assert all(0 < committed[department] <= budgets[department] for department in budgets)
    scores = series("opscenter_rating_score_mean")
    assert 5 <= len(scores) <= 12
    assert all(0 <= score <= 100 for score in scores.values())
    assert sum(series("opscenter_ratings").values()) == 50, "last month, every instance rated once"


def _each_key_works_with_its_roles_permissions(base_url: str, keys: dict[str, str]) -> None:
    def client(role: Role) -> httpx.Client:
        return loopback.client(base_url=base_url, headers={"Authorization": f"Bearer {keys[role.value]}"}, timeout=30)

    last_month = str(Calendar(utcnow()).last_month)
    with client(Role.ADMIN) as admin:
        assert admin.get("/api/v1/me").json()["user"]["name"] == "zhou.hua"
        assert admin.get("/api/v1/users", params={"count": "true"}).json()["total"] == 16
        assert admin.get("/api/v1/audit-events").status_code == 200
        assert admin.get("/api/v1/purchase-requests").status_code == 403, "the admin manages people, not business"

    with client(Role.BUREAU) as bureau:
        waiting = bureau.get("/api/v1/purchase-requests", params={"status": "submitted"}).json()["items"]
        assert len(waiting) == 2
        current = bureau.get(f"/api/v1/purchase-requests/{waiting[0]['id']}")
        approved = bureau.post(
            f"/api/v1/purchase-requests/{waiting[0]['id']}/approve",
            json={},
            headers={"If-Match": current.headers["ETag"]},
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        assert bureau.get("/api/v1/contracts", params={"count": "true"}).json()["total"] == 4
        assert bureau.post("/api/v1/services", json={}).status_code == 403, "the catalog is the operator's"
        proposed = bureau.get("/api/v1/maintenance-windows", params={"status": "proposed"}).json()["items"]
        assert len(proposed) == 1, "a maintenance window awaits the bureau"

    with client(Role.OPERATOR) as operator:
        assert operator.get("/api/v1/service-instances", params={"count": "true"}).json()["total"] == 50
        summary = operator.get("/api/v1/ratings/summary", params={"period": last_month})
        assert summary.status_code == 200, summary.text
        assert operator.get("/api/v1/ratings").status_code == 403, "the operations center sees aggregates only"
        inspecting = operator.get("/api/v1/handovers", params={"status": "submitted"}).json()["items"]
        assert len(inspecting) == 1
        assert operator.get("/api/v1/tickets", params={"count": "true"}).json()["total"] >= 20
        assert len(operator.get("/api/v1/statements", params={"period": last_month}).json()["items"]) == 3

    with client(Role.DEPARTMENT) as department:
        me = department.get("/api/v1/me").json()
        own = department.get("/api/v1/service-instances", params={"limit": 200}).json()["items"]
        assert own
        assert {instance["department_id"] for instance in own} == {me["organization"]["id"]}
        ratings = department.get("/api/v1/ratings", params={"period": last_month}).json()["items"]
        assert len(ratings) == len(own), "it rated every instance it uses last month"
        assets = department.get("/api/v1/assets", params={"count": "true"}).json()
        assert assets["total"] > 0
        assert {asset["owner_department_id"] for asset in assets["items"]} == {me["organization"]["id"]}
        assert department.get("/api/v1/audit-events").status_code == 403
        own_tickets = department.get("/api/v1/tickets", params={"limit": 200}).json()["items"]
        assert own_tickets
        assert {ticket["department_id"] for ticket in own_tickets} == {me["organization"]["id"]}

    with client(Role.AUDITOR) as auditor:
        assert auditor.get("/api/v1/audit-events").status_code == 200
        assert auditor.get("/api/v1/assets", params={"count": "true"}).json()["total"] > 300
        assert auditor.post("/api/v1/budgets", json={}).status_code == 403, "auditors change nothing"
