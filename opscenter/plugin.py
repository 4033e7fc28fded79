"""The wiring: the one place that knows every domain's controllers, jobs, models and CLI commands."""

import asyncio
import hmac
import importlib
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import click
from litestar import Controller, Litestar, Request, Response, get
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import InitPluginProtocol
from litestar.plugins.prometheus import PrometheusConfig
from litestar.types import ControllerRouterHandler
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import SecretStr

import opscenter
from billing.statements import figures as billing_figures
from billing.statements.cli import billing as billing_cli
from billing.statements.controller import BillingController, DisputeController, StatementController
from billing.statements.jobs import JOBS as BILLING_JOBS
from billing.statements.restating import ratings_followed
from contracts.agreements.controller import ContractController
from contracts.agreements.jobs import JOBS as CONTRACT_JOBS
from contracts.budgets import figures as budget_figures
from contracts.budgets.controller import BudgetController
from contracts.catalog.controller import CatalogController
from contracts.instances.controller import ServiceInstanceController
from contracts.purchasing.controller import PurchaseRequestController
from monitoring.figures import FIGURES, PROCESS_FIGURES, FigureSource
from monitoring.metrics import HTTP_METRICS_PREFIX, record_build
from monitoring.multiprocess import exposition
from operations.assets.handover.controller import HandoverController
from operations.assets.register.controller import AssetController
from operations.tickets import figures as ticket_figures
from operations.tickets.controller import TicketController
from operations.tickets.jobs import JOBS as TICKET_JOBS
from opscenter.audit import figures as audit_figures
from opscenter.audit.controller import AuditCheckpointController, AuditEventController
from opscenter.audit.jobs import JOBS as AUDIT_JOBS
from opscenter.auth.cache import CredentialCache
from opscenter.auth.controller import ApiKeyController, MeController
from opscenter.auth.middleware import CONSOLE_PATH, ApiKeyAuthMiddleware
from opscenter.auth.sessions import TOUCH_INTERVAL, touch_sessions
from opscenter.auth.touches import KeyTouches
from opscenter.calendar import figures as calendar_figures
from opscenter.calendar.cli import calendar as calendar_cli
from opscenter.calendar.controller import CalendarController
from opscenter.calendar.jobs import JOBS as CALENDAR_JOBS
from opscenter.console.assets import STATIC_PATH, api_documentation, static_files
from opscenter.console.routes import console_router, domain_template_folders
from opscenter.console.templating import template_config
from opscenter.db import Database
from opscenter.demo.command import demo
from opscenter.errors import EXCEPTION_HANDLERS, JsonGuardedRequest, problem
from opscenter.health import PUBLIC, HealthController
from opscenter.idempotency.jobs import JOBS as IDEMPOTENCY_JOBS
from opscenter.identity.actor import Actor, provide_actor
from opscenter.leadership import LeaderScheduler, election_for
from opscenter.middleware import truthful_allow
from opscenter.migrate import Migrations
from opscenter.notifications import figures as notification_figures
from opscenter.notifications.controller import NotificationController, PreferenceController
from opscenter.notifications.jobs import JOBS as NOTIFICATION_JOBS
from opscenter.notifications.subscription_controller import SubscriptionController
from opscenter.openapi import ALSO_ANSWERS, METRICS_SCRAPER_SCHEME, PUBLIC_SECURITY
from opscenter.organizations.controller import OrganizationController, UserController
from opscenter.parameters import check_query, learn_query_rules
from opscenter.ratelimits.counters import Counters, ProcessCounters, RedisCounters
from opscenter.ratelimits.middleware import GuardMiddleware, Limits
from opscenter.replica import ReadReplica
from opscenter.scheduler import Job
from opscenter.settings import Settings
from opscenter.tracing import instrumented
from opscenter.web import DEPENDENCIES
from sla.budget.cli import monitoring as monitoring_cli
from sla.budget.jobs import JOBS as BUDGET_JOBS
from sla.maintenance.controller import MaintenanceWindowController
from sla.measurements import figures as sla_figures
from sla.measurements.cli import sla as sla_cli
from sla.measurements.controller import MeasurementController
from sla.measurements.jobs import JOBS as SLA_JOBS
from sla.ratings import figures as rating_figures
from sla.ratings import followers as rating_followers
from sla.ratings.controller import RatingController, RatingPeriodController
from sla.ratings.jobs import JOBS as RATING_JOBS
from sla.reports.controller import SlaReportController

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


class MetricsController(Controller):
    path = "/metrics"
    tags = ["operations"]
    opt = {**PUBLIC, PUBLIC_SECURITY: [{}, {METRICS_SCRAPER_SCHEME: []}], ALSO_ANSWERS: (401,)}
    include_in_schema = True

    # In a worker thread: some gauges read the database when scraped (the audit trail's sealing backlog).
    @get(
        "/",
        sync_to_thread=True,
        media_type="text/plain",
        description="Prometheus metrics in the text exposition format; under `serve --workers N`, every API "
        "process's, summed. Without credentials: the process's own metrics (requests, jobs, the scheduler, the "
        "audit backlog). With `Authorization: Bearer <OPSCENTER_METRICS_TOKEN>`: also the business figures "
        "(budgets and spend by department, SLA, ratings, tickets, statements). Any other credential: 401.",
    )
    def metrics(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        authorization = request.headers.get("authorization")
        if authorization is None:
            return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
        token: SecretStr | None = request.app.state.settings.metrics_token
        scheme, _, credential = authorization.partition(" ")
        if token is None or scheme.lower() != "bearer" or not _same(credential.strip(), token.get_secret_value()):
            return _scraper_refused()
        return Response(exposition(business_figures=True), media_type=CONTENT_TYPE_LATEST)


def _scraper_refused() -> Response[Any]:
    return problem(
        401,
        "unauthenticated",
        "Unauthorized",
        "The business figures on /metrics need Authorization: Bearer <the metrics token> (OPSCENTER_METRICS_TOKEN); "
        "without credentials, /metrics answers the process metrics.",
        headers={"WWW-Authenticate": 'Bearer realm="opscenter-metrics"'},
    )


def _same(sent: str, token: str) -> bool:
    """Compared in constant time, so the answer's timing tells nothing of the token."""
    return hmac.compare_digest(sent.encode(), token.encode())


CONTROLLERS: list[ControllerRouterHandler] = [
    HealthController,
    MetricsController,
    OrganizationController,
    UserController,
    ApiKeyController,
    MeController,
    AuditEventController,
    AuditCheckpointController,
    NotificationController,
    PreferenceController,
    SubscriptionController,
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

# A rating written or revised while its month's statement is open recomputes that statement's line (DESIGN §6).
rating_followers.follow(ratings_followed)

JOBS: list[Job] = [
    *AUDIT_JOBS,
    *CALENDAR_JOBS,
    *CONTRACT_JOBS,
    *IDEMPOTENCY_JOBS,
    *NOTIFICATION_JOBS,
    *SLA_JOBS,
    *BUDGET_JOBS,
    *RATING_JOBS,
    *TICKET_JOBS,
    *BILLING_JOBS,
]

# Figures on /metrics read from the database when scraped (monitoring/figures.py): each package's ``figures.py``.
# (Counters, histograms and gauges that code sets as things happen are prometheus-client objects, all in
# monitoring/metrics.py.) The business figures name departments and their money: the API processes report them
# to a scraper that sends the metrics token.
FIGURE_SOURCES: list[FigureSource] = [
    budget_figures.figures,
    rating_figures.figures,
    sla_figures.figures,
    ticket_figures.figures,
    billing_figures.figures,
]
# The house's own figures, open to any scraper: the audit backlog, reported by the API processes and by a worker
# (``opscenter worker --metrics-port``), which runs the sequencer that works it off; whether the calendar knows
# this year and (from November) the next; and the notification deliveries given up (dead letters).
PROCESS_FIGURE_SOURCES: list[FigureSource] = [
    audit_figures.figures,
    calendar_figures.figures,
    notification_figures.figures,
]

record_build(opscenter.__version__)

# Domain CLI groups (``opscenter <group> …``) join here as the domains arrive.
CLI_COMMANDS: list[click.Command] = [demo, calendar_cli, sla_cli, billing_cli, monitoring_cli]


def scheduled_jobs(settings: Settings) -> list[Job]:
    """The jobs the scheduler runs: JOBS, or the list named by OPSCENTER_SCHEDULER_JOBS (tests, fire drills)."""
    if not settings.scheduler_jobs:
        return JOBS
    module, _, attribute = settings.scheduler_jobs.partition(":")
    jobs: list[Job] = getattr(importlib.import_module(module), attribute or "JOBS")
    return jobs


def leader_scheduler(db: Database, settings: Settings) -> LeaderScheduler:
    """The scheduler of this process, running the jobs only while this process is the leader, each run as the
    system acting for its job."""
    return LeaderScheduler(
        db,
        scheduled_jobs(settings),
        system_actor=Actor.of_job,
        election=election_for(settings),
        poll_seconds=settings.scheduler_poll_seconds,
    )


def rate_counters(settings: Settings) -> Counters | None:
    """Where this process counts requests against the rate limits: None when they are off; Redis when
    ``OPSCENTER_REDIS_URL`` is set (every API process shares the counts); else this process alone."""
    if not settings.rate_limits:
        return None
    if settings.redis_url is not None:
        return RedisCounters(settings.redis_url.get_secret_value())
    return ProcessCounters()


def cors_config(settings: Settings) -> CORSConfig | None:
    """CORS for the origins in ``OPSCENTER_CORS_ORIGINS``, none when unset (a browser then lets no other site's
    page read an answer). API keys only: credentials (cookies) are never allowed across origins, so the
    console's session cannot be used from another site's page."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-ID"],
        allow_credentials=False,
        expose_headers=["ETag", "Location", "X-Request-ID", "RateLimit", "RateLimit-Policy", "Retry-After"],
        max_age=600,
    )


class OpsCenterPlugin(InitPluginProtocol):
    def __init__(
        self,
        settings: Settings,
        *,
        migrations: Migrations,
        run_scheduler: bool,
        tracer_provider: "TracerProvider | None" = None,
    ) -> None:
        self.settings = settings
        self.migrations = migrations  # what /ready expects the database at
        self.run_scheduler = run_scheduler
        self.tracer_provider = tracer_provider  # None: traces are off (opscenter/tracing.py)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        prometheus = PrometheusConfig(
            app_name="opscenter", prefix=HTTP_METRICS_PREFIX, group_path=True, exclude_unhandled_paths=True
        )
        app_config.route_handlers.extend([*CONTROLLERS, static_files(), console_router()])
        app_config.template_config = template_config(domain_template_folders())
        app_config.dependencies.update(DEPENDENCIES)
        app_config.dependencies["actor"] = Provide(provide_actor, sync_to_thread=False)
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)
        app_config.middleware = [
            prometheus.middleware,
            # Before authentication: a request is counted (and may be refused 429) before its key is looked up,
            # and every 401 the authentication answers is seen (opscenter/ratelimits/middleware.py).
            DefineMiddleware(GuardMiddleware),
            # OPTIONS too: Litestar skips it by default, and a guard then finds no user (a 500).
            DefineMiddleware(ApiKeyAuthMiddleware, exclude=["^/schema", f"^{STATIC_PATH}/"], exclude_http_methods=[]),
            *app_config.middleware,
        ]
        app_config.lifespan.append(self._lifespan)
        app_config.before_send.append(truthful_allow)
        # Every API operation's query string held to what it declares (opscenter/parameters.py): a program must
        # learn that a parameter it sent was not understood. Not the OpenAPI pages' nor the static files' (Litestar's
        # own), nor the console's pages: a browser sends what its links and forms carry (`next` after the login,
        # `done` after an action, a filter left empty), and a page shows what it understood.
        app_config.before_request = check_query
        exempt = ("/schema", f"{STATIC_PATH}/", CONSOLE_PATH)
        app_config.on_startup.append(partial(learn_query_rules, exempt=exempt))
        app_config.openapi_config = OpenAPIConfig(
            title="OpsCenter",
            version=opscenter.__version__,
            description="Service management for a government operations center. "
            "Authenticate with `Authorization: Bearer <api key>`.",
            path="/schema",
            components=Components(
                security_schemes={
                    "apiKey": SecurityScheme(type="http", scheme="bearer", description="opc_… key"),
                    METRICS_SCRAPER_SCHEME: SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="OPSCENTER_METRICS_TOKEN, sent by Prometheus for the business figures on /metrics",
                    ),
                }
            ),
            security=[{"apiKey": []}],
            render_plugins=api_documentation(),
        )
        app_config.cors_config = cors_config(self.settings)
        # Errors are logged once, by the error layer (500s only); Litestar need not log 4xx tracebacks.
        app_config.logging_config = LoggingConfig(configure_root_logger=False, log_exceptions="never")
        app_config.debug = self.settings.debug
        app_config.request_class = JsonGuardedRequest
        return app_config

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncGenerator[None, None]:
        db = Database(self.settings)
        app.state.db = db
        app.state.migrations = self.migrations
        # Scale-out: list pages may read from a PostgreSQL streaming replica (opscenter/replica.py).
        replica = ReadReplica(self.settings, self.migrations) if self.settings.database_replica_url else None
        app.state.replica = replica
        app.state.settings = self.settings
        app.state.rate_limits = Limits.of(self.settings)
        counters = rate_counters(self.settings)
        app.state.rate_counters = counters
        app.state.credentials = CredentialCache(self.settings.api_key_cache_seconds)
        touches = KeyTouches(db, touch_interval=timedelta(seconds=self.settings.api_key_touch_interval_seconds))
        app.state.key_touches = touches
        touches.start()
        # The console's sessions: their last-seen times (the idle timeout counts from them), written the same way.
        session_touches = KeyTouches(db, touch_interval=TOUCH_INTERVAL, writer=touch_sessions, name="session-touches")
        app.state.session_touches = session_touches
        session_touches.start()
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
            FIGURES.use(FIGURE_SOURCES)
            PROCESS_FIGURES.use(PROCESS_FIGURE_SOURCES)
            with FIGURES.watching(db), PROCESS_FIGURES.watching(db), instrumented(self.tracer_provider, db.engine):
                yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            if replica is not None:
                replica.dispose()
            touches.stop()
            session_touches.stop()
            if counters is not None:
                await counters.close()
            db.dispose()
