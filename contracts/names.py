"""The names the contracts domain gives its ids, for answers anywhere (``opscenter.names``): a catalog service's
name, a service instance's label (its name) and service name, a contract's number.

Declared by table name, read on first use: the purchasing, agreements and instances packages all show names of
each other's tables, and none may import another's models for it (that would be a circle)."""

from typing import Any

from sqlmodel import SQLModel

from opscenter.names import NameSource

SERVICES = NameSource.of_table("catalog service", "catalog_service", name="name")
CONTRACTS = NameSource.of_table("contract", "contract", number="number")


def _instance_parts() -> tuple[Any, dict[str, Any], tuple[tuple[Any, Any], ...]]:
    instance, service = SQLModel.metadata.tables["service_instance"], SQLModel.metadata.tables["catalog_service"]
    columns = {"name": instance.c.name, "service": service.c.name}
    return instance.c.id, columns, ((service, service.c.id == instance.c.service_id),)


INSTANCES = NameSource("service instance", _instance_parts)
