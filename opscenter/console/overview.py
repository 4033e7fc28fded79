"""The overview (一屏观天下): the province at a glance, from the very figures /metrics gives the dashboards (each
package's ``figures.py``), so a chart in the console and a panel in Grafana never disagree. Each chart's data goes
to the page as JSON (a ``<script type="application/json">``, not code), drawn by a static script: a strict CSP
holds. The same figures are in a table beside each chart."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import Metric
from sqlmodel import Session

from billing.statements import figures as billing_figures
from contracts.budgets import figures as budget_figures
from contracts.terms import Priority
from operations.tickets import figures as ticket_figures
from operations.tickets.models import TicketStatus
from opscenter.identity.actor import Actor
from opscenter.identity.models import Role
from opscenter.pages import yuan_amount
from sla.measurements import figures as sla_figures
from sla.ratings import figures as rating_figures


@dataclass
class Chart:
    """One chart: its title, categories (x axis), named series of numbers, and the table of the same figures."""

    key: str
    title: str
    kind: str  # "bar" or "stacked"
    unit: str
    categories: list[str] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    shown: Callable[[float], str] = lambda value: f"{value:g}"

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "kind": self.kind,
            "unit": self.unit,
            "categories": self.categories,
            "series": [{"name": name, "data": data} for name, data in self.series.items()],
        }

    def rows(self) -> list[tuple[str, list[str]]]:
        return [
            (category, [self.shown(values[index]) for values in self.series.values()])
            for index, category in enumerate(self.categories)
        ]


def _samples(metrics: Iterable[Metric], name: str) -> list[tuple[dict[str, str], float]]:
    return [(sample.labels, sample.value) for metric in metrics if metric.name == name for sample in metric.samples]


def overview(session: Session, actor: Actor) -> list[Chart]:
    """The charts ``actor`` may see: budgets only for those who may read departments' spending (not the operations
    center, 管运分离)."""
    sla = list(sla_figures.figures(session))
    availability = Chart("availability", "本月各服务可用率", "bar", "%", shown=lambda value: f"{value:.3f}%")
    this_month = [
        (labels, value)
        for labels, value in _samples(sla, "opscenter_sla_availability_ratio")
        if labels["month"] == "this"
    ]
    availability.categories = [labels["service_name"] for labels, _ in this_month]
    availability.series["可用率"] = [round(value * 100, 3) for _, value in this_month]

    tickets = list(ticket_figures.figures(session))
    open_by_priority = Chart(
        "open_tickets", "未关闭工单（按优先级与状态）", "stacked", "张", shown=lambda v: f"{v:.0f}"
    )
    open_by_priority.categories = [f"{priority.value} {priority.label}" for priority in Priority]
    counts = {
        (labels["priority"], labels["state"]): value for labels, value in _samples(tickets, "opscenter_tickets_open")
    }
    for status in TicketStatus:
        if status is not TicketStatus.CLOSED:
            open_by_priority.series[status.label] = [counts.get((p.value, status.value), 0.0) for p in Priority]
    open_by_age = Chart("open_age", "未关闭工单（按优先级与已开时长）", "stacked", "张", shown=lambda v: f"{v:.0f}")
    open_by_age.categories = open_by_priority.categories
    ages = {
        (labels["priority"], labels["age"]): value for labels, value in _samples(tickets, "opscenter_tickets_open_age")
    }
    for age in ticket_figures.AGE_BUCKETS:
        open_by_age.series[age.label] = [ages.get((p.value, age.value), 0.0) for p in Priority]
    overdue = {
        (labels["priority"], labels["target"]): value
        for labels, value in _samples(tickets, "opscenter_tickets_overdue")
    }
    late = Chart("overdue", "已超时未完成的工单", "stacked", "张", shown=lambda v: f"{v:.0f}")
    late.categories = open_by_priority.categories
    for target, label in (("response", "响应超时"), ("resolution", "解决超时")):
        late.series[label] = [overdue.get((p.value, target), 0.0) for p in Priority]
    breaches = Chart("breaches", "SLA 违约次数", "bar", "次", shown=lambda v: f"{v:.0f}")
    breach_counts = {
        (labels["kind"], labels["month"]): value for labels, value in _samples(tickets, "opscenter_ticket_breaches")
    }
    breaches.categories = ["响应", "解决"]
    breaches.series["上月"] = [breach_counts.get((kind, "last"), 0.0) for kind in ("response", "resolution")]
    breaches.series["本月"] = [breach_counts.get((kind, "this"), 0.0) for kind in ("response", "resolution")]

    rated = _samples(list(rating_figures.figures(session)), "opscenter_rating_score_mean")
    scores = Chart("ratings", "上月各服务满意度评分", "bar", "分", shown=lambda v: f"{v:.1f}")
    scores.categories = [labels["service_name"] for labels, _ in rated]
    scores.series["平均分"] = [round(value, 1) for _, value in rated]

    charts = [availability, breaches, open_by_priority, open_by_age, late, scores]
    if actor.role in (Role.BUREAU, Role.AUDITOR):
        budgets = list(budget_figures.figures(session))
        spend = Chart("spend", "本年度预算与已承诺支出", "bar", "元", shown=lambda v: yuan_amount(f"{v:.2f}"))
        amounts = {labels["department"]: value for labels, value in _samples(budgets, "opscenter_budget_yuan")}
        committed = {
            labels["department"]: value for labels, value in _samples(budgets, "opscenter_budget_committed_yuan")
        }
        spend.categories = sorted(amounts)
        spend.series["预算"] = [amounts[name] for name in spend.categories]
        spend.series["已承诺"] = [committed.get(name, 0.0) for name in spend.categories]
        billed = _samples(list(billing_figures.figures(session)), "opscenter_billing_amount_yuan")
        periods = sorted({labels["period"] for labels, _ in billed})[-6:]
        bills = Chart("billing", "各月结算金额", "bar", "元", shown=lambda v: yuan_amount(f"{v:.2f}"))
        bills.categories = periods
        by = {(labels["period"], labels["kind"]): value for labels, value in billed}
        for kind, label in (("base", "基数"), ("deduction", "扣减"), ("amount", "结算金额")):
            bills.series[label] = [by.get((period, kind), 0.0) for period in periods]
        charts += [spend, bills]
    return charts
