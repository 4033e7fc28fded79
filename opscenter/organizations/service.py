"""Organizations and users. A department sees only its own organization and its own people."""

import uuid
from collections.abc import Collection

from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from opscenter.audit import service as audit
from opscenter.errors import Conflict, FieldError, InvalidInput
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.identity.models import (
    ROLES_BY_KIND,
    Organization,
    OrganizationCreate,
    OrganizationUpdate,
    OrgKind,
    Role,
    User,
    UserCreate,
    UserUpdate,
)
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible


def _scoped_organizations(query: SelectOfScalar[Organization], actor: Actor) -> SelectOfScalar[Organization]:
    """A department sees its own organization; everyone else sees all of them."""
    return query.where(Organization.id == actor.required_organization_id) if actor.is_department else query


def _scoped_users(query: SelectOfScalar[User], actor: Actor) -> SelectOfScalar[User]:
    """Those who see everything see every user; anyone else sees only themselves."""
    return query if actor.sees_all else query.where(User.id == actor.user_id)


def create_organization(session: Session, data: OrganizationCreate, *, actor: Actor) -> Organization:
    _require_free_name(session, data.name)
    organization = Organization.model_validate(data)
    session.add(organization)
    audit.record_create(session, actor=actor, action="organization.create", row=organization)
    session.flush()
    return organization


def get_organization(session: Session, organization_id: uuid.UUID, *, actor: Actor) -> Organization:
    return get_visible(
        session, Organization, organization_id, actor=actor, scope=_scoped_organizations, noun="organization"
    )


def find_organization(session: Session, name: str) -> Organization | None:
    return session.exec(select(Organization).where(Organization.name == name)).first()


def list_organizations(
    session: Session, *, actor: Actor, page: PageRequest, kind: Collection[OrgKind] | None = None
) -> Slice[Organization]:
    query = _scoped_organizations(select(Organization).order_by(col(Organization.id)), actor)
    query = any_of(query, Organization.kind, kind)
    return keyset(session, query, page)


def update_organization(
    session: Session,
    organization_id: uuid.UUID,
    data: OrganizationUpdate,
    *,
    actor: Actor,
    expected_version: int,
) -> Organization:
    organization = get_organization(session, organization_id, actor=actor)
    organization.require_version(expected_version)
    with audit.change(session, actor=actor, action="organization.update", row=organization):
        if data.name is not None and data.name != organization.name:
            _require_free_name(session, data.name)
            organization.name = data.name
    session.flush()
    return organization


def create_user(session: Session, data: UserCreate, *, actor: Actor) -> User:
    organization = session.get(Organization, data.organization_id)
    if organization is None:
        raise InvalidInput("organization_id", "no such organization")
    _require_role_fits(data.role, organization.kind)
    if session.exec(select(User).where(User.name == data.name)).first() is not None:
        raise Conflict(f"A user named {data.name!r} already exists.", errors=[FieldError("name", "already taken")])
    user = User.model_validate(data)
    session.add(user)
    audit.record_create(session, actor=actor, action="user.create", row=user)
    session.flush()
    return user


def get_user(session: Session, user_id: uuid.UUID, *, actor: Actor) -> User:
    return get_visible(session, User, user_id, actor=actor, scope=_scoped_users, noun="user")


def users_by_id(session: Session, user_ids: Collection[uuid.UUID], *, actor: Actor) -> dict[uuid.UUID, User]:
    """The users of ``user_ids`` that ``actor`` may see, in one query (none for no ids): the people a page names."""
    if not user_ids:
        return {}
    found = session.exec(_scoped_users(select(User).where(col(User.id).in_(set(user_ids))), actor))
    return {user.id: user for user in found}


def find_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def list_users(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    organization_id: uuid.UUID | None = None,
    role: Collection[Role] | None = None,
) -> Slice[User]:
    query = _scoped_users(select(User).order_by(col(User.id)), actor)
    if organization_id is not None:
        query = query.where(User.organization_id == organization_id)
    query = any_of(query, User.role, role)
    return keyset(session, query, page)


def update_user(session: Session, user_id: uuid.UUID, data: UserUpdate, *, actor: Actor, expected_version: int) -> User:
    user = get_user(session, user_id, actor=actor)
    user.require_version(expected_version)
    with audit.change(session, actor=actor, action="user.update", row=user):
        if data.role is not None and data.role != user.role:
            organization = session.get_one(Organization, user.organization_id)
            _require_role_fits(data.role, organization.kind)
            if user.role == Role.ADMIN:
                _require_another_admin(session, user)
            user.role = data.role
        if data.is_active is not None and data.is_active != user.is_active:
            if not data.is_active and user.role == Role.ADMIN:
                _require_another_admin(session, user)
            user.is_active = data.is_active
        if data.display_name is not None:
            user.display_name = data.display_name
    session.flush()
    return user


def _require_free_name(session: Session, name: str) -> None:
    if find_organization(session, name) is not None:
        raise Conflict(f"An organization named {name!r} already exists.", errors=[FieldError("name", "already taken")])


def _require_role_fits(role: Role, kind: OrgKind) -> None:
    if role not in ROLES_BY_KIND[kind]:
        allowed = ", ".join(sorted(ROLES_BY_KIND[kind]))
        raise InvalidInput("role", f"a {kind.value} organization's users may be: {allowed}")


def _require_another_admin(session: Session, user: User) -> None:
    """Never leave the platform without an active admin: nobody could manage keys any more."""
    others = session.exec(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, col(User.is_active), User.id != user.id)
    ).one()
    if others == 0:
        raise Conflict("This is the last active admin; make another admin first.")
