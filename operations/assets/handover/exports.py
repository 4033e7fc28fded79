"""A handover batch's inventory for people with Excel, as CSV or XLSX with Chinese headers: every item with its
inspection. Uploading it into a handover batch reads it back (the columns are the register's, see
``operations/assets/register/columns.py``)."""

from typing import Any

from litestar.response import Stream
from sqlmodel import Session

from operations.assets.handover.models import HandoverBatch
from operations.assets.handover.service import items_after
from operations.assets.register import columns
from opscenter.exports import ExportFormat, Sheet, export, paged
from opscenter.money import from_fen
from opscenter.web import EXPORT_BATCH, ExportSource

COLUMNS = columns.sheet_columns(columns.INVENTORY)


def inventory_file(source: ExportSource, batch: HandoverBatch, *, file_format: ExportFormat) -> Stream:
    """A batch's inventory with each item's inspection. Callers check first that the reader may see the batch."""
    batch_id = batch.id

    def read(session: Session, after: int | None) -> tuple[list[list[Any]], int | None]:
        items = items_after(session, batch_id, after or 0, limit=EXPORT_BATCH)
        rows = [
            [
                item.position,
                *columns.description_cells(item, from_fen(item.original_value_fen)),
                item.result.label,
                item.defect_note,
            ]
            for item in items
        ]
        return rows, items[-1].position if len(items) == EXPORT_BATCH else None

    return export(Sheet(f"handover-{batch.id}", "移交清单", COLUMNS), paged(source.transactions, read), file_format)
