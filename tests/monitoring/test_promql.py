import pytest

from monitoring.promql import quote, selector


def test_label_values_are_data_never_promql() -> None:
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    hostile = 'x"} or vector(1) or up{a="'
    built = selector("probe_success", {"instance": hostile, "job": "blackbox"})
    assert built == 'probe_success{instance="x\\"} or vector(1) or up{a=\\"",job="blackbox"}'


def test_label_and_metric_names_are_checked() -> None:
    with pytest.raises(ValueError, match="label name"):
        selector("probe_success", {"in-stance": "x"})
    with pytest.raises(ValueError, match="metric name"):
        selector("probe success", {"instance": "x"})
