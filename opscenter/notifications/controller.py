from litestar import Controller
from litestar.params import FromQuery

from opscenter.auth.guards import EVERYONE, allow
from opscenter.notifications import service
from opscenter.notifications.models import NotificationKind, NotificationPublic
from opscenter.schemas import Page
from opscenter.web import CurrentActor, DbSession, Paging, get, page_of


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [allow(*EVERYONE)]

    @get("/", description="Your organization's notifications, newest first (auditors: everyone's).")
    def index(
        self, session: DbSession, actor: CurrentActor, page: Paging, kind: FromQuery[NotificationKind | None] = None
    ) -> Page[NotificationPublic]:
        rows, total = service.list_notifications(session, actor=actor, page=page, kind=kind)
        return page_of([NotificationPublic.model_validate(row) for row in rows], total, page)
