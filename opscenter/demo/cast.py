"""The demo's organizations and people, and the actors its steps act as."""

import secrets
import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from opscenter.auth import passwords
from opscenter.auth import service as auth
from opscenter.auth.models import ApiKey, ApiKeyCreate
from opscenter.demo.province import BUREAU, DEPARTMENTS, KEY_HOLDERS, OPERATOR, PEOPLE, Department
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, OrganizationCreate, OrgKind, Role, User, UserCreate
from opscenter.organizations import service as organizations

SEEDER = Actor.system("demo", "demo-seed")
KEY_NAME = "demo"


def add_people(session: Session) -> str:
    """The bureau, the operations center, the departments and their people; what exists is kept as it is."""
    kinds = {BUREAU: OrgKind.BUREAU, OPERATOR: OrgKind.OPERATOR} | {d.name: OrgKind.DEPARTMENT for d in DEPARTMENTS}
    made_orgs = made_users = 0
    for name, kind in kinds.items():
        if organizations.find_organization(session, name) is None:
            organizations.create_organization(session, OrganizationCreate(name=name, kind=kind), actor=SEEDER)
            made_orgs += 1
    for person in PEOPLE:
        if organizations.find_user(session, person.login) is not None:
            continue
        organization = organizations.find_organization(session, person.organization)
        assert organization is not None
        data = UserCreate(
            name=person.login, display_name=person.display_name, role=person.role, organization_id=organization.id
        )
        organizations.create_user(session, data, actor=SEEDER)
        made_users += 1
    return f"{made_orgs} organizations, {made_users} people"


@dataclass(frozen=True)
class Cast:
    """The people the steps act as, read from the database."""

    actors: dict[str, Actor]
    organizations: dict[str, uuid.UUID]

    def __getitem__(self, login: str) -> Actor:
        return self.actors[login]

    def org(self, name: str) -> uuid.UUID:
        return self.organizations[name]

    def department(self, department: Department) -> uuid.UUID:
        return self.organizations[department.name]


def read_cast(session: Session) -> Cast:
    logins = [person.login for person in PEOPLE]
    rows = session.exec(
        select(User, Organization)
        .join(Organization, col(Organization.id) == User.organization_id)
        .where(col(User.name).in_(logins))
    ).all()
    actors = {
        user.name: Actor(user.id, user.name, organization.id, organization.kind, user.role, f"demo-{user.name}")
        for user, organization in rows
    }
    orgs = session.exec(select(Organization)).all()
    return Cast(actors, {organization.name: organization.id for organization in orgs})


@dataclass(frozen=True)
class IssuedKey:
    role: Role
    login: str
    display_name: str
    organization: str
    key: str
    password: str  # for the console; shown once, like the key


def keys_issued(session: Session, cast: Cast) -> bool:
    """Whether the demo's keys were issued (by an earlier run): they are shown once, then only their prefix."""
    holder = cast[KEY_HOLDERS[0]].user_id
    return session.exec(select(ApiKey.id).where(ApiKey.user_id == holder, ApiKey.name == KEY_NAME)).first() is not None


def demo_password() -> str:
    """A random password the policy takes: upper and lower case and a dash, 17 characters."""
    return "Demo-" + secrets.token_urlsafe(9)


def issue_keys(session: Session, cast: Cast) -> list[IssuedKey]:
    """One key for a user of each role, and that person's console password (theirs to keep: the demo is for trying
    the console at once)."""
    issued = []
    for login in KEY_HOLDERS:
        person = next(person for person in PEOPLE if person.login == login)
        actor = cast[login]
        assert actor.user_id is not None
        _, key = auth.create_api_key(session, ApiKeyCreate(name=KEY_NAME, user_id=actor.user_id), actor=SEEDER)
        password = demo_password()
        user = session.get_one(User, actor.user_id)
        passwords.set_password(session, user, password, actor=SEEDER, must_change=False)
        issued.append(IssuedKey(person.role, login, person.display_name, person.organization, key, password))
    return issued
