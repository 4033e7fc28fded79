"""The wiring: the one place that knows every domain's controllers, jobs, models and CLI commands."""

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import click
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import InitPluginProtocol
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import ControllerRouterHandler

import opscenter
from contracts.agreements.controller import ContractController
from contracts.agreements.jobs import JOBS as CONTRACT_JOBS
from contracts.budgets.controller import BudgetController
from contracts.catalog.controller import CatalogController
from contracts.instances.controller import ServiceInstanceController
from contracts.purchasing.controller import PurchaseRequestController
from monitoring.metrics import HTTP_METRICS_PREFIX
from opscenter.audit.controller import AuditEventController
from opscenter.audit.jobs import JOBS as AUDIT_JOBS
from opscenter.auth.controller import ApiKeyController, MeController
from opscenter.auth.middleware import ApiKeyAuthMiddleware
from opscenter.db import Database
from opscenter.errors import EXCEPTION_HANDLERS
from opscenter.health import PUBLIC, HealthController
from opscenter.idempotency.jobs import JOBS as IDEMPOTENCY_JOBS
from opscenter.middleware import RequestIdMiddleware
from opscenter.notifications.controller import NotificationController
from opscenter.organizations.controller import OrganizationController, UserController
from opscenter.scheduler import Job, build_scheduler
from opscenter.settings import Settings
from opscenter.web import DEPENDENCIES
from sla.ratings.controller import RatingController, RatingPeriodController


class MetricsController(PrometheusController):
    path = "/metrics"
    opt = PUBLIC
    include_in_schema = False


CONTROLLERS: list[ControllerRouterHandler] = [
    HealthController,
    MetricsController,
    OrganizationController,
    UserController,
    ApiKeyController,
    MeController,
    AuditEventController,
    NotificationController,
    # contracts: the bureau's side
    CatalogController,
    BudgetController,
    PurchaseRequestController,
    ContractController,
    ServiceInstanceController,
    # sla: ratings
    RatingController,
    RatingPeriodController,
]

JOBS: list[Job] = [*AUDIT_JOBS, *CONTRACT_JOBS, *IDEMPOTENCY_JOBS]

# Domain CLI groups (``opscenter <group> …``) join here as the domains arrive.
CLI_COMMANDS: list[click.Command] = []

PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/schema")


def load_all_models() -> None:
    """Import every table model so that SQLModel.metadata is complete (Alembic, tests)."""
    import opscenter.audit.models
    import opscenter.auth.models
    import opscenter.idempotency.models
    import opscenter.notifications.models
    import opscenter.organizations.models  # noqa: F401


class OpsCenterPlugin(InitPluginProtocol):
    def __init__(self, settings: Settings, *, run_scheduler: bool) -> None:
        self.settings = settings
        self.run_scheduler = run_scheduler

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        prometheus = PrometheusConfig(
            app_name="opscenter", prefix=HTTP_METRICS_PREFIX, group_path=True, exclude_unhandled_paths=True
        )
        app_config.route_handlers.extend(CONTROLLERS)
        app_config.dependencies.update(DEPENDENCIES)
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)
        app_config.middleware = [
            RequestIdMiddleware,
            prometheus.middleware,
            DefineMiddleware(ApiKeyAuthMiddleware, exclude=["^/schema"]),
            *app_config.middleware,
        ]
        app_config.lifespan.append(self._lifespan)
        app_config.openapi_config = OpenAPIConfig(
            title="OpsCenter",
            version=opscenter.__version__,
            description="Service management for a government operations center. "
            "Authenticate with `Authorization: Bearer <api key>`.",
            path="/schema",
            components=Components(
                security_schemes={"apiKey": SecurityScheme(type="http", scheme="bearer", description="opc_… key")}
            ),
            security=[{"apiKey": []}],
        )
        # Errors are logged once, by the error layer (500s only); Litestar need not log 4xx tracebacks.
        app_config.logging_config = LoggingConfig(configure_root_logger=False, log_exceptions="never")
        app_config.debug = not self.settings.production
        return app_config

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncGenerator[None, None]:
        db = Database(self.settings)
        app.state.db = db
        app.state.settings = self.settings
        scheduler = build_scheduler(db, JOBS, blocking=False) if self.run_scheduler else None
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=True)
            db.dispose()
