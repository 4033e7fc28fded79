"""The wiring: the one place that knows every domain's controllers, jobs, models and CLI commands."""

import asyncio
import importlib
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import click
from litestar import Controller, Litestar, Response, get
from litestar.config.app import AppConfig
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import InitPluginProtocol
from litestar.plugins.prometheus import PrometheusConfig
from litestar.types import ControllerRouterHandler
from prometheus_client import CONTENT_TYPE_LATEST

import opscenter
from billing.statements import figures as statement_figures
from billing.statements import metrics as billing_metrics
from billing.statements.cli import billing as billing_cli
from billing.statements.controller import BillingController, DisputeController, StatementController
from billing.statements.jobs import JOBS as BILLING_JOBS
from contracts.agreements.controller import ContractController
from contracts.agreements.jobs import JOBS as CONTRACT_JOBS
from contracts.budgets import metrics as budget_metrics
from contracts.budgets.controller import BudgetController
from contracts.catalog.controller import CatalogController
from contracts.instances.controller import ServiceInstanceController
from contracts.purchasing.controller import PurchaseRequestController
from monitoring.figures import FIGURES, FigureSource
from monitoring.metrics import HTTP_METRICS_PREFIX
from monitoring.multiprocess import exposition
from opscenter.assets.handover.controller import HandoverController
from opscenter.assets.register.controller import AssetController
from opscenter.audit.controller import AuditEventController
from opscenter.audit.jobs import JOBS as AUDIT_JOBS
from opscenter.audit.sequencer import backlog_on_metrics
from opscenter.auth.cache import CredentialCache
from opscenter.auth.controller import ApiKeyController, MeController
from opscenter.auth.middleware import ApiKeyAuthMiddleware
from opscenter.calendar.controller import CalendarController
from opscenter.console.assets import STATIC_PATH, api_documentation, static_files
from opscenter.db import Database
from opscenter.demo.command import demo
from opscenter.errors import EXCEPTION_HANDLERS, JsonGuardedRequest
from opscenter.health import PUBLIC, HealthController
from opscenter.idempotency.jobs import JOBS as IDEMPOTENCY_JOBS
from opscenter.leadership import LeaderScheduler, election_for
from opscenter.middleware import truthful_allow
from opscenter.notifications.controller import NotificationController
from opscenter.organizations.controller import OrganizationController, UserController
from opscenter.scheduler import Job
from opscenter.settings import Settings
from opscenter.tickets import figures as ticket_figures
from opscenter.tickets import metrics as ticket_metrics
from opscenter.tickets.controller import TicketController
from opscenter.tickets.jobs import JOBS as TICKET_JOBS
from opscenter.web import DEPENDENCIES
from sla.maintenance.controller import MaintenanceWindowController
from sla.measurements import figures as sla_figures
from sla.measurements.cli import sla as sla_cli
from sla.measurements.controller import MeasurementController
from sla.measurements.jobs import JOBS as SLA_JOBS
from sla.ratings import metrics as rating_metrics
from sla.ratings.controller import RatingController, RatingPeriodController
from sla.reports.controller import SlaReportController


class MetricsController(Controller):
    path = "/metrics"
    tags = ["operations"]
    opt = PUBLIC
    include_in_schema = True

    # In a worker thread: some gauges read the database when scraped (the audit trail's sealing backlog).
    @get(
        "/",
        sync_to_thread=True,
        media_type="text/plain",
        description="Prometheus metrics in the text exposition format; under `serve --workers N`, every API "
        "process's, summed.",
    )
    def metrics(self) -> Response[bytes]:
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


CONTROLLERS: list[ControllerRouterHandler] = [
    HealthController,
    MetricsController,
    OrganizationController,
    UserController,
    ApiKeyController,
    MeController,
    AuditEventController,
    NotificationController,
    CalendarController,
    # contracts: the bureau's side
    CatalogController,
    BudgetController,
    PurchaseRequestController,
    ContractController,
    ServiceInstanceController,
    # sla: ratings
    RatingController,
    RatingPeriodController,
    # sla: measurements from Prometheus, maintenance windows, monthly reports
    MeasurementController,
    MaintenanceWindowController,
    SlaReportController,
    # the operations floor: handover and the asset register
    HandoverController,
    AssetController,
    # the operations floor: tickets under SLA clocks
    TicketController,
    # billing: runs, statements, disputes, credit notes
    BillingController,
    StatementController,
    DisputeController,
]

JOBS: list[Job] = [*AUDIT_JOBS, *CONTRACT_JOBS, *IDEMPOTENCY_JOBS, *SLA_JOBS, *TICKET_JOBS, *BILLING_JOBS]

# Business figures on /metrics, read from the database when scraped (monitoring/figures.py): the dashboards' data.
FIGURE_SOURCES: list[FigureSource] = [
    budget_metrics.figures,
    rating_metrics.figures,
    sla_figures.figures,
    ticket_metrics.figures,
    ticket_figures.figures,
    billing_metrics.figures,
    statement_figures.figures,
]
FIGURES.use(FIGURE_SOURCES)

# Domain CLI groups (``opscenter <group> …``) join here as the domains arrive.
CLI_COMMANDS: list[click.Command] = [demo, sla_cli, billing_cli]

PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/schema", STATIC_PATH)


def scheduled_jobs(settings: Settings) -> list[Job]:
    """The jobs the scheduler runs: JOBS, or the list named by OPSCENTER_SCHEDULER_JOBS (tests, fire drills)."""
    if not settings.scheduler_jobs:
        return JOBS
    module, _, attribute = settings.scheduler_jobs.partition(":")
    jobs: list[Job] = getattr(importlib.import_module(module), attribute or "JOBS")
    return jobs


def leader_scheduler(db: Database, settings: Settings) -> LeaderScheduler:
    """The scheduler of this process, running the jobs only while this process is the leader."""
    return LeaderScheduler(
        db, scheduled_jobs(settings), election=election_for(settings), poll_seconds=settings.scheduler_poll_seconds
    )


def load_all_models() -> None:
    """Import every table model so that SQLModel.metadata is complete (Alembic, tests), whatever was imported
    before. A new domain adds its models modules here."""
    import billing.credit_notes.models
    import billing.disputes.models
    import billing.statements.models  # noqa: F401  (also imported above, for the controllers)
    import contracts.agreements.models
    import contracts.budgets.models
    import contracts.catalog.models
    import contracts.instances.models
    import contracts.purchasing.models  # noqa: F401
    import opscenter.assets.handover.models
    import opscenter.assets.register.models
    import opscenter.audit.models
    import opscenter.auth.models
    import opscenter.calendar.models
    import opscenter.idempotency.models
    import opscenter.job_runs
    import opscenter.notifications.models
    import opscenter.organizations.models
    import opscenter.pagination
    import opscenter.tickets.models  # noqa: F401
    import sla.maintenance.models
    import sla.measurements.models
    import sla.ratings.models
    import sla.reports.models  # noqa: F401


class OpsCenterPlugin(InitPluginProtocol):
    def __init__(self, settings: Settings, *, run_scheduler: bool) -> None:
        self.settings = settings
        self.run_scheduler = run_scheduler

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        prometheus = PrometheusConfig(
            app_name="opscenter", prefix=HTTP_METRICS_PREFIX, group_path=True, exclude_unhandled_paths=True
        )
        app_config.route_handlers.extend([*CONTROLLERS, static_files()])
        app_config.dependencies.update(DEPENDENCIES)
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)
        app_config.middleware = [
            prometheus.middleware,
            # OPTIONS too: Litestar skips it by default, and a guard then finds no user (a 500).
            DefineMiddleware(ApiKeyAuthMiddleware, exclude=["^/schema", f"^{STATIC_PATH}/"], exclude_http_methods=[]),
            *app_config.middleware,
        ]
        app_config.lifespan.append(self._lifespan)
        app_config.before_send.append(truthful_allow)
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
            render_plugins=api_documentation(),
        )
        # Errors are logged once, by the error layer (500s only); Litestar need not log 4xx tracebacks.
        app_config.logging_config = LoggingConfig(configure_root_logger=False, log_exceptions="never")
        app_config.debug = self.settings.debug
        app_config.request_class = JsonGuardedRequest
        return app_config

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncGenerator[None, None]:
        db = Database(self.settings)
        app.state.db = db
        app.state.settings = self.settings
        app.state.credentials = CredentialCache(self.settings.api_key_cache_seconds)
        # Handlers (and key look-ups) run in the loop's default executor: as many threads as pooled connections, so
        # no thread waits for a connection and none is opened and closed per request (Python's default would be
        # min(32, cores + 4), anyio's forty more for authentication).
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=self.settings.db_pool_size, thread_name_prefix="opscenter-handler")
        )
        scheduler = leader_scheduler(db, self.settings) if self.run_scheduler else None
        if scheduler is not None:
            scheduler.start()
        try:
            with backlog_on_metrics(db), FIGURES.watching(db):
                yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            db.dispose()
