"""The console's pages (login, awaiting me, the overview's charts) and the API documentation pages render in a
real browser (Debian's chromium, driven by Playwright) under their Content-Security-Policy, which allows no inline
script, and the policy refuses nothing they need."""

import pytest
from playwright.sync_api import Browser

from opscenter.db import Database
from opscenter.headers import PAGE_POLICY
from tests.console.browser.conftest import refusals_of
from tests.console.people import PASSWORD, give_password
from tests.factories import World
from tests.support import RunningServer

# ReDoc's side menu shows Redocly's logo from their CDN (hard-coded, hidden when it fails to load): the policy
# refusing it is the policy keeping every request on this machine, the one refusal a page may show.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

# What each page shows once its renderer has read /schema/openapi.json: an operation or a schema of the document.
RENDERED = {
    "/schema/swagger": ".opblock-summary-path",
    "/schema/redoc": "[data-section-id^='tag/']",
    "/schema/elements": "elements-api a[href='#/schemas/ContractPublic']",
    "/schema/rapidoc": "rapi-doc",
}


@pytest.mark.once  # static pages and the OpenAPI document: the same whichever database is behind the server
@pytest.mark.parametrize("path", list(RENDERED))
def test_each_documentation_page_renders_with_nothing_refused(
    browser: Browser, server: RunningServer, path: str
) -> None:
    context = browser.new_context(base_url=server.base_url)
    page = context.new_page()
    refused = refusals_of(page)
    answer = page.goto(path)
    assert answer is not None
    assert answer.status == 200
    assert "script-src 'self';" in answer.headers["content-security-policy"]
    page.wait_for_selector(RENDERED[path], state="attached", timeout=30_000)
    if path == "/schema/rapidoc":  # its navigation lives in its shadow root
        page.wait_for_function(
            "() => document.querySelector('rapi-doc').shadowRoot?.querySelector('.nav-bar')?.innerText"
            ".includes('Organizations')",
            timeout=30_000,
        )
    page.wait_for_timeout(300)  # a refusal reported late still counts
    context.close()
    assert [text for text in refused if REDOCLY_LOGO not in text] == []


def test_the_console_pages_run_under_the_strict_policy_with_nothing_refused(
    browser: Browser, server: RunningServer, world: World, db: Database
) -> None:
    give_password(db, world.bureau)
    context = browser.new_context(base_url=server.base_url, locale="zh-CN")
    page = context.new_page()
    refused = refusals_of(page)
    login = page.goto("/console/login")
    assert login is not None
    assert login.headers["content-security-policy"] == PAGE_POLICY
    page.get_by_label("用户名").fill(world.bureau.user_name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console")  # awaiting me
    page.goto("/console/overview")
    page.wait_for_selector(".chart svg")  # ECharts drew, under script-src 'self' and style-src 'self'
    page.wait_for_timeout(300)
    context.close()
    assert refused == []
