"""Who acts: a user through an API key, or the system (a job, a command); and how a handler asks for it."""

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from opscenter.errors import Forbidden
from opscenter.identity.models import OrgKind, Role

# Roles that see every organization's objects; a department sees only its own.
_SEES_ALL = frozenset({Role.ADMIN, Role.BUREAU, Role.AUDITOR})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a user through an API key, or the system (a job, a CLI command).

    Services ask it business questions (``actor.is_department``, ``actor.sees_all``), never compare roles.
    """

    user_id: uuid.UUID | None
    user_name: str
    organization_id: uuid.UUID | None
    org_kind: OrgKind | None
    role: Role | None
    request_id: str
    # Where the request came from (through trusted proxies only) and the credential it carried, for the audit
    # trail: ``api_key`` or ``session`` and its id, never the secret. None for the system.
    client_address: str | None = None
    credential_kind: str | None = None
    credential_id: str | None = None

    @classmethod
    def system(cls, name: str, request_id: str) -> "Actor":
        return cls(None, name, None, None, None, request_id)

    @classmethod
    def of_job(cls, job_id: str) -> "Actor":
        """The system, acting for one run of a scheduled job; the run's id is its request id in the audit trail."""
        return cls.system(f"job:{job_id}", f"job-{uuid.uuid4().hex}")

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def role_name(self) -> str:
        return self.role.value if self.role is not None else "system"

    @property
    def sees_all(self) -> bool:
        """Bureau, admin and auditors (of any organization) read everything, drafts included; so does the system."""
        return self.is_system or self.role in _SEES_ALL

    @property
    def required_organization_id(self) -> uuid.UUID:
        """The acting user's organization, for what needs one; the system acts for none and is refused (403).
        (``organization_id`` is the same id, or None for the system.)"""
        if self.organization_id is None:
            raise Forbidden("This action needs a user of an organization.")
        return self.organization_id

    @property
    def is_department(self) -> bool:
        """A department user: sees only its own organization's objects."""
        return self.role == Role.DEPARTMENT

    @property
    def is_operator(self) -> bool:
        """A user of the operations center: sees what it operates and supplies, never the bureau's drafts."""
        return self.role == Role.OPERATOR

    @property
    def is_auditor(self) -> bool:
        """An auditor (of any organization): reads everything, everyone's notifications included; changes nothing."""
        return self.role == Role.AUDITOR


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The ``actor`` of a handler: who the authentication middleware found behind the request's key."""
    actor = request.user
    if not isinstance(actor, Actor):  # the auth middleware guarantees this for every guarded route
        raise RuntimeError("route reached without an authenticated actor")
    return actor


# What handlers declare, by name: ``actor: CurrentActor`` (the wiring registers ``provide_actor`` as ``actor``).
CurrentActor = NamedDependency[Actor]
