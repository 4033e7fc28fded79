"""The logs: one line per request naming its route, status, duration, request id and actor, never a credential;
every error line and every 500 carries the request id; text by default, JSON on a setting; libraries quiet unless
asked; CLI progress a bar on a terminal and whole lines when piped."""

import io
import json
import logging
import os
import subprocess
import sys
import time

import pytest

from opscenter.logs import REQUEST_ID, JsonFormatter, TextFormatter, configure_logging, log_request
from opscenter.organizations import service as organizations
from opscenter.progress import Progress
from opscenter.settings import LogFormat, Settings
from tests import loopback
from tests.conftest import ApiFactory, make_settings
from tests.factories import World


def _request_lines(caplog: pytest.LogCaptureFixture, request_id: str) -> list[logging.LogRecord]:
    """The request's lines: written once the answer is sent, so a moment after the client has it."""
    deadline = time.monotonic() + 5
    while True:
        lines = [
            record
            for record in caplog.records
            if record.name == "opscenter.requests" and getattr(record, "request_id", None) == request_id
        ]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


def test_a_request_is_one_line_with_its_route_status_duration_request_id_and_actor(
    world: World, api: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="opscenter.requests")
    admin = api.as_(world.admin)
    response = admin.get(f"/api/v1/organizations/{world.department.organization_id}", headers={"Cookie": "s=biscuit"})
    assert response.status_code == 200
    (line,) = _request_lines(caplog, response.headers["x-request-id"])
    fields = line.request  # type: ignore[attr-defined]
    assert fields["method"] == "GET"
    assert fields["route"] == "/api/v1/organizations/{organization_id}", "the template, not the id"
    assert fields["status"] == 200
    assert fields["duration_ms"] >= 0
    assert fields["actor_id"] == str(world.admin.user_id)
    text = TextFormatter().format(line)
    assert "GET /api/v1/organizations/{organization_id} 200" in text
    assert f"[request {response.headers['x-request-id']}]" in text
    assert world.admin.key not in text + json.dumps(fields), "never the key"
    assert "biscuit" not in text + json.dumps(fields), "never a cookie"


def test_an_unauthenticated_request_is_logged_with_its_status_and_no_actor(
    api: ApiFactory, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="opscenter.requests")
    response = loopback.get(f"{api.base_url}/api/v1/me", headers={"Authorization": "Bearer opc_not-a-real-key-at-all"})
    assert response.status_code == 401
    (line,) = _request_lines(caplog, response.headers["x-request-id"])
    assert line.request["status"] == 401  # type: ignore[attr-defined]
    assert line.request["actor_id"] is None  # type: ignore[attr-defined]
    assert "opc_not-a-real-key" not in line.getMessage()


def test_a_500_logs_its_traceback_with_the_request_id_its_problem_body_carries(
    world: World, api: ApiFactory, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(organizations, "list_organizations", explode)
    caplog.set_level(logging.INFO)
    response = api.as_(world.admin).get("/api/v1/organizations")
    assert response.status_code == 500
    request_id = response.json()["request_id"]
    assert request_id == response.headers["x-request-id"]
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors
    assert {getattr(record, "request_id", None) for record in errors} == {request_id}
    (error,) = errors
    assert f"[request {request_id}]" in TextFormatter().format(error)
    logged = json.loads(JsonFormatter().format(error))
    assert logged["request_id"] == request_id
    assert logged["level"] == "ERROR"
    assert "RuntimeError: boom" in logged["exception"]
    (line,) = _request_lines(caplog, request_id)
    assert line.request["status"] == 500  # type: ignore[attr-defined]


def test_a_json_request_line_is_one_object_with_every_field(
    world: World, api: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="opscenter.requests")
    response = api.as_(world.admin).get("/api/v1/me")
    (line,) = _request_lines(caplog, response.headers["x-request-id"])
    logged = json.loads(JsonFormatter().format(line))
    assert logged["logger"] == "opscenter.requests"
    assert logged["level"] == "INFO"
    assert logged["request_id"] == response.headers["x-request-id"]
    assert {"method", "route", "status", "duration_ms", "actor_id", "time", "message"} <= set(logged)
    assert logged["route"] == "/api/v1/me"


def test_a_request_line_is_the_record_logger_info_would_make(
    settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(settings)  # the house record factory, whose records the quick way copies
    caplog.set_level(logging.INFO, logger="opscenter.requests")
    REQUEST_ID.set("r-1")
    log_request("GET", "/api/v1/me", 200, 1.25, None)
    logging.getLogger("opscenter.requests").info("usual")
    quick, usual = caplog.records[-2:]
    assert set(vars(quick)) - {"request"} == set(vars(usual)), "every attribute a formatter may name"
    assert (quick.process, quick.thread, quick.request_id) == (usual.process, usual.thread, "r-1")  # type: ignore[attr-defined]
    assert 0 <= usual.created - quick.created < 5
    assert quick.getMessage() == "GET /api/v1/me 200 1.2 ms actor -"
    assert json.loads(JsonFormatter().format(quick))["time"].startswith(time.strftime("%Y-%m-%d", time.gmtime()))

    def traced(*args: object, **kwargs: object) -> logging.LogRecord:
        record = logging.LogRecord(*args, **kwargs)  # type: ignore[arg-type]
        record.trace_id = "t-1"
        return record

    monkeypatch.setattr(logging, "_logRecordFactory", traced)
    log_request("GET", "/api/v1/me", 200, 1.25, None)
    assert caplog.records[-1].trace_id == "t-1", "another record factory's fields are kept"  # type: ignore[attr-defined]


def test_httpx_does_not_log_each_request_unless_asked(
    settings: Settings, api: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    try:
        configure_logging(settings)
        loopback.get(f"{api.base_url}/health")
        assert [record for record in caplog.records if record.name.startswith("httpx")] == []
        configure_logging(make_settings(settings.database_url, log_libraries="INFO"))
        loopback.get(f"{api.base_url}/health")
        assert [record.name for record in caplog.records if record.name.startswith("httpx")] == ["httpx"]
    finally:
        configure_logging(settings)


def _cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "OPSCENTER_DATABASE_URL": settings.database_url,
        "OPSCENTER_LOG_LEVEL": "INFO",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "opscenter.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_cli_command_keeps_alembic_quiet_unless_verbose_and_logs_json_on_the_setting(settings: Settings) -> None:
    quiet = _cli(settings, "db", "upgrade")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.splitlines() == ["database at head"], "no Alembic INFO lines"
    verbose = _cli(settings, "--verbose", "db", "upgrade", OPSCENTER_LOG_FORMAT=LogFormat.JSON.value)
    assert verbose.returncode == 0, verbose.stderr
    said, *logged = verbose.stderr.splitlines()[::-1]
    assert said == "database at head", "what the command says to a person stays a sentence"
    lines = [json.loads(line) for line in logged]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert "alembic.runtime.migration" in {line["logger"] for line in lines}, "verbose, Alembic says what it does"


def test_progress_is_a_bar_on_a_terminal_and_whole_lines_when_piped() -> None:
    piped, terminal = io.StringIO(), io.StringIO()
    bar, lines = Progress(terminal, terminal=True), Progress(piped, terminal=False)
    for done in range(0, 201):
        bar.report("lines", done, 200)
        lines.report("lines", done, 200)
    assert "\r" not in piped.getvalue()
    assert piped.getvalue().splitlines() == [f"lines: {n * 20}/200 ({n * 10}%)" for n in range(11)]
    assert terminal.getvalue().count("\r") == 101, "redrawn in place, once a percent"
    assert terminal.getvalue().endswith("lines: " + "█" * 30 + " 200/200 (100%)\n")
