"""Permission rows: SLA measurements and reports (every business role reads; departments their own) and
maintenance windows (the operations center proposes and withdraws, the bureau decides)."""

from datetime import timedelta

from opscenter.timekeeping import utcnow
from tests.conftest import ApiFactory
from tests.contracts import steps as contracts
from tests.factories import World
from tests.permissions.table import BUREAU, OPERATOR, READERS, Prepare, Prepared, Row, only

WINDOWS = "/api/v1/maintenance-windows"


def _proposal_body(world: World, api: ApiFactory) -> dict[str, object]:
    _, instance = contracts.provisioned_instance(api, world)
    starts = utcnow() + timedelta(days=2)
    return {
        "service_instance_ids": [instance["id"]],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "reason": "内核升级",
    }


def _new_window(world: World, api: ApiFactory) -> Prepared:
    return Prepared(body=_proposal_body(world, api))


def _window(body: object = None) -> Prepare:
    def prepare(world: World, api: ApiFactory) -> Prepared:
        """A proposal touching world.department's instance."""
        window = contracts.ok(api.as_(world.operator).post(WINDOWS, _proposal_body(world, api)), 201)
        return Prepared(params={"window_id": window["id"]}, body=body, etag_of=f"{WINDOWS}/{window['id']}")

    return prepare


ROWS: list[Row] = [
    Row("GET", "/api/v1/sla/measurements", only(200, *READERS)),
    Row("GET", "/api/v1/sla/reports", only(200, *READERS), lambda world, api: Prepared(query={"period": "2026-10"})),
    Row(
        "GET",
        "/api/v1/sla/reports/export",
        only(200, *READERS),
        lambda world, api: Prepared(query={"period": "2026-10"}),
    ),
    Row("GET", WINDOWS, only(200, *READERS)),
    Row("POST", WINDOWS, only(201, OPERATOR), _new_window),
    Row("GET", WINDOWS + "/{window_id}", only(200, *READERS), _window()),
    Row("POST", WINDOWS + "/{window_id}/approve", only(200, BUREAU), _window({})),
    Row("POST", WINDOWS + "/{window_id}/reject", only(200, BUREAU), _window({"reason": "改期"})),
    Row("POST", WINDOWS + "/{window_id}/withdraw", only(200, OPERATOR), _window()),
]
