"""A statement as a spreadsheet (CSV, UTF-8 with BOM, or XLSX) with Chinese headers: one row per line the reader
may see, then a total row. Every figure is the API's, to the fen."""

from decimal import Decimal

from billing.statements.models import StatementDetail
from opscenter.money import format_amount
from opscenter.sheets import ExportFile, ExportFormat, spreadsheet

HEADER = [
    "行号", "受益部门ID", "服务实例ID", "数量", "单价", "计费天数", "当月天数", "基数", "SLA状态", "可用率(%)",
    "覆盖率(%)", "扣减比例(%)", "SLA扣减", "超时工单", "工单罚金", "评分", "评价数", "系数", "评价扣减", "扣减上限",
    "扣减合计", "应付金额", "标记", "申诉中",
]  # fmt: skip
TOTAL = "合计"


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _score(value: Decimal | None) -> str:
    """A line's score as the API answers it: two decimals."""
    return "" if value is None else f"{value:.2f}"


def statement_file(detail: StatementDetail, *, file_format: ExportFormat) -> ExportFile:
    rows: list[list[str]] = []
    for line in detail.lines:
        rows.append(
            [
                str(line.line_no), str(line.department_id), str(line.service_instance_id or ""), str(line.quantity),
                format_amount(line.unit_price), str(line.active_days), str(line.days_in_month),
                format_amount(line.base), line.sla_status.label, _text(line.availability), _text(line.coverage),
                _text(line.credit_pct), format_amount(line.sla_credit),
                ";".join(ticket.number for ticket in line.tickets), format_amount(line.penalties),
                _score(line.score), str(line.ratings), _text(line.coefficient), format_amount(line.rating_ded),
                format_amount(line.cap), format_amount(line.deduction), format_amount(line.amount),
                ";".join(flag.label for flag in line.flags), "是" if line.disputed else "",
            ]
        )  # fmt: skip
    blank = [""] * len(HEADER)
    total = list(blank)
    total[0], total[7], total[20], total[21] = (
        TOTAL, format_amount(detail.base), format_amount(detail.deduction), format_amount(detail.amount),
    )  # fmt: skip
    rows.append(total)
    name = f"statement-{detail.contract_number}-{detail.period}"
    return spreadsheet(name, f"结算单 {detail.period}", HEADER, rows, file_format)
