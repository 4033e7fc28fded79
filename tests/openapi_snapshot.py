"""The committed snapshot of the OpenAPI document (tests/openapi.json), and how to regenerate it.

Every change of the API shows up as a diff of that file. After a deliberate change, regenerate it with

    .venv/bin/python -m tests.openapi_snapshot

and commit the diff with the change; tests/test_openapi.py fails while the two disagree.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from opscenter.app import create_app
from opscenter.openapi import openapi_document
from opscenter.settings import Settings

SNAPSHOT = Path(__file__).parent / "openapi.json"


@cache
def current_document() -> dict[str, Any]:
    """The document as the app serves it with default settings (no database is touched). Read-only."""
    app = create_app(Settings(database_url="sqlite:///:memory:"))
    document: dict[str, Any] = json.loads(json.dumps(openapi_document(app), default=str))
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    SNAPSHOT.write_text(render(current_document()), encoding="utf-8")
    print(f"wrote {SNAPSHOT}")  # noqa: T201
