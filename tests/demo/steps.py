"""Running the demo command as a newcomer does."""

import os
import subprocess
import sys

from opscenter.settings import Settings


def run_demo(
    settings: Settings, *args: str, succeed: bool = True, **env_overrides: str
) -> subprocess.CompletedProcess[str]:
    """``opscenter demo ARGS`` in a subprocess on ``settings``' database; by default it must succeed."""
    env = {
        **os.environ,
        "OPSCENTER_DATABASE_URL": settings.database_url,
        "OPSCENTER_LOG_LEVEL": "WARNING",
        **env_overrides,
    }
    result = subprocess.run(
        [sys.executable, "-m", "opscenter.cli", "demo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if succeed:
        assert result.returncode == 0, result.stderr
    return result
