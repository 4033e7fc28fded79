"""People's console passwords: a policy fit for 等保 level 3 (GB/T 22239-2019 8.1.4.1: identification and
authentication with complex passwords, changed regularly), hashed with argon2id.

The policy: at least 12 characters, at least three of the four classes (lower case, upper case, digits, other
characters), not containing the login name (either way round, any case). A password an admin (or the demo) set
must be changed by its person at the next login, before any page opens.
"""

import functools
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from opscenter.audit import service as audit
from opscenter.auth.models import Password
from opscenter.errors import InvalidInput
from opscenter.identity.actor import Actor
from opscenter.identity.models import User
from opscenter.timekeeping import utcnow

MIN_LENGTH = 12
MAX_LENGTH = 128  # argon2 takes any length; a bound keeps one login from costing more than the next
CLASSES_NEEDED = 3

# argon2-cffi's defaults follow RFC 9106's second recommended option (argon2id, 64 MiB, 3 passes).
_hasher = PasswordHasher()


@functools.cache
def _decoy() -> str:
    """Verified against when the login name is unknown, so that an unknown name costs as long as a wrong password.
    Made at the first login, not at import: a hash costs 64 MiB and tens of milliseconds, and every process (each CLI
    command, each worker) imports this module."""
    return _hasher.hash("not a password anyone has")


def policy_problems(password: str, *, user_name: str) -> list[str]:
    """What is wrong with ``password`` for the user ``user_name``, in Chinese as the console shows it; empty if none."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"至少 {MIN_LENGTH} 个字符")
    if len(password) > MAX_LENGTH:
        problems.append(f"至多 {MAX_LENGTH} 个字符")
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < CLASSES_NEEDED:
        problems.append("须包含小写字母、大写字母、数字、其他符号中的至少三类")
    lowered = password.lower()
    if user_name and (user_name.lower() in lowered or user_name.lower()[::-1] in lowered):
        problems.append("不得包含用户名")
    return problems


def check_policy(password: str, *, user_name: str, field: str = "password") -> None:
    """Refuse (400 naming ``field``) a password that breaks the policy."""
    problems = policy_problems(password, user_name=user_name)
    if problems:
        raise InvalidInput(field, "密码" + "；".join(problems))


def set_password(session: Session, user: User, password: str, *, actor: Actor, must_change: bool) -> Password:
    """Give ``user`` a new console password (checked against the policy). ``must_change``: the person must choose
    another at the next login (an admin set it). Audited without the hash."""
    check_policy(password, user_name=user.name)
    stored = session.exec(select(Password).where(Password.user_id == user.id).with_for_update()).first()
    hashed = _hasher.hash(password)
    if stored is None:
        stored = Password(user_id=user.id, password_hash=hashed, must_change=must_change)
        session.add(stored)
        session.flush()
        audit.record_create(session, actor=actor, action="user.password_set", row=stored)
    else:
        with audit.change(session, actor=actor, action="user.password_set", row=stored):
            stored.password_hash, stored.must_change, stored.changed_at = hashed, must_change, utcnow()
    session.flush()
    return stored


def verify(session: Session, user_id: uuid.UUID | None, password: str) -> Password | None:
    """The user's stored password when ``password`` is it; None otherwise (no user, no password set, or wrong).
    Takes about as long whichever it is."""
    stored = None if user_id is None else session.exec(select(Password).where(Password.user_id == user_id)).first()
    try:
        _hasher.verify(stored.password_hash if stored is not None else _decoy(), password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return stored


def rehash_if_needed(stored: Password, password: str) -> None:
    """Keep the hash at the current parameters (when argon2-cffi's defaults grow, old hashes move on at login)."""
    if _hasher.check_needs_rehash(stored.password_hash):
        stored.password_hash = _hasher.hash(password)
