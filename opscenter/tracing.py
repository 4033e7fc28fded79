"""Traces, with OpenTelemetry: off unless an OTLP endpoint is set (``OPSCENTER_OTEL_ENDPOINT``, or the standard
``OTEL_EXPORTER_OTLP_ENDPOINT``), then exported over OTLP/HTTP.

Each request is one trace: Litestar's own OpenTelemetry plugin makes its server span, the SQLAlchemy
instrumentation a span per statement, the httpx instrumentation a span per Prometheus query. A scheduled job's run
is a span too (``job <id>``), so the SLA pull's queries and writes are one trace per run.

The provider is this process's own, handed to each instrumentation, never installed as OpenTelemetry's global
one: nothing else in the process (a library, a test's HTTP client) starts tracing behind OpsCenter's back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry.trace import NoOpTracer, Tracer
from sqlalchemy import Engine

import opscenter
from opscenter.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

# The SDK, the exporter and the instrumentations are imported only when tracing is on: they cost every process
# ~10 MiB, and tracing is off unless an endpoint is set.

STANDARD_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"

_active: TracerProvider | None = None


def endpoint(settings: Settings) -> str | None:
    """Where spans go: OpsCenter's setting, else the standard variable; None: tracing is off."""
    return settings.otel_endpoint or os.environ.get(STANDARD_ENDPOINT) or None


def provider_for(settings: Settings, *, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """A tracer provider exporting to the configured endpoint (in batches, off the request's path), or to
    ``exporter`` (span by span: a test's in-memory exporter); None when tracing is off."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    if exporter is None:
        base = endpoint(settings)
        if base is None:
            return None
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=f"{base.rstrip('/')}/v1/traces")
        processor: SimpleSpanProcessor | BatchSpanProcessor = BatchSpanProcessor(exporter)
    else:
        processor = SimpleSpanProcessor(exporter)
    resource = Resource.create({"service.name": settings.otel_service_name, "service.version": opscenter.__version__})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(processor)
    return provider


@contextmanager
def instrumented(provider: TracerProvider | None, engine: Engine) -> Iterator[None]:
    """While inside: the database's statements and every httpx request (Prometheus) are spans, and jobs'
    runs too; on the way out the instrumentations are removed and the spans left are flushed."""
    global _active
    if provider is None:
        yield
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    sqlalchemy, httpx = SQLAlchemyInstrumentor(), HTTPXClientInstrumentor()
    # Its declared range stops below SQLAlchemy 2.1, which we run; the engine events it listens to are unchanged
    # (tests/opscenter/test_tracing.py checks the spans arrive).
    sqlalchemy.instrument(engine=engine, tracer_provider=provider, enable_commenter=False, skip_dep_check=True)
    httpx.instrument(tracer_provider=provider)
    _active = provider
    try:
        yield
    finally:
        _active = None
        httpx.uninstrument()
        sqlalchemy.uninstrument()
        provider.force_flush()


def tracer() -> Tracer:
    """OpsCenter's tracer while tracing is on, else one that records nothing."""
    return _active.get_tracer("opscenter") if _active is not None else NoOpTracer()
