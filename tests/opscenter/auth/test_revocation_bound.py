"""A revoked key stops working at once on the process that revoked it and within the cache bound on every other."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from opscenter.settings import Settings
from tests import loopback
from tests.factories import World

BOUND_SECONDS = 1.0  # OPSCENTER_API_KEY_CACHE_SECONDS for both processes
SLACK_SECONDS = 1.5  # a loaded test machine's scheduling and polling delay on top of the bound


@contextmanager
def app_process(settings: Settings) -> Iterator[str]:
    """``opscenter serve`` in a process of its own (its own key cache), on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "OPSCENTER_DATABASE_URL": settings.database_url,
        "OPSCENTER_API_KEY_CACHE_SECONDS": str(BOUND_SECONDS),
        "OPSCENTER_LOG_LEVEL": "WARNING",
    }
    opscenter = Path(sys.executable).parent / "opscenter"
    process = subprocess.Popen(
        [str(opscenter), "serve", "--no-scheduler", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the app process died on start"
            try:
                loopback.get(base_url + "/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the app process did not start"
                time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_revocation_takes_effect_within_the_bound_on_every_process(world: World, settings: Settings) -> None:
    headers = {"Authorization": f"Bearer {world.admin.key}"}
    with ExitStack() as stack:
        first, second = (stack.enter_context(app_process(settings)) for _ in range(2))
        created = loopback.post(
            f"{first}/api/v1/api-keys",
            json={"name": "integration", "user_id": str(world.operator.user_id)},
            headers=headers,
        ).json()
        key = {"Authorization": f"Bearer {created['key']}"}
        for base_url in (first, second):  # both processes now hold the key in their caches
            assert loopback.get(f"{base_url}/api/v1/me", headers=key).status_code == 200

        path = f"{first}/api/v1/api-keys/{created['id']}"
        etag = loopback.get(path, headers=headers).headers["ETag"]
        assert loopback.post(f"{path}/revoke", headers={**headers, "If-Match": etag}).status_code == 200
        revoked_at = time.monotonic()
        assert loopback.get(f"{first}/api/v1/me", headers=key).status_code == 401, "at once where it was revoked"

        while loopback.get(f"{second}/api/v1/me", headers=key).status_code == 200:
            assert time.monotonic() - revoked_at < BOUND_SECONDS + SLACK_SECONDS, "the other process kept the key"
            time.sleep(0.05)
        assert loopback.get(f"{second}/api/v1/me", headers=key).status_code == 401, "and it stays refused"
