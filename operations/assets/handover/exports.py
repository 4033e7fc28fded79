"""A handover batch's inventory for people with Excel, as CSV or XLSX with Chinese headers: every item with its
inspection. Uploading it into a handover batch reads it back (the columns are the register's, see
``operations/assets/register/columns.py``)."""

from sqlmodel import Session

from operations.assets.handover.models import HandoverBatch
from operations.assets.handover.service import iter_items
from operations.assets.register import columns
from opscenter.money import from_fen
from opscenter.sheets import ExportFile, ExportFormat, spreadsheet


def inventory_file(session: Session, batch: HandoverBatch, *, file_format: ExportFormat) -> ExportFile:
    """A batch's inventory with each item's inspection. Callers check first that the reader may see the batch."""
    rows = (
        [
            str(item.position),
            *columns.description_cells(item, from_fen(item.original_value_fen)),
            item.result.label,
            item.defect_note,
        ]
        for items in iter_items(session, batch)
        for item in items
    )
    return spreadsheet(f"handover-{batch.id}", "移交清单", columns.headers(columns.INVENTORY), rows, file_format)
