"""Logging in to the console: the password checked, guessing throttled, every outcome audited.

Failures are counted per login name and per client address. A name's sixth failure in a row (past
``console_max_failures_per_user``) locks that name for ``console_lockout_minutes``; an address past
``console_max_failures_per_address`` is locked the same way (an address is shared by many people behind a NAT,
so its limit is higher). While locked, no password is even checked. A success clears the counters of its name and
address. Each login, failure, refusal while locked and lock-out writes one audit event.
"""

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from opscenter.audit import service as audit
from opscenter.auth import passwords, sessions
from opscenter.auth.models import LoginThrottle
from opscenter.errors import Forbidden, InvalidInput, NotFound
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, User
from opscenter.organizations import service as organizations
from opscenter.settings import Settings
from opscenter.timekeeping import utcnow

USER, ADDRESS = "user", "address"
_FORGET_AFTER = timedelta(days=1)  # failures this old no longer count towards a lock-out


class Outcome(enum.Enum):
    LOGGED_IN = "logged_in"
    REFUSED = "refused"  # wrong name or password, or a deactivated user: one answer for all
    LOCKED = "locked"


@dataclass(frozen=True)
class Login:
    outcome: Outcome
    token: str | None = None
    must_change_password: bool = False
    locked_until: datetime | None = None


def person(user: User, organization: Organization, request_id: str) -> Actor:
    """The actor a logged-in person acts as: the same as behind their API key."""
    return Actor(user.id, user.name, organization.id, organization.kind, user.role, request_id)


def log_in(
    session: Session, *, name: str, password: str, address: str, user_agent: str, settings: Settings, request_id: str
) -> Login:
    """Check ``name`` and ``password`` from ``address``; on success open a session (the token goes in the cookie)."""
    name = name.strip().lower()[:64]
    now = utcnow()
    throttles = [_throttle(session, USER, name, now), _throttle(session, ADDRESS, address, now)]
    gatekeeper = Actor.system(f"console-login:{name}", request_id)
    locked = [throttle for throttle in throttles if throttle.locked_until is not None]
    if locked:
        until = max(throttle.locked_until for throttle in locked if throttle.locked_until is not None)
        audit.append(
            session,
            actor=gatekeeper,
            action="console.login_locked",
            row=locked[0],
            changes={"user_name": [None, name], "address": [None, address]},
        )
        return Login(Outcome.LOCKED, locked_until=until)
    user = organizations.find_user(session, name) if name else None
    stored = passwords.verify(session, user.id if user is not None else None, password)
    if user is not None and stored is not None and user.is_active:
        passwords.rehash_if_needed(stored, password)
        for throttle in throttles:
            throttle.failures, throttle.locked_until = 0, None
        console_session, token = sessions.open_session(
            session,
            user,
            lifetime=timedelta(hours=settings.console_session_hours),
            address=address,
            user_agent=user_agent,
        )
        audit.record_create(
            session,
            actor=person(user, session.get_one(Organization, user.organization_id), request_id),
            action="console.login",
            row=console_session,
        )
        session.flush()
        return Login(Outcome.LOGGED_IN, token=token, must_change_password=stored.must_change)
    limits = {USER: settings.console_max_failures_per_user, ADDRESS: settings.console_max_failures_per_address}
    lock_until = None
    for throttle in throttles:
        throttle.failures += 1
        if throttle.failures == 1:
            throttle.first_failure_at = now
        if throttle.failures > limits[throttle.scope]:
            throttle.locked_until = lock_until = now + timedelta(minutes=settings.console_lockout_minutes)
    session.flush()
    details = {"user_name": [None, name], "address": [None, address]}
    audit.append(session, actor=gatekeeper, action="console.login_failed", row=throttles[0], changes=details)
    for throttle in throttles:
        if throttle.locked_until is not None:
            audit.append(
                session,
                actor=gatekeeper,
                action="console.lockout",
                row=throttle,
                changes={**details, "failures": [None, throttle.failures], "locked_until": [None, str(lock_until)]},
            )
    session.flush()
    return Login(Outcome.LOCKED if lock_until else Outcome.REFUSED, locked_until=lock_until)


def _throttle(session: Session, scope: str, subject: str, now: datetime) -> LoginThrottle:
    """The counter of ``scope``/``subject``, locked for update, created when missing; a lock past its end and
    failures older than a day are forgotten."""
    throttle = session.exec(
        select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.subject == subject).with_for_update()
    ).first()
    if throttle is None:
        throttle = LoginThrottle(scope=scope, subject=subject[:100], failures=0, first_failure_at=now)
        session.add(throttle)
        session.flush()
    elif (throttle.locked_until is not None and throttle.locked_until <= now) or (
        throttle.locked_until is None and throttle.first_failure_at < now - _FORGET_AFTER
    ):
        throttle.failures, throttle.locked_until = 0, None
    return throttle


def change_password(session: Session, *, actor: Actor, current: str, new: str) -> None:
    """A person chooses their own password: the current one checked, the new one against the policy and unlike
    the current one. Clears ``must_change``."""
    if actor.user_id is None:
        raise Forbidden("Only a person has a password.")
    user = session.get_one(User, actor.user_id)
    if passwords.verify(session, user.id, current) is None:
        raise InvalidInput("current_password", "当前密码不正确")
    if new == current:
        raise InvalidInput("new_password", "新密码不得与当前密码相同")
    passwords.set_password(session, user, new, actor=actor, must_change=False)


def log_out(session: Session, token: str, *, actor: Actor) -> None:
    """End this session (audited)."""
    ended = sessions.revoke(session, token)
    if ended is not None:
        audit.append(session, actor=actor, action="console.logout", row=ended, changes={"revoked_at": [None, "now"]})


def log_out_everywhere(session: Session, *, actor: Actor) -> None:
    """End every session of the acting person (audited on the user)."""
    if actor.user_id is None:
        raise Forbidden("Only a person has sessions.")
    ended = sessions.revoke_all(session, actor.user_id)
    user = session.get_one(User, actor.user_id)
    audit.append(session, actor=actor, action="console.logout_everywhere", row=user, changes={"sessions": [ended, 0]})


def end_session(session: Session, user_id: uuid.UUID, session_id: uuid.UUID, *, actor: Actor) -> None:
    """An admin ends one open session of a user (audited on the session); one not open is a 404."""
    ended = sessions.revoke_one(session, user_id, session_id)
    if ended is None:
        raise NotFound("console session")
    changes = {"revoked_at": [None, ended.revoked_at.isoformat() if ended.revoked_at else None]}
    audit.append(session, actor=actor, action="console.session_revoke", row=ended, changes=changes)


def end_sessions(session: Session, user: User, *, actor: Actor) -> int:
    """An admin ends every open session of ``user`` (audited on the user, as "log out everywhere" is)."""
    ended = sessions.revoke_all(session, user.id)
    if ended:
        audit.append(session, actor=actor, action="console.sessions_revoke", row=user, changes={"sessions": [ended, 0]})
    return ended
