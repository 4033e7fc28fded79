"""Traces: off by default; on, each request is one trace holding its database spans, and each run of the SLA pull
one trace holding its Prometheus (httpx) queries and its database spans."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from litestar import Litestar
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from opscenter.app import create_app
from opscenter.identity.actor import Actor
from opscenter.scheduler import run_job
from opscenter.settings import Settings, get_settings
from opscenter.tracing import STANDARD_ENDPOINT, provider_for
from sla.measurements.jobs import JOBS as PULL_JOBS
from tests import loopback
from tests.conftest import ApiFactory, make_settings
from tests.contracts import steps as contracts
from tests.factories import World
from tests.processes import eventually
from tests.prometheus import Prometheus
from tests.support import RunningServer


def test_traces_are_off_unless_an_endpoint_is_set(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STANDARD_ENDPOINT, raising=False)
    assert provider_for(settings) is None
    assert provider_for(make_settings(settings.database_url, otel_endpoint="http://127.0.0.1:4318")) is not None
    monkeypatch.setenv(STANDARD_ENDPOINT, "http://127.0.0.1:4318")
    assert provider_for(settings) is not None


@dataclass
class Traced:
    exporter: InMemorySpanExporter
    server: RunningServer
    app: Litestar


@pytest.fixture
def traced(settings: Settings) -> Iterator[Traced]:
    exporter = InMemorySpanExporter()
    app = create_app(settings, span_exporter=exporter)
    with RunningServer(app) as server:
        yield Traced(exporter, server, app)


def _requests(exporter: InMemorySpanExporter) -> list[list[ReadableSpan]]:
    return [
        trace
        for trace in _traces(exporter).values()
        if any(span.kind is SpanKind.SERVER and span.name.startswith("GET /api/v1/organizations") for span in trace)
    ]


def _url(span: ReadableSpan) -> str:
    """The URL an httpx span asked (older and newer semantic conventions name it differently)."""
    attributes = span.attributes or {}
    return str(attributes.get("url.full") or attributes.get("http.url") or "")


def _statements(trace: list[ReadableSpan]) -> list[ReadableSpan]:
    return [
        span
        for span in trace
        if span.attributes and "db.system" in span.attributes and span.name.split()[0].upper() in {"SELECT", "INSERT"}
    ]


def _traces(exporter: InMemorySpanExporter) -> dict[int, list[ReadableSpan]]:
    traces: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in exporter.get_finished_spans():
        assert span.context is not None
        traces[span.context.trace_id].append(span)
    return traces


def test_a_request_is_one_trace_with_its_database_spans(world: World, traced: Traced) -> None:
    exporter, server = traced.exporter, traced.server
    headers = {"Authorization": f"Bearer {world.admin.key}"}
    for _ in range(2):
        assert loopback.get(f"{server.base_url}/api/v1/organizations", headers=headers).status_code == 200
    # A request's server span ends once its answer is sent: a moment after the client has it.
    traces = eventually(lambda: _requests(exporter) if len(_requests(exporter)) == 2 else None, within=5, what="2")
    assert len(traces) == 2, "one trace per request"
    for trace in traces:
        (request,) = [span for span in trace if span.kind is SpanKind.SERVER]
        assert request.name == "GET /api/v1/organizations", "named by its route"
        assert _statements(trace), "the database's statements are spans of the request's trace"


def test_a_run_of_the_sla_pull_is_one_trace_with_its_prometheus_queries_and_database_spans(
    world: World,
    api: ApiFactory,
    tmp_path: Path,
    traced: Traced,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = traced.exporter
    contracts.provisioned_contract(api, world)  # an instance with an availability SLI: its days are due
    prometheus = Prometheus(tmp_path)
    prometheus.start()
    monkeypatch.setenv("OPSCENTER_PROMETHEUS_URL", prometheus.url)
    get_settings.cache_clear()
    try:
        exporter.clear()
        run_job(traced.app.state.db, PULL_JOBS[0], system_actor=Actor.of_job)  # as the server's scheduler would
    finally:
        get_settings.cache_clear()
        prometheus.stop()
    (job,) = [span for span in exporter.get_finished_spans() if span.name == "job sla.pull_measurements"]
    assert job.context is not None
    trace = _traces(exporter)[job.context.trace_id]
    queries = [span for span in trace if span.kind is SpanKind.CLIENT and _url(span).startswith(prometheus.url)]
    assert queries, "each Prometheus query is a span of the run's trace"
    assert _statements(trace), "and so is each statement"
