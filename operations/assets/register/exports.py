"""The asset register for people with Excel, as CSV or XLSX with Chinese headers. Uploading an export into a
handover batch reads it back (see columns.py); a batch's inventory is exported by ``handover/exports.py``."""

import uuid
from collections.abc import Iterator

from sqlmodel import Session, col, select

from operations.assets.register import columns
from operations.assets.register import service as register
from operations.assets.register.models import Asset
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization
from opscenter.sheets import ExportFile, ExportFormat, spreadsheet
from opscenter.timekeeping import today


def register_file(
    session: Session, *, actor: Actor, filters: register.AssetFilter, file_format: ExportFormat
) -> ExportFile:
    """The register as the actor may see it (filtered as the list is), oldest asset first."""
    rows = _register_rows(session, actor=actor, filters=filters)
    return spreadsheet(
        f"assets-{today().isoformat()}", "资产台账", columns.headers(columns.REGISTER), rows, file_format
    )


def _register_rows(session: Session, *, actor: Actor, filters: register.AssetFilter) -> Iterator[list[str]]:
    for assets in register.iter_assets(session, actor=actor, filters=filters):
        names = _organization_names(session, assets)
        for asset in register.to_public(session, assets, actor=actor):
            yield [
                str(asset.id),
                *columns.description_cells(asset, asset.original_value),
                asset.state.label,
                names.get(asset.owner_department_id, ""),
                names.get(asset.operator_organization_id, "") if asset.operator_organization_id else "",
                asset.transferred_on.isoformat() if asset.transferred_on else "",
                ";".join(str(instance_id) for instance_id in asset.service_instance_ids),
            ]


def _organization_names(session: Session, assets: list[Asset]) -> dict[uuid.UUID, str]:
    ids = {asset.owner_department_id for asset in assets} | {
        asset.operator_organization_id for asset in assets if asset.operator_organization_id
    }
    query = select(Organization.id, Organization.name).where(col(Organization.id).in_(ids))
    return dict(session.exec(query).all())
