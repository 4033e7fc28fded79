from litestar import Controller

from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import EVERYONE, allow
from opscenter.notifications import service
from opscenter.notifications.models import NotificationKind, NotificationPublic
from opscenter.pagination import CursorPage
from opscenter.web import AnyOf, DbSession, Paging, get


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [allow(*EVERYONE)]

    @get("/", description="Your organization's notifications, newest first (auditors: everyone's).")
    def index(
        self, session: DbSession, actor: CurrentActor, page: Paging, kind: AnyOf[NotificationKind] = None
    ) -> CursorPage[NotificationPublic]:
        rows = service.list_notifications(session, actor=actor, page=page, kind=kind)
        return rows.page_of([NotificationPublic.model_validate(row) for row in rows])
