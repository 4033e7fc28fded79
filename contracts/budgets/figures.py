"""Budgets on /metrics (``monitoring.figures``): this fiscal year's budget of each department and what approved
purchase requests commit of it, for the bureau's dashboard (spend against budget)."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlmodel import Session, col, func, select

from contracts.budgets.models import Budget, BudgetCommitment
from opscenter.identity.models import Organization
from opscenter.money import from_fen
from opscenter.timekeeping import today


def figures(session: Session | None) -> Iterable[Metric]:
    amount = GaugeMetricFamily(
        "opscenter_budget_yuan", "This fiscal year's budget of each department, yuan", labels=["department"]
    )
    committed = GaugeMetricFamily(
        "opscenter_budget_committed_yuan",
        "What approved purchase requests commit of this fiscal year's budget of each department, yuan",
        labels=["department"],
    )
    if session is not None:
        spent = (
            select(BudgetCommitment.budget_id, func.sum(BudgetCommitment.amount_fen).label("fen"))
            .group_by(col(BudgetCommitment.budget_id))
            .subquery()
        )
        rows = session.exec(
            select(Organization.name, Budget.amount_fen, func.coalesce(spent.c.fen, 0))
            .join(Organization, col(Organization.id) == Budget.department_id)
            .outerjoin(spent, spent.c.budget_id == Budget.id)
            .where(Budget.fiscal_year == today().year)
        ).all()
        for department, amount_fen, committed_fen in rows:
            # Prometheus samples are floats: fine for a chart, never for a bill.
            amount.add_metric([department], float(from_fen(amount_fen)))
            committed.add_metric([department], float(from_fen(int(committed_fen))))
    return [amount, committed]
