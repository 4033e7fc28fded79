"""What a contract version may say: lines inside the contract period, real services and departments,
terms that are valid, and a ceiling that covers the lines. Every refusal names its field."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from contracts.agreements.models import ContractLine, ContractLineIn, ContractVersion
from contracts.catalog import service as catalog
from contracts.catalog.models import CatalogService
from contracts.pricing import total_cost
from contracts.terms import ContractTerms
from opscenter.errors import InvalidInput
from opscenter.identity.models import Organization, OrgKind
from opscenter.money import format_amount, to_fen


@dataclass(frozen=True)
class DateSpan:
    """A contract's span of dates, both ends included (not a billing ``clock.Period``, which is a month)."""

    start: date
    end: date

    def __str__(self) -> str:
        return f"{self.start.isoformat()}…{self.end.isoformat()}"


def build_lines(
    session: Session,
    lines_in: list[ContractLineIn],
    *,
    version_id: uuid.UUID,
    period: DateSpan,
    previous: list[ContractLine] | None = None,
) -> list[ContractLine]:
    """The lines of a version, numbered; ``previous`` are the lines an amendment continues."""
    if period.end < period.start:
        raise InvalidInput("end_date", f"is before the contract's start {period.start.isoformat()}")
    continuing = {line.line_no: line for line in previous or []}
    next_no = max(continuing, default=0) + 1
    seen: set[int] = set()
    lines = []
    for index, line_in in enumerate(lines_in):
        field = f"lines.{index}"
        if line_in.start_date < period.start:
            raise InvalidInput(f"{field}.start_date", f"must be within the contract period {period}")
        if line_in.end_date > period.end:
            raise InvalidInput(f"{field}.end_date", f"must be within the contract period {period}")
        line_no = line_in.line_no if previous is not None and line_in.line_no is not None else None
        if line_no is not None:
            before = continuing.get(line_no)
            if before is None:
                raise InvalidInput(f"{field}.line_no", f"the contract has no line {line_no} to continue")
            if (before.service_id, before.department_id) != (line_in.service_id, line_in.department_id):
                raise InvalidInput(
                    f"{field}.line_no", "a continuing line keeps its service and department; add a new line instead"
                )
            if line_no in seen:
                raise InvalidInput(f"{field}.line_no", f"line {line_no} appears twice")
        else:
            catalog.get_orderable(session, line_in.service_id, field=f"{field}.service_id")
            line_no, next_no = next_no, next_no + 1
        seen.add(line_no)
        _require_department(session, line_in.department_id, field=f"{field}.department_id")
        lines.append(
            ContractLine(
                contract_version_id=version_id,
                line_no=line_no,
                service_id=line_in.service_id,
                department_id=line_in.department_id,
                quantity=line_in.quantity,
                unit_price_fen=to_fen(line_in.unit_price),
                start_date=line_in.start_date,
                end_date=line_in.end_date,
                purchase_item_id=line_in.purchase_item_id,
                total_value_fen=ContractLine.value_fen(
                    line_in.quantity, to_fen(line_in.unit_price), line_in.start_date, line_in.end_date
                ),
            )
        )
    return lines


def resolve_terms(session: Session, terms: ContractTerms | None, lines: list[ContractLine]) -> ContractTerms:
    """The contract's terms as given; omitted, the default terms its services agree on."""
    if terms is not None:
        return terms
    defaults = [session.get_one(CatalogService, service_id).terms for service_id in {line.service_id for line in lines}]
    if any(other != defaults[0] for other in defaults[1:]):
        raise InvalidInput("terms", "the lines' services have different default terms; state the contract's terms")
    return defaults[0] if defaults else ContractTerms()


def require_ceiling_covers(ceiling: Decimal, lines: list[ContractLine]) -> None:
    total = sum(
        (total_cost(line.quantity, line.unit_price, line.start_date, line.end_date) for line in lines), Decimal(0)
    )
    if ceiling < total:
        raise InvalidInput(
            "ceiling",
            f"the lines are worth {format_amount(total)}; a ceiling of {format_amount(ceiling)} does not cover them",
        )


def fill_version(
    version: ContractVersion, *, end_date: date, ceiling: Decimal, terms: ContractTerms, lines: list[ContractLine]
) -> None:
    version.end_date, version.ceiling_fen = end_date, to_fen(ceiling)
    version.terms = terms.as_json()
    version.lines = lines


def _require_department(session: Session, organization_id: uuid.UUID, *, field: str) -> None:
    organization = session.get(Organization, organization_id)
    if organization is None or organization.kind != OrgKind.DEPARTMENT:
        raise InvalidInput(field, "no such department")
