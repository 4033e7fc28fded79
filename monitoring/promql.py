"""Building PromQL from data. Label values come from users and are always escaped here; no user ever
writes PromQL. (The HTTP client that runs queries joins this module with the SLA issue.)"""

import re
from collections.abc import Mapping

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def quote(value: str) -> str:
    """A PromQL string literal holding exactly ``value``."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def selector(metric: str, matchers: Mapping[str, str]) -> str:
    """``metric{label="value",…}`` with equality matchers, labels sorted, values escaped."""
    if not METRIC_NAME.match(metric):
        raise ValueError(f"not a metric name: {metric!r}")
    for name in matchers:
        if not LABEL_NAME.match(name):
            raise ValueError(f"not a label name: {name!r}")
    inside = ",".join(f"{name}={quote(matchers[name])}" for name in sorted(matchers))
    return f"{metric}{{{inside}}}"
