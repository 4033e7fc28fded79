"""The recording and alert rules in monitoring/rules/ load in Prometheus and their alerts fire when they should."""

import subprocess
from pathlib import Path

from tests.prometheus import binaries

RULES = Path(__file__).resolve().parents[2] / "monitoring" / "rules"


def test_promtool_accepts_every_rules_file() -> None:
    _, promtool = binaries()
    files = sorted(str(path) for path in RULES.glob("*.yml"))
    assert files
    checked = subprocess.run([promtool, "check", "rules", *files], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_stale_and_failing_pull_alerts_fire_as_their_unit_tests_say() -> None:
    _, promtool = binaries()
    tests = sorted(str(path.name) for path in (RULES / "tests").glob("*_test.yml"))
    assert tests
    ran = subprocess.run(
        [promtool, "test", "rules", *tests], cwd=RULES / "tests", capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
