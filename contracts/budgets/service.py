"""Budgets per department and fiscal year; what approved purchase requests have committed of them."""

import uuid
from decimal import Decimal

from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.budgets.models import Budget, BudgetCommitment, BudgetCreate, BudgetPublic, BudgetUpdate
from opscenter.audit import service as audit
from opscenter.errors import Conflict, FieldError, InvalidInput
from opscenter.identity.actor import Actor
from opscenter.identity.models import Organization, OrgKind
from opscenter.money import format_amount, from_fen, to_fen
from opscenter.pagination import PageRequest, Slice, keyset
from opscenter.scoping import get_visible


def _scoped(query: SelectOfScalar[Budget], actor: Actor) -> SelectOfScalar[Budget]:
    """A department sees its own budgets; the bureau and auditors all."""
    return query.where(Budget.department_id == actor.required_organization_id) if actor.is_department else query


def create_budget(session: Session, data: BudgetCreate, *, actor: Actor) -> Budget:
    department = session.get(Organization, data.department_id)
    if department is None or department.kind != OrgKind.DEPARTMENT:
        raise InvalidInput("department_id", "no such department")
    if _find(session, data.department_id, data.fiscal_year) is not None:
        raise Conflict(
            f"{department.name} already has a budget for {data.fiscal_year}; change it instead.",
            errors=[FieldError("fiscal_year", "already set for this department")],
        )
    budget = Budget(department_id=data.department_id, fiscal_year=data.fiscal_year, amount_fen=to_fen(data.amount))
    session.add(budget)
    audit.record_create(session, actor=actor, action="budget.create", row=budget)
    session.flush()
    return budget


def get_budget(session: Session, budget_id: uuid.UUID, *, actor: Actor) -> Budget:
    return get_visible(session, Budget, budget_id, actor=actor, scope=_scoped, noun="budget")


def list_budgets(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    department_id: uuid.UUID | None = None,
    fiscal_year: int | None = None,
) -> Slice[Budget]:
    query = _scoped(select(Budget).order_by(col(Budget.fiscal_year).desc(), col(Budget.id)), actor)
    if department_id is not None:
        query = query.where(Budget.department_id == department_id)
    if fiscal_year is not None:
        query = query.where(Budget.fiscal_year == fiscal_year)
    return keyset(session, query, page)


def update_budget(
    session: Session, budget_id: uuid.UUID, data: BudgetUpdate, *, actor: Actor, expected_version: int
) -> Budget:
    budget = get_budget(session, budget_id, actor=actor)
    budget.require_version(expected_version)
    committed = committed_fen(session, budget.id)
    if to_fen(data.amount) < committed:
        raise InvalidInput(
            "amount", f"approved purchases already commit {format_amount(from_fen(committed))} of this budget"
        )
    with audit.change(session, actor=actor, action="budget.update", row=budget):
        budget.amount_fen = to_fen(data.amount)
    session.flush()
    return budget


def committed_fen(session: Session, budget_id: uuid.UUID) -> int:
    total = session.exec(
        select(func.coalesce(func.sum(BudgetCommitment.amount_fen), 0)).where(BudgetCommitment.budget_id == budget_id)
    ).one()
    return int(total)


def to_public(session: Session, budgets: list[Budget]) -> list[BudgetPublic]:
    """Budgets as the API shows them, with what is committed and what remains (one query for all)."""
    committed = dict(
        session.exec(
            select(BudgetCommitment.budget_id, func.sum(BudgetCommitment.amount_fen))
            .where(col(BudgetCommitment.budget_id).in_([budget.id for budget in budgets]))
            .group_by(col(BudgetCommitment.budget_id))
        ).all()
    )
    return [
        BudgetPublic.model_validate(
            budget,
            update={
                "amount": from_fen(budget.amount_fen),
                "committed": from_fen(int(committed.get(budget.id, 0))),
                "remaining": from_fen(max(budget.amount_fen - int(committed.get(budget.id, 0)), 0)),
            },
        )
        for budget in budgets
    ]


def to_public_one(session: Session, budget: Budget) -> BudgetPublic:
    return to_public(session, [budget])[0]


def reserve(
    session: Session, *, department: Organization, purchase_request_id: uuid.UUID, cost_by_year: dict[int, Decimal]
) -> list[BudgetCommitment]:
    """Reserve a purchase's estimated cost in each fiscal year it touches, or refuse naming the shortfall.

    The budget rows are locked first, so two approvals racing for the same budget are decided one
    after the other and can never overspend it together.
    """
    years = sorted(year for year, amount in cost_by_year.items() if amount > 0)  # free services need no budget
    budgets = {
        budget.fiscal_year: budget
        for budget in session.exec(
            select(Budget)
            .where(Budget.department_id == department.id, col(Budget.fiscal_year).in_(years))
            .with_for_update()
        ).all()
    }
    shortfalls = []
    for year in years:
        needed = to_fen(cost_by_year[year])
        budget = budgets.get(year)
        if budget is None:
            shortfalls.append(f"{department.name} has no budget for {year} (needs {format_amount(from_fen(needed))})")
            continue
        remaining = budget.amount_fen - committed_fen(session, budget.id)
        if needed > remaining:
            short = format_amount(from_fen(needed - remaining))
            shortfalls.append(
                f"{year}: needs {format_amount(from_fen(needed))}, {department.name} has "
                f"{format_amount(from_fen(remaining))} remaining (short by {short})"
            )
    if shortfalls:
        raise Conflict("The budget cannot cover this request. " + "; ".join(shortfalls) + ".")
    commitments = [
        BudgetCommitment(
            budget_id=budgets[year].id, purchase_request_id=purchase_request_id, amount_fen=to_fen(cost_by_year[year])
        )
        for year in years
    ]
    session.add_all(commitments)
    return commitments


def _find(session: Session, department_id: uuid.UUID, fiscal_year: int) -> Budget | None:
    return session.exec(
        select(Budget).where(Budget.department_id == department_id, Budget.fiscal_year == fiscal_year)
    ).first()


def budget_amounts(session: Session, *, fiscal_year: int, actor: Actor) -> dict[uuid.UUID, int]:
    """Each department's budget for ``fiscal_year`` in fen, as ``actor`` may see them (one query)."""
    query = _scoped(select(Budget).where(Budget.fiscal_year == fiscal_year), actor)
    return {budget.department_id: budget.amount_fen for budget in session.exec(query)}
