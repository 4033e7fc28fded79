"""The console's routes, mounted by the wiring: the shell's and every domain's pages, all behind ``person_gate``
(the CSRF token of the person's session; a password to change first), none in the API's OpenAPI document."""

from pathlib import Path

from litestar import Router
from litestar.types import ControllerRouterHandler

from billing.statements.pages import StatementPages
from contracts.agreements.pages import ContractPages
from contracts.purchasing.pages import PurchaseRequestPages
from operations.assets.handover.pages import HandoverPages
from operations.tickets.pages import TicketPages
from opscenter.console.admin import OrganizationPages, UserPages
from opscenter.console.audit import AuditPages
from opscenter.console.home import HomeController, root
from opscenter.console.keys import ApiKeyPages
from opscenter.console.login import LoginController
from opscenter.pages import DEPENDENCIES, person_gate
from sla.maintenance.pages import MaintenancePages
from sla.ratings.pages import RatingPages

# The pages of the core's rooms that cannot stand beside their controllers (see opscenter/console/admin.py).
SHELL_PAGES: list[ControllerRouterHandler] = [AuditPages, OrganizationPages, UserPages, ApiKeyPages]
# Each domain's pages, beside its controller; their templates in the folder ``templates`` beside each.
DOMAIN_PAGES: list[ControllerRouterHandler] = [
    PurchaseRequestPages,
    ContractPages,
    TicketPages,
    RatingPages,
    HandoverPages,
    StatementPages,
    MaintenancePages,
]


def console_router() -> Router:
    return Router(
        path="/",
        route_handlers=[root, LoginController, HomeController, *SHELL_PAGES, *DOMAIN_PAGES],
        guards=[person_gate],
        dependencies=DEPENDENCIES,
        include_in_schema=False,
    )


def domain_template_folders() -> list[Path]:
    """The ``templates`` folder beside each domain's ``pages.py``."""
    folders = []
    for pages in DOMAIN_PAGES:
        module = __import__(pages.__module__, fromlist=["_"])
        folder = Path(module.__file__ or "").parent / "templates"
        if folder.is_dir():
            folders.append(folder)
    return folders
