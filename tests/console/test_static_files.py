"""Everything a page loads is served by OpsCenter itself: government intranets have no internet."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import loopback
from tests.support import RunningServer

ROOT = Path(__file__).resolve().parent.parent.parent

DOCUMENTATION_PAGES = ["/schema", "/schema/redoc", "/schema/swagger", "/schema/elements", "/schema/rapidoc"]
_LOADED = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def test_the_vendored_files_are_the_pinned_ones() -> None:
    """scripts/vendor.py --check: every file under static/vendor matches SHA256SUMS, written for the pinned versions."""
    answer = subprocess.run(
        [sys.executable, "scripts/vendor.py", "--check"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert answer.returncode == 0, answer.stderr


@pytest.mark.parametrize("page", DOCUMENTATION_PAGES)
def test_a_documentation_page_loads_only_what_opscenter_serves(server: RunningServer, page: str) -> None:
    with loopback.client(base_url=server.base_url) as client:
        answer = client.get(page)
        assert answer.status_code == 200
        loaded = _LOADED.findall(answer.text)
        assert loaded, "the page loads no script or style: the pattern no longer matches it"
        for url in loaded:
            assert re.match(r"/[^/]", url), f"{page} loads {url} from elsewhere"
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert "max-age=86400" in asset.headers["cache-control"]
        assert "fonts.googleapis" not in answer.text
        assert "unpkg.com" not in answer.text
        assert "cdn." not in answer.text


def test_rapidoc_is_told_not_to_fetch_its_fonts(server: RunningServer) -> None:
    assert 'load-fonts="false"' in loopback.get(f"{server.base_url}/schema/rapidoc").text


def test_static_files_need_no_key_and_only_serve_the_static_folder(server: RunningServer) -> None:
    with loopback.client(base_url=server.base_url) as client:
        assert client.get("/static/vendor/htmx/htmx.min.js").headers["content-type"].startswith("text/javascript")
        assert client.get("/static/vendor/tabler/tabler.min.css").headers["content-type"].startswith("text/css")
        assert client.get("/static/../opscenter/settings.py").status_code == 404
        assert client.get("/static/%2e%2e/settings.py").status_code == 404
