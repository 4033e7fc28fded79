"""The metric names a PromQL expression reads, and the names a ``/metrics`` exposition offers."""

import re

from prometheus_client.parser import text_string_to_metric_families

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_SELECTORS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPINGS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_WORDS = re.compile(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}
    | {"inf", "nan", "Inf", "NaN"}
)
# Series that Prometheus writes itself for every target, not read from /metrics.
PROMETHEUS_SERIES = frozenset({"up"})

# The samples each family type exposes besides its name.
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "info": ("_info",),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
}


def metric_names(expr: str) -> set[str]:
    """Every metric name in ``expr``: its words that are not functions, keywords, labels or grouping clauses."""
    text = _STRINGS.sub('""', expr)
    text = _SELECTORS.sub("", text)
    text = _RANGES.sub("", text)
    text = _GROUPINGS.sub("", text)
    return {word for word, call in _WORDS.findall(text) if not call and word not in _KEYWORDS}


def exposed_names(exposition: str) -> set[str]:
    """The names a query may use against this exposition: each family's name and its samples' names, also for
    labelled families that have no sample yet (their HELP and TYPE lines are there all the same)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names
