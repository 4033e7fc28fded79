"""``create_app(settings)``: the Litestar application, wired by the OpsCenter plugin."""

import logging
import os

from litestar import Litestar

from migrations import MIGRATIONS
from opscenter.heap import freeze_startup_heap
from opscenter.identity.guards import document_roles
from opscenter.middleware import RequestIdMiddleware
from opscenter.openapi import describe_errors
from opscenter.plugin import OpsCenterPlugin
from opscenter.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, run_scheduler: bool = False) -> Litestar:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.value, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Litestar(
        plugins=[OpsCenterPlugin(settings, migrations=MIGRATIONS, run_scheduler=run_scheduler)],
        # Given here, not by the plugin: Litestar 2.x reads this argument, not AppConfig's, for the root router.
        request_max_body_size=settings.max_body_bytes,
    )
    # Outside everything Litestar does, routing included: a 404 for an unknown path, a 405 and a path that
    # fails its converter carry X-Request-ID like every other answer.
    app.asgi_handler = RequestIdMiddleware(app.asgi_handler, trusted_proxies=settings.trusted_proxies)
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
