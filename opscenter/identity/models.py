import uuid
from typing import Annotated, ClassVar

from pydantic import StringConstraints
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from opscenter.db import Identified, Timestamped, Versioned, enum_field
from opscenter.names import ORGANIZATIONS, name_of
from opscenter.schemas import LabeledEnum, PublicRecord, StrictInput, label_of

# SQLModel's Field(regex=…) is silently ignored under pydantic 2 (sqlmodel#735): patterns go in the type.
LoginName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$")]


class OrgKind(LabeledEnum):
    BUREAU = "bureau", "政务服务数据管理局"
    OPERATOR = "operator", "运营中心"
    DEPARTMENT = "department", "部门"


class Role(LabeledEnum):
    ADMIN = "admin", "平台管理员"
    BUREAU = "bureau", "数据局业务人员"
    OPERATOR = "operator", "运营人员"
    DEPARTMENT = "department", "部门用户"
    AUDITOR = "auditor", "审计人员"


# Management and operation stay separate: a role only exists inside the kind of organization it belongs to.
ROLES_BY_KIND: dict[OrgKind, frozenset[Role]] = {
    OrgKind.BUREAU: frozenset({Role.ADMIN, Role.BUREAU, Role.AUDITOR}),
    OrgKind.OPERATOR: frozenset({Role.OPERATOR, Role.AUDITOR}),
    OrgKind.DEPARTMENT: frozenset({Role.DEPARTMENT, Role.AUDITOR}),
}


class OrganizationBase(SQLModel):
    name: str = Field(min_length=1, max_length=200, unique=True, description="Full name, e.g. 市卫生健康委员会")
    kind: OrgKind = enum_field(OrgKind)


class Organization(OrganizationBase, Identified, Timestamped, Versioned, table=True):
    pass


class OrganizationCreate(OrganizationBase, StrictInput):
    pass


class OrganizationUpdate(StrictInput):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class OrganizationPublic(OrganizationBase, PublicRecord):
    kind_label: ClassVar[str] = label_of("kind")


class UserBase(SQLModel):
    name: LoginName = Field(
        min_length=2,
        max_length=64,
        unique=True,
        description="Login name: lowercase letters, digits, dot, dash, underscore",
    )
    display_name: str = Field(default="", max_length=100)
    role: Role = enum_field(Role)


class User(UserBase, Identified, Timestamped, Versioned, table=True):
    __table_args__ = (Index("ix_user_organization_id_id", "organization_id", "id"),)  # an organization's people

    organization_id: uuid.UUID = Field(foreign_key="organization.id")
    is_active: bool = True


class UserCreate(UserBase, StrictInput):
    organization_id: uuid.UUID


class UserUpdate(StrictInput):
    display_name: str | None = Field(default=None, max_length=100)
    role: Role | None = None
    is_active: bool | None = None


class UserPublic(UserBase, PublicRecord):
    organization_id: uuid.UUID
    organization_name: str | None = name_of("organization_id", ORGANIZATIONS)
    is_active: bool
    role_label: ClassVar[str] = label_of("role")
