"""Role guards. Every route declares the roles it admits with ``allow(...)``; there is no default."""

from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from opscenter.identity.actor import Actor
from opscenter.identity.models import Role
from opscenter.openapi import openapi_document, operations


class allow:
    """A guard admitting only the given roles. Layers add up: a handler's guard narrows its controller's."""

    def __init__(self, *roles: Role) -> None:
        if not roles:
            raise ValueError("a guard must admit at least one role")
        self.roles = frozenset(roles)

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = connection.scope.get("user")  # `connection.user` raises where no authentication ran
        if not isinstance(actor, Actor) or actor.role not in self.roles:
            raise PermissionDeniedException("Your role may not use this route.")

    def __repr__(self) -> str:
        return f"allow({', '.join(sorted(self.roles))})"


# The role sets routes admit, defined once. The platform admin manages identities and keys, not the business:
BUSINESS_ROLES = (Role.BUREAU, Role.OPERATOR, Role.DEPARTMENT, Role.AUDITOR)
EVERYONE = tuple(Role)
# The business roles but the operations center: what departments spend or say (budgets, individual ratings)
# stays with them, the bureau and auditors; the one who operates never sees who rated what (管运分离).
WITHOUT_OPERATIONS = (Role.BUREAU, Role.DEPARTMENT, Role.AUDITOR)
# The two sides of the operations floor: who uses a service and who operates it (tickets, their comments).
SERVICE_PARTIES = (Role.DEPARTMENT, Role.OPERATOR)


def admitted_roles(handler: BaseRouteHandler) -> frozenset[Role] | None:
    """The roles that pass every ``allow`` guard of ``handler``; None when it has no role guard at all."""
    role_guards = [guard for guard in handler.resolve_guards() if isinstance(guard, allow)]
    if not role_guards:
        return None
    admitted = frozenset(Role)
    for guard in role_guards:
        admitted &= guard.roles
    return admitted


def document_roles(app: Litestar) -> None:
    """End the description of every operation that needs a key in ``app``'s OpenAPI document with the roles it
    admits ("Roles: admin, bureau."), in the order of ``Role``. Completes the cached document in place, like
    ``opscenter.openapi.describe_errors``, which the wiring runs first."""
    document = openapi_document(app)
    for method, path, handler, _ in operations(app):
        if handler.opt.get("exclude_from_auth"):
            continue
        operation = document["paths"][path][method.lower()]
        roles = admitted_roles(handler) or frozenset(Role)
        admitted = ", ".join(role.value for role in Role if role in roles)
        operation["description"] = f"{operation.get('description', '')}\n\nRoles: {admitted}.".strip()
