"""The console's start: ``/`` leads to it; each person's start page is "awaiting me", with the navigation's counts;
the overview (一屏观天下) for those who oversee the province."""

from typing import Any

from litestar import Controller, Request, Response
from litestar import get as litestar_get
from litestar.response import Redirect

from opscenter.console.awaiting import badge_counts, waiting_for
from opscenter.console.overview import overview
from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import EVERYONE, allow
from opscenter.identity.models import Role
from opscenter.pages import render
from opscenter.web import DbSession, Paging, get


@litestar_get("/", include_in_schema=False, opt={"exclude_from_auth": True})
async def root() -> Redirect:
    """``/`` leads to the console (which sends a person without a session to its login page)."""
    return Redirect("/console", status_code=303)


class HomeController(Controller):
    path = "/console"
    include_in_schema = False
    guards = [allow(*EVERYONE)]

    @get("/")
    def awaiting(
        self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor, page: Paging
    ) -> Response[str]:
        return render(request, "shell/awaiting.html", waiting=waiting_for(session, actor, page))

    @get("/awaiting/counts")
    def counts(
        self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor, page: Paging
    ) -> Response[str]:
        """The navigation's badges, as HTMX out-of-band swaps (the layout asks for them once the page is shown)."""
        counts = badge_counts(waiting_for(session, actor, page))
        return render(request, "shell/counts.html", counts=counts)

    # The province's figures are the overseers': a department sees only its own objects, the admin no business.
    @get("/overview", guards=[allow(Role.BUREAU, Role.OPERATOR, Role.AUDITOR)])
    def overview(self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor) -> Response[str]:
        return render(request, "shell/overview.html", charts=overview(session, actor))
