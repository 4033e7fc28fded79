"""Notifications in the API: a person's own (and their organization's reminders), unread first to act on, marked
read one by one or all at once; and the choices of channels and muted kinds, the organization's and one's own."""

import uuid
from typing import Any

from litestar import Controller, Request
from litestar.params import FromPath, FromQuery, JSONBody
from sqlmodel import SQLModel

from opscenter.identity.actor import CurrentActor
from opscenter.identity.guards import EVERYONE, allow
from opscenter.identity.models import Role
from opscenter.notifications import preferences, service
from opscenter.notifications.delivery_models import PreferenceIn, PreferencePublic
from opscenter.notifications.models import NotificationKind, NotificationPublic
from opscenter.pagination import CursorPage
from opscenter.settings import Settings
from opscenter.web import AnyOf, DbSession, Paging, get, post, put


class MarkedRead(SQLModel):
    marked: int


def settings_of(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [allow(*EVERYONE)]

    @get("/", description="Yours and your organization's, newest first (auditors: everyone's); `unread=true` "
         "for those not marked read.")  # fmt: skip
    def index(
        self,
        session: DbSession,
        actor: CurrentActor,
        page: Paging,
        kind: AnyOf[NotificationKind] = None,
        unread: FromQuery[bool | None] = None,
    ) -> CursorPage[NotificationPublic]:
        rows = service.list_notifications(session, actor=actor, page=page, kind=kind, unread=unread)
        return rows.page_of([NotificationPublic.model_validate(row) for row in rows])

    @post("/{notification_id:uuid}/read", status_code=200, description="Mark one read; again changes nothing.")
    def read(self, session: DbSession, actor: CurrentActor, notification_id: FromPath[uuid.UUID]) -> NotificationPublic:
        return NotificationPublic.model_validate(service.mark_read(session, notification_id, actor=actor))

    @post("/read-all", status_code=200, description="Mark every unread one of yours read.")
    def read_all(self, session: DbSession, actor: CurrentActor) -> MarkedRead:
        return MarkedRead(marked=service.mark_all_read(session, actor=actor))


class PreferenceController(Controller):
    path = "/api/v1/notification-preferences"
    tags = ["notifications"]
    guards = [allow(*EVERYONE)]

    @get("/me", description="Your email address, channels and muted kinds.")
    def mine(self, session: DbSession, actor: CurrentActor) -> PreferencePublic:
        return preferences.to_public(preferences.get_preference(session, actor=actor, personal=True))

    @put("/me", description="Replace your choices. Muting a kind mutes it on every channel.")
    def save_mine(
        self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor, data: JSONBody[PreferenceIn]
    ) -> PreferencePublic:
        saved = preferences.save_preference(session, data, actor=actor, personal=True, settings=settings_of(request))
        return preferences.to_public(saved)

    @get(
        "/organization",
        guards=[allow(Role.ADMIN, Role.BUREAU, Role.OPERATOR, Role.DEPARTMENT)],
        description="Your organization's choices.",
    )
    def organization(self, session: DbSession, actor: CurrentActor) -> PreferencePublic:
        return preferences.to_public(preferences.get_preference(session, actor=actor, personal=False))

    @put(
        "/organization",
        guards=[allow(Role.ADMIN, Role.BUREAU, Role.OPERATOR, Role.DEPARTMENT)],
        description="Replace your organization's channels, group robots (企业微信, 钉钉 with its 加签 secret, kept "
        "encrypted) and muted kinds.",
    )
    def save_organization(
        self, request: Request[Any, Any, Any], session: DbSession, actor: CurrentActor, data: JSONBody[PreferenceIn]
    ) -> PreferencePublic:
        saved = preferences.save_preference(session, data, actor=actor, personal=False, settings=settings_of(request))
        return preferences.to_public(saved)
