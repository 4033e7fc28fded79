"""Permission rows: the console's shell (its pages answer a person's browser; here each role calls them with its key,
which the console takes as the API does). Without a session or key, a console route redirects to the login page
(tests/test_permissions.py)."""

from tests.conftest import ApiFactory
from tests.factories import World
from tests.permissions.contracts import _contract, _draft_contract, _submitted_request
from tests.permissions.core import _a_key, _user
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


REQUEST = "/console/purchase-requests/{request_id}"
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
