"""The asset register for people with Excel, as CSV or XLSX with Chinese headers. Uploading an export into a
handover batch reads it back (see columns.py); a batch's inventory is exported by ``handover/exports.py``."""

import uuid
from collections.abc import Sequence
from typing import Any

from litestar.response import Stream
from sqlmodel import Session, col, select

from operations.assets.register import columns
from operations.assets.register import service as register
from operations.assets.register.models import Asset
from opscenter.exports import ExportFormat, Sheet, export, paged
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization
from opscenter.timekeeping import today
from opscenter.web import EXPORT_BATCH, ExportSource

COLUMNS = columns.sheet_columns(columns.REGISTER)


def register_file(
    source: ExportSource, *, actor: Actor, filters: register.AssetFilter, file_format: ExportFormat
) -> Stream:
    """The register as the actor may see it (filtered as the list is), oldest asset first."""

    def read(session: Session, after: uuid.UUID | None) -> tuple[list[list[Any]], uuid.UUID | None]:
        assets = register.assets_after(session, after, actor=actor, filters=filters, limit=EXPORT_BATCH)
        rows = _register_rows(session, assets, actor=actor)
        return rows, assets[-1].id if len(assets) == EXPORT_BATCH else None

    sheet = Sheet(f"assets-{today().isoformat()}", "资产台账", COLUMNS)
    return export(sheet, paged(source.transactions, read), file_format)


def _register_rows(session: Session, assets: list[Asset], *, actor: Actor) -> list[list[Any]]:
    names = organization_names(
        session,
        {asset.owner_department_id for asset in assets}
        | {asset.operator_organization_id for asset in assets if asset.operator_organization_id},
    )
    return [
        [
            str(asset.id),
            *columns.description_cells(asset, asset.original_value),
            asset.state.label,
            names.get(asset.owner_department_id, ""),
            names.get(asset.operator_organization_id, "") if asset.operator_organization_id else "",
            asset.transferred_on,
            ";".join(str(instance_id) for instance_id in asset.service_instance_ids),
        ]
        for asset in register.to_public(session, assets, actor=actor)
    ]


def organization_names(session: Session, ids: Sequence[uuid.UUID] | set[uuid.UUID]) -> dict[uuid.UUID, str]:
    query = select(Organization.id, Organization.name).where(col(Organization.id).in_(list(ids)))
    return dict(session.exec(query).all())
