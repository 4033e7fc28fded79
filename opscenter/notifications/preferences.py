"""Who chose what: an organization's channels, group robots and muted kinds; a person's email and muted kinds.
Robot URLs are checked as webhook URLs are (``safety``); 钉钉's secret is stored encrypted, never shown again."""

from sqlalchemy import inspect
from sqlmodel import Session, select

from opscenter.audit import service as audit
from opscenter.identity.actor import Actor
from opscenter.notifications import secrets
from opscenter.notifications.delivery_models import NotificationPreference, PreferenceIn, PreferencePublic
from opscenter.notifications.recipients import scope_of
from opscenter.notifications.safety import check_url, policy_of
from opscenter.settings import Settings


def get_preference(session: Session, *, actor: Actor, personal: bool) -> NotificationPreference:
    """The actor's own (``personal``) or their organization's choices; unsaved ones answer as empty."""
    organization = actor.required_organization_id
    user = actor.user_id if personal else None
    found = session.exec(
        select(NotificationPreference).where(NotificationPreference.scope == scope_of(organization, user))
    ).first()
    return found or NotificationPreference(
        scope=scope_of(organization, user), organization_id=organization, user_id=user
    )


def save_preference(
    session: Session, data: PreferenceIn, *, actor: Actor, personal: bool, settings: Settings
) -> NotificationPreference:
    """Replace the actor's own (``personal``) or their organization's choices, audited."""
    preference = get_preference(session, actor=actor, personal=personal)
    policy = policy_of(settings)
    wecom = check_url(str(data.wecom_url), policy, field="wecom_url") if data.wecom_url else ""
    dingtalk = check_url(str(data.dingtalk_url), policy, field="dingtalk_url") if data.dingtalk_url else ""
    if inspect(preference).transient:  # the first save: an empty row, then the change to it audited
        session.add(preference)
        session.flush()
    with audit.change(session, actor=actor, action="notification_preference.save", row=preference):
        preference.channels = sorted({channel.value for channel in data.channels})
        preference.muted_kinds = sorted({kind.value for kind in data.muted_kinds})
        preference.email = data.email if personal else ""
        preference.wecom_url = "" if personal else wecom
        preference.dingtalk_url = "" if personal else dingtalk
        if not personal and data.dingtalk_secret is not None:
            secret = data.dingtalk_secret
            preference.dingtalk_secret_encrypted = secrets.encrypt(settings, secret) if secret else ""
    session.flush()
    return preference


def to_public(preference: NotificationPreference) -> PreferencePublic:
    return PreferencePublic(
        id=preference.id,
        version=preference.version,
        organization_id=preference.organization_id,
        user_id=preference.user_id,
        channels=preference.channels,  # type: ignore[arg-type]
        muted_kinds=preference.muted_kinds,  # type: ignore[arg-type]
        email=preference.email,
        wecom_url=preference.wecom_url,
        dingtalk_url=preference.dingtalk_url,
        dingtalk_signed=bool(preference.dingtalk_secret_encrypted),
    )
