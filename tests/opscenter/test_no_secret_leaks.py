"""No secret ever reaches a log line, an error body or /metrics: the keys, passwords and tokens a process holds or
is sent are set to recognisable values, requests that succeed and fail are driven, and everything is searched."""

import logging
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from opscenter.app import create_app
from opscenter.db import Database
from opscenter.logs import TextFormatter
from opscenter.settings import Settings
from tests import loopback
from tests.conftest import make_settings
from tests.console.people import Person, give_password
from tests.factories import World
from tests.support import METRICS_TOKEN, RunningServer, scrape

PROMETHEUS_PASSWORD = "prom-Secret-5b1e0c"
DATABASE_PASSWORD = "db-Secret-41aa7e"  # PostgreSQL only; the test server trusts 127.0.0.1, so any password works
WRONG_KEY = "opc_wrong-Secret-0d9f31c7a2"
WRONG_PASSWORD = "Wrong-Secret-pw-83c1"
CONSOLE_PASSWORD = "Kq7-Secret-Lamp-2"
NOTIFICATIONS_KEY = Fernet.generate_key().decode()
AUDIT_KEY = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


@pytest.fixture
def holding_secrets(settings: Settings) -> Iterator[str]:
    url = settings.database_url.replace("postgresql://postgres@", f"postgresql://postgres:{DATABASE_PASSWORD}@")
    assert DATABASE_PASSWORD in url or url.startswith("sqlite")
    configured = make_settings(
        url,
        prometheus_username="opscenter",
        prometheus_password=PROMETHEUS_PASSWORD,
        notifications_secret_key=NOTIFICATIONS_KEY,
        audit_signing_key=AUDIT_KEY,
        log_level="DEBUG",
    )
    with RunningServer(create_app(configured)) as running:
        yield running.base_url


def test_no_secret_in_logs_error_bodies_or_metrics(
    holding_secrets: str, world: World, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    give_password(db, world.bureau, CONSOLE_PASSWORD)
    key = world.department.key
    secrets = [key, WRONG_KEY, WRONG_PASSWORD, CONSOLE_PASSWORD, METRICS_TOKEN, PROMETHEUS_PASSWORD, NOTIFICATIONS_KEY]
    secrets.append(AUDIT_KEY.splitlines()[1])  # the key's body
    secrets.append(DATABASE_PASSWORD)
    bodies: list[str] = []
    with loopback.client(base_url=holding_secrets, timeout=30) as http:
        as_department = {"Authorization": f"Bearer {key}"}
        answers = [
            http.get("/api/v1/contracts", headers=as_department),  # 200
            http.get("/api/v1/contracts", headers={"Authorization": f"Bearer {WRONG_KEY}"}),  # 401
            http.get("/api/v1/contracts", headers={"Authorization": WRONG_KEY}),  # 401, not even Bearer
            http.post("/api/v1/organizations", headers=as_department, json={"name": key}),  # 403
            # 422s carrying a secret in a body field and a path (a query enum value is named back to its sender:
            # tests/opscenter/test_strict_query.py)
            http.post("/api/v1/ratings", headers=as_department, json={"service_instance_id": key, "score": key}),
            http.post("/api/v1/purchase-requests", headers=as_department, json={"title": 1, "justification": key}),
            http.get(f"/api/v1/contracts/{WRONG_KEY}", headers=as_department),
        ]
        assert {answer.status_code for answer in answers} >= {200, 401, 403, 422}
        bodies += [answer.text for answer in answers]
    person = Person(holding_secrets)
    bodies.append(person.log_in(world.bureau.user_name, WRONG_PASSWORD).text)
    bodies.append(person.log_in(world.bureau.user_name, CONSOLE_PASSWORD).text)
    person.close()
    metrics = scrape(holding_secrets)
    logged = [TextFormatter().format(record) for record in caplog.records]
    assert logged, "nothing was logged: the search below would prove nothing"
    for secret in secrets:
        assert not [line for line in logged if secret in line], f"a log line holds {secret[:8]}…"
        assert not [body for body in bodies if secret in body], f"an answer holds {secret[:8]}…"
        assert secret not in metrics
