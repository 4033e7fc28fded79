import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from monitoring.promql import (
    MalformedAnswer,
    PrometheusClient,
    PrometheusRefused,
    PrometheusServerError,
    PrometheusTimeout,
    RangeSelectors,
    Sample,
    Window,
    over_window,
    quote,
    selector,
)
from opscenter.settings import Settings


def test_label_values_are_data_never_promql() -> None:
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    hostile = 'x"} or vector(1) or up{a="'
    built = selector("probe_success", {"instance": hostile, "job": "blackbox"})
    assert built == 'probe_success{instance="x\\"} or vector(1) or up{a=\\"",job="blackbox"}'


def test_label_and_metric_names_are_checked() -> None:
    with pytest.raises(ValueError, match="label name"):
        selector("probe_success", {"in-stance": "x"})
    with pytest.raises(ValueError, match="metric name"):
        selector("probe success", {"instance": "x"})


# ---- the HTTP client ----------------------------------------------------------------------------------------------


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"prometheus_url": "http://prometheus.test", "prometheus_retry_backoff_seconds": 0.0}
    return Settings(**{**values, **overrides})


def _vector(value: str = "1") -> dict[str, Any]:
    point = [1793462399.999, value]
    return {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"a": "b"}, "value": point}]}}


def test_credentials_and_extra_headers_travel_with_every_query() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_vector())

    bearer = _settings(prometheus_bearer_token="s3cret", prometheus_headers={"X-Scope-OrgID": "bureau"})
    with PrometheusClient(bearer.prometheus, transport=httpx.MockTransport(handle)) as client:
        assert client.vector("up") == [Sample(labels={"a": "b"}, value=Decimal("1"))]
    basic = _settings(prometheus_username="ops", prometheus_password="pw")
    with PrometheusClient(basic.prometheus, transport=httpx.MockTransport(handle)) as client:
        client.vector("up")
    assert seen[0].headers["Authorization"] == "Bearer s3cret"
    assert seen[0].headers["X-Scope-OrgID"] == "bureau"
    assert seen[1].headers["Authorization"] == "Basic " + base64.b64encode(b"ops:pw").decode()
    assert (seen[0].method, seen[0].url.path, dict(parse_qsl(seen[0].content.decode()))) == (
        "POST",
        "/api/v1/query",
        {"query": "up"},
    )


def test_one_kind_of_prometheus_auth_and_both_halves_of_basic() -> None:
    with pytest.raises(ValueError, match="not both"):
        _settings(prometheus_bearer_token="t", prometheus_username="u", prometheus_password="p")
    with pytest.raises(ValueError, match="needs both"):
        _settings(prometheus_username="u")


@pytest.mark.parametrize(
    ("answers", "requests", "outcome"),
    [
        ([503, 502, 200], 3, None),  # 5xx: retried
        ([503, 503, 503, 503], 4, PrometheusServerError),  # three retries, then the error
        ([400], 1, PrometheusRefused),  # 4xx: never retried
        ([httpx.ConnectError("refused"), 200], 2, None),  # a connection error: retried
        ([httpx.ReadTimeout("slow")], 1, PrometheusTimeout),  # a slow answer is not asked for again at once
        ([301], 1, PrometheusRefused),  # redirects are not followed
    ],
    ids=["5xx-then-ok", "5xx-always", "4xx", "connect-error", "read-timeout", "redirect"],
)
def test_retries_only_connection_errors_and_5xx(answers: list[Any], requests: int, outcome: type | None) -> None:
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if answer == 301:
            return httpx.Response(301, headers={"Location": "http://elsewhere.test/api/v1/query"})
        return httpx.Response(answer, json=_vector() if answer == 200 else {"status": "error", "error": "x"})

    with PrometheusClient(_settings(prometheus_retries=3).prometheus, transport=httpx.MockTransport(handle)) as client:
        if outcome is None:
            assert client.vector("up")[0].value == 1
        else:
            with pytest.raises(outcome):
                client.vector("up")
        assert client.requests == requests


def test_a_window_takes_exactly_the_samples_in_it_under_either_range_semantics() -> None:
    window = Window(1_000_000, 4_600_000)  # one hour
    assert over_window("count_over_time", "up", window, RangeSelectors.CLOSED) == (
        "count_over_time(up[3599999ms] @ 4599.999)"
    )
    assert over_window("count_over_time", "up", window, RangeSelectors.LEFT_OPEN) == (
        "count_over_time(up[3600000ms] @ 4599.999)"
    )


def test_a_range_query_must_answer_a_matrix() -> None:
    matrix = {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "0"], [2, "1"]]}]},
    }
    with PrometheusClient(
        _settings().prometheus, transport=httpx.MockTransport(lambda _: httpx.Response(200, json=matrix))
    ) as c:
        start = datetime(2026, 10, 1, tzinfo=UTC)
        (series,) = c.matrix("up", start=start, end=start + timedelta(minutes=1), step_seconds=60)
        assert [point.value for point in series] == [0, 1]
        with pytest.raises(MalformedAnswer, match="vector"):
            c.vector("up")
