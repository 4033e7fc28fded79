"""Permission rows: the console's shell (its pages answer a person's browser; here each role calls them with its key,
which the console takes as the API does). Without a session or key, a console route redirects to the login page
(tests/test_permissions.py)."""

from tests.permissions.table import AUDITOR, BUREAU, EVERYONE, OPERATOR, Row, only

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
]
