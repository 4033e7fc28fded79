"""``create_app(settings)``: the Litestar application, wired by the OpsCenter plugin."""

import os

from litestar import Litestar

from migrations import MIGRATIONS
from opscenter.heap import freeze_startup_heap
from opscenter.identity.guards import document_roles
from opscenter.logs import configure_logging
from opscenter.middleware import RequestIdMiddleware, RequestLogMiddleware
from opscenter.openapi import describe_errors
from opscenter.plugin import OpsCenterPlugin
from opscenter.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, run_scheduler: bool = False) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings)
    app = Litestar(
        plugins=[OpsCenterPlugin(settings, migrations=MIGRATIONS, run_scheduler=run_scheduler)],
        # Given here, not by the plugin: Litestar 2.x reads this argument, not AppConfig's, for the root router.
        request_max_body_size=settings.max_body_bytes,
    )
    # Outside everything Litestar does, routing included: a 404 for an unknown path, a 405 and a path that
    # fails its converter carry X-Request-ID like every other answer.
    # The request's log line inside it, so that the line carries the id.
    handler = RequestLogMiddleware(app.asgi_handler) if settings.log_requests else app.asgi_handler
    app.asgi_handler = RequestIdMiddleware(handler)
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
