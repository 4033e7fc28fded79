"""The command line, run as an operator would run it: a real subprocess against the test database."""

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import click

from opscenter.settings import Settings
from tests import loopback
from tests.support import RunningServer, postgres_database


def opscenter(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPSCENTER_DATABASE_URL": settings.database_url, "OPSCENTER_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "opscenter.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_bootstrap_creates_the_first_admin_and_prints_its_key_once(settings: Settings, server: RunningServer) -> None:
    created = opscenter(
        settings,
        "users",
        "create",
        "--org",
        "政务服务数据管理局",
        "--org-kind",
        "bureau",
        "--name",
        "root.admin",
        "--role",
        "admin",
        "--display-name",
        "管理员",
    )
    assert created.returncode == 0, created.stderr
    again = opscenter(
        settings,
        "users",
        "create",
        "--org",
        "政务服务数据管理局",
        "--org-kind",
        "bureau",
        "--name",
        "root.admin",
        "--role",
        "admin",
    )
    assert again.returncode == 0, "running the bootstrap twice must be harmless"
    assert "already exists" in again.stderr

    issued = opscenter(settings, "keys", "create", "--user", "root.admin")
    assert issued.returncode == 0, issued.stderr
    lines = issued.stdout.splitlines()
    assert len(lines) == 1, "the key, alone on its own line"
    assert lines[0].startswith("opc_")
    me = loopback.get(f"{server.base_url}/api/v1/me", headers={"Authorization": f"Bearer {lines[0]}"})
    assert me.status_code == 200
    assert me.json()["user"]["role"] == "admin"
    assert me.json()["organization"]["kind"] == "bureau"


def test_bootstrap_refuses_a_role_that_does_not_fit_the_organization(settings: Settings, db: object) -> None:
    result = opscenter(
        settings,
        "users",
        "create",
        "--org",
        "数字政府运营中心",
        "--org-kind",
        "operator",
        "--name",
        "wrong.admin",
        "--role",
        "admin",
    )
    assert result.returncode != 0
    assert "role" in result.stderr
    assert "operator" in result.stderr


def test_keys_create_for_an_unknown_user_fails_cleanly(settings: Settings, db: object) -> None:
    result = opscenter(settings, "keys", "create", "--user", "nobody")
    assert result.returncode != 0
    assert "no user named 'nobody'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_explains_itself(tmp_path: Path) -> None:
    """The entry point as an operator runs it, then every command's help through click's runner in this process (a
    process each would only start the same code again)."""
    from click.testing import CliRunner

    from opscenter.cli import main

    result = opscenter(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"), "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout
    groups = [name for name, command in main.commands.items() if isinstance(command, click.Group)]
    assert {"db", "users", "keys", "audit"} <= set(groups)
    every = [[name] for name in main.commands] + [
        [group, name] for group in groups for name in cast(click.Group, main.commands[group]).commands
    ]
    for command in every:
        helped = CliRunner().invoke(main, [*command, "--help"])
        assert helped.exit_code == 0, (command, helped.output)
        assert "Usage:" in helped.output, command


def test_a_missing_database_is_named_in_one_line_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "opscenter.db"
    settings = Settings(database_url=f"sqlite:///{missing}")
    for command in (["audit", "verify"], ["keys", "create", "--user", "admin"]):
        result = opscenter(settings, *command)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "opscenter db upgrade" in lines[0]
        assert str(missing) in lines[0]
    assert not missing.exists(), "a read must not create the database"
    assert not missing.parent.exists()


def test_an_unmigrated_database_says_so_in_one_line_with_the_fix(backend: str, tmp_path: Path) -> None:
    with _empty_database(backend, tmp_path) as url:
        result = opscenter(Settings(database_url=url), "audit", "verify")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "not migrated" in lines[0]
    assert "run `opscenter db upgrade`" in lines[0]
    assert "OPSCENTER_DATABASE_URL=" in lines[0]


@contextmanager
def _empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "postgresql":
        with postgres_database("opscenter_unmigrated") as url:
            yield url
        return
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    yield f"sqlite:///{path}"
