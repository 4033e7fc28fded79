"""The overview (一屏观天下): open tickets by priority and by how long they have been open, counted in one GROUP BY
and shown as a chart's JSON and in the table beside it."""

import json
import re
from datetime import timedelta

import pytest

from operations.tickets import figures
from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.console.people import logged_in
from tests.factories import World
from tests.operations.tickets import steps
from tests.operations.tickets.steps import beijing, open_ticket
from tests.support import RunningServer

NOW = beijing(2026, 4, 6, 10)


def test_open_tickets_by_priority_and_age_are_counted_in_buckets_and_shown_in_chart_and_table(
    api: ApiFactory, world: World, db: Database, server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = steps.instance(api, world)
    opened = [
        (NOW - timedelta(days=35), "P3"),  # 30 天以上
        (NOW - timedelta(days=5), "P2"),  # 3–7 天
        (NOW - timedelta(days=2), "P1"),  # 1–3 天
        (NOW - timedelta(hours=4), "P1"),  # exactly 4 hours: no longer "4 小时内"
        (NOW - timedelta(hours=1), "P1"),  # 4 小时内
        (NOW - timedelta(minutes=30), "P2"),  # 4 小时内
    ]
    for when, priority in opened:
        with steps.tickets_clock(monkeypatch, when):
            open_ticket(api, world.department, instance, priority)
    with db.transaction(write=False) as session:
        counted = figures.open_tickets(session, NOW).by_age
    assert +counted == {
        ("P3", "ge_30d"): 1,
        ("P2", "3d_7d"): 1,
        ("P1", "1d_3d"): 1,
        ("P1", "4h_1d"): 1,
        ("P1", "lt_4h"): 1,
        ("P2", "lt_4h"): 1,
    }

    monkeypatch.setattr(figures, "utcnow", lambda: NOW)  # the server runs in this process: its scrape's "now"
    with logged_in(server.base_url, db, world.bureau) as bureau:
        page = bureau.page("/console/overview")
    assert page.status_code == 200
    data = re.search(r'<script type="application/json" id="chart-open_age-data">(.*?)</script>', page.text, re.S)
    assert data is not None
    chart = json.loads(data.group(1))
    by_age = {series["name"]: series["data"] for series in chart["series"]}
    assert [category.split()[0] for category in chart["categories"]] == ["P1", "P2", "P3", "P4"]
    # Per age bucket, the counts of P1, P2, P3, P4.
    assert by_age == {
        "4 小时内": [1, 1, 0, 0],
        "4 小时–1 天": [1, 0, 0, 0],
        "1–3 天": [1, 0, 0, 0],
        "3–7 天": [0, 1, 0, 0],
        "7–30 天": [0, 0, 0, 0],
        "30 天以上": [0, 0, 1, 0],
    }
    section = page.text.split('id="chart-open_age-title"')[1].split("</section>")[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td class="text-end">[^<]*</td>)+)</tr>', section)
    table = {priority.split()[0]: re.findall(r">([^<]*)</td>", cells) for priority, cells in rows}
    assert table == {
        "P1": ["1", "1", "1", "0", "0", "0"],
        "P2": ["1", "0", "0", "1", "0", "0"],
        "P3": ["0", "0", "0", "0", "0", "1"],
        "P4": ["0", "0", "0", "0", "0", "0"],
    }
