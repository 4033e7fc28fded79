"""The auditor's console: the audit trail with the API list's filters and cursor pages, its export with the same
filters, and the chain's state (the sealed head, the backlog, the newest signed checkpoint; a full walk on request)
showing a rewrite as the nightly verification would."""

import re

from cryptography.hazmat.primitives import serialization

from opscenter.audit.checkpoints import generate_key_pair, sign_head
from opscenter.audit.sequencer import seal_backlog
from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.console.people import logged_in
from tests.factories import World
from tests.opscenter.audit.steps import as_intruder
from tests.support import RunningServer


def _two_keys_made_and_one_revoked(api: ApiFactory, world: World) -> None:
    admin = api.as_(world.admin)
    for name in ("ci", "backup"):
        created = admin.post("/api/v1/api-keys", {"name": name, "user_id": str(world.operator.user_id)})
        assert created.status_code == 201, created.text
    assert admin.act(f"/api/v1/api-keys/{created.json()['id']}", "revoke").status_code == 200


def test_the_auditor_filters_the_trail_pages_through_it_and_exports_what_the_page_shows(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    _two_keys_made_and_one_revoked(api, world)
    with logged_in(server.base_url, db, world.auditor) as auditor:
        page = auditor.page("/console/audit", params={"action": "api_key.create", "limit": "1"})
        assert page.status_code == 200
        assert page.text.count("<code>api_key.create</code>") == 1
        assert "api_key.revoke" not in page.text
        following = re.search(r'href="(\?[^"]*cursor=[^"]+)"', page.text)
        assert following is not None
        assert "action=api_key.create" in following.group(1)
        second = auditor.page("/console/audit" + following.group(1).replace("&amp;", "&"))
        assert second.text.count("<code>api_key.create</code>") == 1
        searched = auditor.page("/console/audit", params={"q": "api_key.rev"})
        assert "<code>api_key.revoke</code>" in searched.text
        assert "<code>api_key.create</code>" not in searched.text
        exported = auditor.page("/console/audit/export", params={"action": "api_key.create"})
        assert exported.status_code == 200
        lines = exported.content.decode("utf-8-sig").strip().splitlines()
        assert len(lines) > 2
        assert all("api_key.create" in line for line in lines[1:])
        # A time as the page's datetime-local input sends it is Beijing time; none of today's events is after 2099.
        later = auditor.page("/console/audit", params={"since": "2099-01-01T08:00"})
        assert "没有符合条件的审计事件" in later.text
        refused = auditor.page("/console/audit", params={"until": "yesterday"})
        assert refused.status_code == 400
        assert "until" in refused.text


def test_the_chain_state_shows_the_signed_head_and_a_rewrite_below_it(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    _two_keys_made_and_one_revoked(api, world)
    seal_backlog(db)
    private_pem, _ = generate_key_pair()
    key = serialization.load_pem_private_key(private_pem, password=None)
    checkpoint = sign_head(db, key)  # type: ignore[arg-type]
    assert checkpoint is not None
    with logged_in(server.base_url, db, world.auditor) as auditor:
        state = auditor.page("/console/audit/chain", params={"verify": "true"})
        assert f"第 {checkpoint.seq} 条" in state.text
        assert "链仍以其签名的哈希结尾" in state.text
        assert "链完整" in state.text
        as_intruder(db, "UPDATE audit_seal SET hash = :forged WHERE seq = :seq", forged="f" * 64, seq=checkpoint.seq)
        trail = auditor.page("/console/audit")
        assert "链被改写" in trail.text
        walked = auditor.page("/console/audit/chain", params={"verify": "true"})
        assert "校验发现问题" in walked.text


def test_the_trail_is_the_auditors_and_the_admins_only(world: World, db: Database, server: RunningServer) -> None:
    with logged_in(server.base_url, db, world.admin) as admin:
        assert admin.page("/console/audit").status_code == 200
    with logged_in(server.base_url, db, world.bureau) as bureau:
        assert bureau.page("/console/audit").status_code == 403
        assert bureau.page("/console/audit/export").status_code == 403
