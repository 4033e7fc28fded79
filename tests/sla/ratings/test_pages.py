"""Ratings in the console: a department rates this month's services it uses; the operations center has no page."""

import re

from opscenter.db import Database
from tests.conftest import ApiFactory
from tests.console.people import logged_in
from tests.factories import World
from tests.operations.tickets.steps import instance
from tests.support import RunningServer


def test_a_department_rates_a_service_it_uses_this_month(
    api: ApiFactory, world: World, db: Database, server: RunningServer
) -> None:
    served = instance(api, world)
    with logged_in(server.base_url, db, world.department) as department:
        page = department.page("/console/ratings")
        assert served["name"] in page.text
        found = re.search(r'name="service_instance_id" value="([^"]+)"', page.text)
        assert found is not None
        refused = department.submit("/console/ratings", {"service_instance_id": found.group(1), "score": "101"})
        assert refused.status_code == 422
        answer = department.submit(
            "/console/ratings", {"service_instance_id": found.group(1), "score": "92", "comment": "响应及时"}
        )
        assert answer.status_code == 303
        after = department.page("/console/ratings").text
        assert "响应及时" in after
        assert 'name="service_instance_id"' not in after  # nothing left to rate this month
    ratings = api.as_(world.auditor).get("/api/v1/ratings").json()["items"]
    assert [rating["score"] for rating in ratings] == [92]
    with logged_in(server.base_url, db, world.operator) as operator:
        assert operator.page("/console/ratings").status_code == 403
