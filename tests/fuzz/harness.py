"""Run Schemathesis in-process, over HTTP, against the test server, as one role; collect what it finds.

The phases: the document's examples, fuzzing (random valid and invalid requests), the stateful phase (chains
of calls along the links Schemathesis infers between operations) and, in the nightly budget, coverage (the
edges of every schema, systematically: boundaries, wrong types, missing and unknown fields). Every check
runs; the few statuses this API gives on purpose beyond Schemathesis' defaults are named below, with reasons.
"""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import hypothesis.strategies as st
import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder

from opscenter.schemas import INT_MAX, INT_MIN
from opscenter.timekeeping import Period, today
from opscenter.web import CURSOR_MAX_LENGTH
from tests.fuzz.seeds import Known
from tests.support import METRICS_TOKEN

# Valid input the server may still refuse: a rule the schema cannot state (an end before its start, a
# reference to a missing object: 422), the state of things (409), a stale If-Match (412), four eyes (403).
POSITIVE_STATUSES = ["2xx", "403", "404", "409", "412", "422"]
# If-Match is a required header; without it a workflow action answers 428 Precondition Required (RFC 6585).
MISSING_HEADER_STATUSES = ["400", "401", "403", "406", "415", "422", "428"]


@dataclass(frozen=True)
class Budget:
    """How hard to fuzz: examples per operation and phase, steps per stateful scenario, and the coverage
    phase (every schema's boundaries and violations, systematically: thorough, and ten times the requests)."""

    examples: int
    stateful_steps: int
    seed: int | None  # fixed in the test command, so a failure reproduces; None for a nightly run
    coverage: bool


# The test command's budget: 3 examples per operation and phase in each run, under a seed of each database's own, so
# the two runs try different inputs (5 examples under one seed in both runs cost 40 s more and tried the same ones).
DAILY = Budget(examples=3, stateful_steps=6, seed=1, coverage=False)
DAILY_SEEDS = {"sqlite": 1, "postgresql": 2}
NIGHTLY = Budget(examples=100, stateful_steps=20, seed=None, coverage=True)


@dataclass(frozen=True)
class Finding:
    operation: str
    check: str
    message: str
    reproduce: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.check}: {self.message}\n    {self.reproduce}"


def configuration(base_url: str, key: str, budget: Budget) -> schemathesis.Config:
    data: dict[str, Any] = {
        "base-url": base_url,
        "headers": {"Authorization": f"Bearer {key}"},
        "workers": 1,
        "request-timeout": 30,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
        "generation": {"mode": "all", "max-examples": budget.examples},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": budget.coverage},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": budget.stateful_steps},
        },
        "checks": {
            "enabled": True,
            "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
            "missing_required_header": {"expected-statuses": MISSING_HEADER_STATUSES},
        },
        # /metrics takes no API key: any credential but the metrics token is a 401 there. Prometheus's token.
        "operations": [{"include-path": "/metrics", "headers": {"Authorization": f"Bearer {METRICS_TOKEN}"}}],
    }
    if budget.seed is not None:
        data["seed"] = budget.seed
    return schemathesis.Config.from_dict(data)


def fuzz(
    *, document_url: str, base_url: str, key: str, operations: set[tuple[str, str]], known: Known, budget: Budget
) -> tuple[list[Finding], int]:
    """Fuzz ``operations`` (METHOD, path) as the holder of ``key``; the findings and the number of requests."""
    loaded = schemathesis.openapi.from_url(document_url, config=configuration(base_url, key, budget))
    schema = loaded.include(lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in operations)

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        """Mostly an id of a real object of the seeded world, sometimes the made-up one (which must 404).

        Only a value of the right shape is swapped: a schema-violating one belongs to a negative case,
        which must stay negative.
        """
        choices = {
            name: st.sampled_from([*known[name], value]) if _swappable(value, known.get(name)) else st.just(value)
            for name, value in (path_parameters or {}).items()
        }
        return st.fixed_dictionaries(choices)

    @schema.hook
    def map_query(context: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
        """A cursor is the server's own token: only one it issued is valid, as only a real id finds an object. A
        made-up cursor of the right shape is left out (the pagination tests refuse forged ones); one that breaks
        the schema stays, so that a negative case stays negative."""
        if query and _schema_valid_cursor(query.get("cursor")):
            query = {name: value for name, value in query.items() if name != "cursor"}
        return _bounded_range(query)

    findings: list[Finding] = []
    requests = 0
    by_phase: dict[str, int] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            requests += len(event.recorder.interactions)
            phase = str(getattr(event, "phase", "fuzz"))
            by_phase[phase] = by_phase.get(phase, 0) + len(event.recorder.interactions)
            findings.extend(_failures(event.recorder))
        elif isinstance(event, events.NonFatalError):
            findings.append(Finding(event.label, "error", f"{type(event.value).__name__}: {event.value}", ""))
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            findings.extend(Finding("run", f.title, f.message, "") for f in event.failures)
    print("requests by phase:", by_phase)  # noqa: T201
    return _unique(findings), requests


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)


def _bounded_range(query: dict[str, Any] | None) -> dict[str, Any] | None:
    """A ``from``…``to`` pair of dates is bounded by a rule across the two that no schema states (in order, at
    most a year: the calendar answers 400 naming ``to`` otherwise). Two schema-valid dates that break it become
    a one-day range; anything schema-invalid is left as it is, so that a negative case stays negative."""
    if not query:
        return query
    start, end = query.get("from"), query.get("to")
    if start is None and isinstance(end, str) and _ISO_DATE.fullmatch(end):
        # `to` alone: `from` is the first day of this month (Asia/Shanghai), and the same rule holds; out of it,
        # the range becomes the one day `to`.
        implied = Period.of(today()).first_day.isoformat()
        return query if _in_range(implied, end) else {**query, "from": end}
    if not (
        isinstance(start, str) and isinstance(end, str) and _ISO_DATE.fullmatch(start) and _ISO_DATE.fullmatch(end)
    ):
        return query
    try:
        span = (date.fromisoformat(end) - date.fromisoformat(start)).days
    except ValueError:
        return query
    return query if 0 <= span < 366 else {**query, "to": start}


def _in_range(start: str, end: str) -> bool:
    try:
        return 0 <= (date.fromisoformat(end) - date.fromisoformat(start)).days < 366
    except ValueError:
        return True  # not a real date: the server's refusal of it is the case under test


def _schema_valid_cursor(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= CURSOR_MAX_LENGTH


def _swappable(value: Any, known: list[str] | None) -> bool:
    if not known:
        return False
    if known[0].isdigit():
        return type(value) is int and INT_MIN <= value <= INT_MAX
    if _ISO_DATE.fullmatch(known[0]):  # objects keyed by a date (calendar overrides)
        return isinstance(value, str) and _ISO_DATE.fullmatch(value) is not None
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _failures(recorder: ScenarioRecorder) -> Iterable[Finding]:
    for checks in recorder.checks.values():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            yield Finding(
                recorder.label, check.name, f"{failure.title}: {failure.message}", check.failure_info.code_sample
            )


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:
        seen.setdefault((finding.operation, finding.check, finding.message[:200]), finding)
    return list(seen.values())
