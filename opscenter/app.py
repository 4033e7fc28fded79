"""``create_app(settings)``: the Litestar application, wired by the OpsCenter plugin."""

import os
from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.plugins import PluginProtocol

from migrations import MIGRATIONS
from opscenter.headers import SecurityHeadersMiddleware
from opscenter.heap import freeze_startup_heap
from opscenter.identity.guards import document_roles
from opscenter.logs import configure_logging
from opscenter.middleware import RequestIdMiddleware
from opscenter.openapi import describe_errors
from opscenter.plugin import OpsCenterPlugin
from opscenter.settings import Settings, get_settings
from opscenter.tracing import provider_for

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter


def create_app(
    settings: Settings | None = None, *, run_scheduler: bool = False, span_exporter: "SpanExporter | None" = None
) -> Litestar:
    """The application; ``span_exporter`` turns traces on towards it (a test's in-memory exporter), else the
    settings' OTLP endpoint does (opscenter/tracing.py)."""
    settings = settings or get_settings()
    configure_logging(settings)
    provider = provider_for(settings, exporter=span_exporter)
    plugins: list[PluginProtocol] = [
        OpsCenterPlugin(settings, migrations=MIGRATIONS, run_scheduler=run_scheduler, tracer_provider=provider)
    ]
    if provider is not None:
        from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

        # Litestar's own plugin: a server span per request, named by its route template. Probes and scrapes
        # would be most of the traces and tell nothing.
        traced = OpenTelemetryConfig(tracer_provider=provider, exclude=["^/health$", "^/ready$", "^/metrics$"])
        plugins.append(OpenTelemetryPlugin(traced))
    app = Litestar(
        plugins=plugins,
        # Given here, not by the plugin: Litestar 2.x reads this argument, not AppConfig's, for the root router.
        request_max_body_size=settings.max_body_bytes,
    )
    # Outside everything Litestar does, routing included: a 404 for an unknown path, a 405 and a path that
    # fails its converter carry X-Request-ID like every other answer.
    # The request's log line there too, so that it times and counts everything the request went through.
    handler = RequestIdMiddleware(
        app.asgi_handler, trusted_proxies=settings.trusted_proxies, log_requests=settings.log_requests
    )
    # Outermost: every answer, the request log's 500 and routing's 404 included, carries the security headers.
    app.asgi_handler = SecurityHeadersMiddleware(handler, hsts=settings.console_secure_cookies)
    describe_errors(app, settings)
    document_roles(app)
    return app


def frozen(app: Litestar) -> Litestar:
    """``app``, with the heap that built it frozen (``opscenter.heap``): for a serving process."""
    freeze_startup_heap()
    return app


# Set by ``opscenter serve --workers N --no-scheduler`` for the API processes it starts.
NO_SCHEDULER_VARIABLE = "_OPSCENTER_SERVE_NO_SCHEDULER"


def serve_app() -> Litestar:
    """The app factory of ``opscenter serve --workers N``: each API process builds its own app from the
    environment (settings, and whether ``serve`` was told ``--no-scheduler``)."""
    return frozen(create_app(get_settings(), run_scheduler=os.environ.get(NO_SCHEDULER_VARIABLE) != "1"))
