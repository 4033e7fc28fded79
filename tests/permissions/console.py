"""Permission rows: the console's shell (its pages answer a person's browser; here each role calls them with its key,
which the console takes as the API does). Without a session or key, a console route redirects to the login page
(tests/test_permissions.py)."""

from typing import Any

from tests.billing import steps as billing
from tests.conftest import ApiFactory
from tests.factories import World
from tests.permissions.assets import _draft as _draft_batch
from tests.permissions.assets import _inspected, _submitted
from tests.permissions.contracts import _contract, _draft_contract, _submitted_request
from tests.permissions.core import _a_key, _user
from tests.permissions.sla import _window
from tests.permissions.table import ADMIN, AUDITOR, BUREAU, DEPARTMENT, EVERYONE, OPERATOR, READERS, Prepared, Row, only
from tests.permissions.tickets import _ticket


def _request(world: World, api: ApiFactory) -> Prepared:
    """Department A's submitted purchase request; a form without its version is refused (422) past the guard."""
    prepared = _submitted_request(world, api)
    return Prepared(params=prepared.params)


def _a_ticket(world: World, api: ApiFactory) -> Prepared:
    return Prepared(params=_ticket()(world, api).params)


def _a_contract(world: World, api: ApiFactory) -> Prepared:
    return Prepared(params={"contract_id": _contract(world, api).params["contract_id"]})


def _a_draft(world: World, api: ApiFactory) -> Prepared:
    return Prepared(params=_draft_contract(world, api).params)


def _batch(prepare: Any) -> Any:
    """A handover batch of department A (a form without its version is refused, 422, past the guard)."""
    return lambda world, api: Prepared(params=prepare(world, api).params)


def _statement(state: str) -> Any:
    """A statement of department A's contract (a form without its version or line is refused, 422, past the guard)."""
    return lambda world, api: Prepared(params={"statement_id": billing.statement_in(api, world, state)["id"]})


def _disputed(world: World, api: ApiFactory) -> Prepared:
    statement = billing.statement_in(api, world, "issued")
    created = api.as_(world.department).post(
        f"/api/v1/statements/{statement['id']}/disputes", {"line_no": 1, "reason": "数据有误"}
    )
    assert created.status_code == 201, created.text
    return Prepared(params={"statement_id": statement["id"], "dispute_id": created.json()["id"]})


def _a_window(world: World, api: ApiFactory) -> Prepared:
    """A proposed maintenance window (a form without its version is refused, 422, past the guard)."""
    return Prepared(params=_window()(world, api).params)


REQUEST = "/console/purchase-requests/{request_id}"
STATEMENT = "/console/statements/{statement_id}"
BATCH = "/console/handovers/{batch_id}"
CONTRACT = "/console/contracts/{contract_id}"
TICKET = "/console/tickets/{ticket_id}"
USER = "/console/users/{user_id}"


def _a_session(world: World, api: ApiFactory) -> Prepared:
    """A session id the user does not have: the admin's revocation is a 404, as for any object not there."""
    return Prepared(params={**_user(world, api).params, "session_id": "01a248db-810c-7766-8d24-e69ea43d8ae6"})


def _a_key_of(world: World, api: ApiFactory) -> Prepared:
    return Prepared(params=_a_key(world, api).params)


ROWS = [
    Row("GET", "/console", only(200, *EVERYONE)),
    Row("GET", "/console/awaiting/counts", only(200, *EVERYONE)),
    Row("GET", "/console/overview", only(200, BUREAU, OPERATOR, AUDITOR)),
    Row("GET", "/console/account", only(200, *EVERYONE)),
    Row("GET", "/console/password", only(200, *EVERYONE)),
    # A key's holder has no console password to give as the current one: refused, naming the field.
    Row("POST", "/console/password", only(422, *EVERYONE)),
    Row("POST", "/console/logout", only(303, *EVERYONE)),
    Row("POST", "/console/logout-everywhere", only(303, *EVERYONE)),
    # contracts/purchasing/pages.py: the operations center sees approved requests only (404 for a submitted one).
    Row("GET", "/console/purchase-requests", only(200, *READERS)),
    Row("GET", REQUEST, only(200, *READERS, operator=404), _request),
    Row("POST", f"{REQUEST}/approve", only(422, BUREAU), _request),
    Row("POST", f"{REQUEST}/reject", only(422, BUREAU), _request),
    Row("POST", f"{REQUEST}/return", only(422, BUREAU), _request),
    Row("POST", f"{REQUEST}/submit", only(422, DEPARTMENT), _request),
    # contracts/agreements/pages.py
    Row("GET", "/console/contracts", only(200, *READERS)),
    Row("GET", CONTRACT, only(200, *READERS), _a_contract),
    Row("POST", f"{CONTRACT}/approve", only(422, BUREAU), _a_draft),
    # sla/ratings/pages.py: who rated what is not the operations center's to read (管运分离)
    Row("GET", "/console/ratings", only(200, BUREAU, DEPARTMENT, AUDITOR)),
    Row("POST", "/console/ratings", only(422, DEPARTMENT)),
    # operations/tickets/pages.py
    Row("GET", "/console/tickets", only(200, *READERS)),
    Row("GET", TICKET, only(200, *READERS), _a_ticket),
    Row("POST", f"{TICKET}/operate", only(422, OPERATOR), _a_ticket),
    Row("POST", f"{TICKET}/confirm", only(422, DEPARTMENT), _a_ticket),
    Row("POST", f"{TICKET}/comments", only(422, OPERATOR, DEPARTMENT), _a_ticket),
    # operations/assets/handover/pages.py: a department its own batches; the operations center submitted ones
    Row("GET", "/console/handovers", only(200, *READERS)),
    Row("POST", "/console/handovers", only(422, DEPARTMENT)),
    Row("GET", BATCH, only(200, *READERS), _batch(_submitted)),
    Row("POST", f"{BATCH}/import", only(422, DEPARTMENT), _batch(_draft_batch)),
    Row("POST", f"{BATCH}/submit", only(422, DEPARTMENT), _batch(_draft_batch)),
    Row("POST", f"{BATCH}/inspect", only(422, OPERATOR), _batch(_submitted)),
    Row("POST", f"{BATCH}/sign", only(422, DEPARTMENT, OPERATOR, BUREAU), _batch(_inspected)),
    # billing/statements/pages.py: a department reads and disputes its own lines; the bureau approves and resolves
    Row("GET", "/console/statements", only(200, *READERS)),
    Row("GET", STATEMENT, only(200, *READERS), _statement("issued")),
    Row("POST", f"{STATEMENT}/issue", only(422, OPERATOR), _statement("draft")),
    Row("POST", f"{STATEMENT}/approve", only(422, BUREAU), _statement("issued")),
    Row("POST", f"{STATEMENT}/disputes", only(422, BUREAU, DEPARTMENT), _statement("issued")),
    Row("POST", f"{STATEMENT}/disputes/{{dispute_id}}/resolve", only(422, BUREAU), _disputed),
    # sla/maintenance/pages.py: the bureau decides; everyone who reads windows reads the page
    Row("GET", "/console/maintenance", only(200, *READERS)),
    Row("POST", "/console/maintenance/{window_id}/approve", only(422, BUREAU), _a_window),
    Row("POST", "/console/maintenance/{window_id}/reject", only(422, BUREAU), _a_window),
    # opscenter/console/audit.py: the trail, its export and the chain's state are the auditor's and the admin's
    Row("GET", "/console/audit", only(200, AUDITOR, ADMIN)),
    Row("GET", "/console/audit/export", only(200, AUDITOR, ADMIN)),
    Row("GET", "/console/audit/chain", only(200, AUDITOR, ADMIN)),
    # opscenter/console/admin.py and keys.py: the admin's, auditors reading; a form without its fields (or the
    # version the page showed) is refused past the guard, naming the field, and changes nothing.
    Row("GET", "/console/organizations", only(200, ADMIN, AUDITOR)),
    Row("POST", "/console/organizations", only(422, ADMIN)),
    Row("GET", "/console/users", only(200, ADMIN, AUDITOR)),
    Row("POST", "/console/users", only(422, ADMIN)),
    Row("GET", USER, only(200, ADMIN, AUDITOR), _user),
    Row("POST", f"{USER}/deactivate", only(422, ADMIN), _user),
    Row("POST", f"{USER}/activate", only(422, ADMIN), _user),
    Row("POST", f"{USER}/password", only(422, ADMIN), _user),
    Row("POST", f"{USER}/sessions/revoke", only(303, ADMIN), _user),
    Row("POST", USER + "/sessions/{session_id}/revoke", only(404, ADMIN), _a_session),
    Row("GET", "/console/api-keys", only(200, ADMIN, AUDITOR)),
    Row("POST", "/console/api-keys", only(422, ADMIN)),
    Row("POST", "/console/api-keys/{api_key_id}/revoke", only(422, ADMIN), _a_key_of),
]
