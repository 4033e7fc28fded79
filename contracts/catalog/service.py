"""The catalog: the operations center adds, reprices and retires services; everyone reads it."""

import uuid
from collections.abc import Collection

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from contracts.catalog.models import (
    CatalogService,
    CatalogServiceCreate,
    CatalogServiceUpdate,
    ServiceCategory,
    ServiceStatus,
)
from opscenter.audit import service as audit
from opscenter.errors import Conflict, FieldError, InvalidInput, NotFound
from opscenter.filters import any_of
from opscenter.identity.actor import Actor
from opscenter.money import to_fen
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.timekeeping import utcnow


def create_service(session: Session, data: CatalogServiceCreate, *, actor: Actor) -> CatalogService:
    if session.exec(select(CatalogService).where(CatalogService.code == data.code)).first() is not None:
        raise Conflict(f"A service with code {data.code!r} exists.", errors=[FieldError("code", "already taken")])
    service = CatalogService.model_validate(
        data,
        update={"list_price_fen": to_fen(data.list_price), "default_terms": data.default_terms.as_json()},
    )
    session.add(service)
    audit.record_create(session, actor=actor, action="catalog_service.create", row=service)
    session.flush()
    return service


def get_service(session: Session, service_id: uuid.UUID) -> CatalogService:
    service = session.get(CatalogService, service_id)
    if service is None:
        raise NotFound("catalog service")
    return service


def get_orderable(session: Session, service_id: uuid.UUID, *, field: str) -> CatalogService:
    """A service that new purchases and contract lines may use: it exists and is not retired."""
    service = session.get(CatalogService, service_id)
    if service is None:
        raise InvalidInput(field, "no such catalog service")
    if service.status == ServiceStatus.RETIRED:
        raise InvalidInput(field, f"service {service.code} is retired")
    return service


def list_services(
    session: Session,
    *,
    page: PageRequest,
    category: Collection[ServiceCategory] | None = None,
    status: Collection[ServiceStatus] | None = None,
) -> Slice[CatalogService]:
    query = select(CatalogService).order_by(col(CatalogService.code))
    query = any_of(query, CatalogService.category, category)
    query = any_of(query, CatalogService.status, status)
    return keyset(session, query, page)


def update_service(
    session: Session, service_id: uuid.UUID, data: CatalogServiceUpdate, *, actor: Actor, expected_version: int
) -> CatalogService:
    """Change a catalog entry. Signed contracts keep their own prices and terms."""
    service = get_service(session, service_id)
    service.require_version(expected_version)
    with audit.change(session, actor=actor, action="catalog_service.update", row=service):
        changes = data.model_dump(exclude_unset=True, exclude={"list_price", "default_terms"})
        for name, value in changes.items():
            if value is None:
                raise InvalidInput(name, "may be changed but not cleared")
            setattr(service, name, value)
        if data.list_price is not None:
            service.list_price_fen = to_fen(data.list_price)
        if data.default_terms is not None:
            service.default_terms = data.default_terms.as_json()
    session.flush()
    return service


def retire_service(session: Session, service_id: uuid.UUID, *, actor: Actor, expected_version: int) -> CatalogService:
    """Take a service off sale: running contracts keep it, new purchases cannot choose it."""
    service = get_service(session, service_id)
    service.require_version(expected_version)
    if service.status == ServiceStatus.RETIRED:
        return service
    with audit.change(session, actor=actor, action="catalog_service.retire", row=service):
        service.status, service.retired_at = ServiceStatus.RETIRED, utcnow()
    session.flush()
    return service


def delete_service(session: Session, service_id: uuid.UUID, *, actor: Actor, expected_version: int) -> None:
    """Delete an entry nothing refers to (a mistake); one that was ever used must be retired instead."""
    service = get_service(session, service_id)
    service.require_version(expected_version)
    try:
        with session.begin_nested():
            session.delete(service)
            session.flush()
    except IntegrityError:
        # The foreign keys of purchase items and contract lines answer "in use", race-free.
        raise Conflict(f"Service {service.code} is in use; retire it instead of deleting it.") from None
    audit.record_delete(session, actor=actor, action="catalog_service.delete", row=service)
    session.flush()
