"""The browser and the console it drives: one real ``opscenter serve`` for all the browser tests, and a ``Desk``
per person."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from opscenter.console.assets import STATIC_PATH
from opscenter.settings import Settings
from tests import loopback
from tests.console.people import PASSWORD
from tests.factories import Identity
from tests.processes import OpsCenterProcess, eventually, free_port
from tests.support import UNREACHED_RATE_LIMITS

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts" / "console"
AXE = f"{STATIC_PATH}/vendor/axe-core/axe.min.js"
SEVERE = ("serious", "critical")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def console(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``opscenter serve`` on the test database, started once: starting it costs seconds, and what a test
    leaves (rows, sessions, login throttles) lives in the database, which ``_clean`` wipes after each test; what it
    keeps in memory is its caches (read-through, bounded by seconds) and its rate limits' counters."""
    port = free_port()
    env = {"OPSCENTER_DATABASE_URL": settings.database_url}
    # Its rate limits are kept in its memory, across tests: counted, never reached, as the suite's in-process server
    # has them (each person's first page is a refused credential, each wrong password another; all from 127.0.0.1).
    env.update({f"OPSCENTER_{name.upper()}": str(limit) for name, limit in UNREACHED_RATE_LIMITS.items()})
    log = tmp_path_factory.mktemp("console") / "serve.log"
    with OpsCenterProcess(["serve", "--no-scheduler", "--port", str(port)], env=env, log=log):
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return loopback.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(up, within=30, what="opscenter serve answered /health")
        yield base


def refusals_of(page: Page) -> list[str]:
    """What the page's Content-Security-Policy refuses from now on (Chromium reports each refusal on the
    console), filled in as the page runs."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return refused


class Desk:
    """One person's browser tab, recording every request it makes."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.context = browser.new_context(base_url=base, viewport={"width": 1366, "height": 768}, locale="zh-CN")
        self.page: Page = self.context.new_page()
        self.requested: list[str] = []
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.refused = refusals_of(self.page)

    def log_in(self, who: Identity, password: str = PASSWORD) -> None:
        self.page.goto("/")
        self.page.get_by_label("用户名").fill(who.user_name)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登录").click()

    def check(self, name: str) -> None:
        """The page passes axe-core with nothing serious or critical, and is kept as a screenshot."""
        self.page.wait_for_load_state()  # a click's navigation may still be under way
        # From the server, as any script of the page: an inline copy would be refused by the page's policy.
        self.page.add_script_tag(url=AXE)
        # resultTypes: axe details one node per rule for what is not a violation (fast); violations in full.
        severe = self.page.evaluate(
            "async (severe) => (await axe.run({resultTypes: ['violations']})).violations"
            ".filter(v => severe.includes(v.impact))"
            ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))",
            list(SEVERE),
        )
        assert severe == [], f"{name}: {severe}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def visit(self, path: str, name: str) -> None:
        """Open ``path`` and check it (axe-core and a screenshot)."""
        answer = self.page.goto(path)
        assert answer is not None
        assert answer.status == 200, f"{path}: {answer.status}"
        self.check(name)

    def close(self) -> None:
        elsewhere = [url for url in self.requested if not url.startswith("http://127.0.0.1:")]
        self.context.close()
        assert elsewhere == [], "requests left the machine"
        assert self.refused == [], "the Content-Security-Policy refused something a page needs"
