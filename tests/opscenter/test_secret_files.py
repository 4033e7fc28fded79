"""A secret setting can be read from a file, OPSCENTER_<NAME>_FILE, so it is in no environment or shell history."""

from pathlib import Path

import pytest

from opscenter.settings import Settings


def test_secret_settings_are_read_from_their_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "db").write_text("sqlite:////srv/opscenter/opscenter.db\n")
    (tmp_path / "token").write_text("a-metrics-token-from-a-file")
    monkeypatch.setenv("OPSCENTER_DATABASE_URL_FILE", str(tmp_path / "db"))
    monkeypatch.setenv("OPSCENTER_METRICS_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.delenv("OPSCENTER_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPSCENTER_METRICS_TOKEN", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:////srv/opscenter/opscenter.db"
    assert settings.metrics_token is not None
    assert settings.metrics_token.get_secret_value() == "a-metrics-token-from-a-file"


def test_a_secret_set_twice_is_refused_naming_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "password").write_text("s3cret-from-file")
    monkeypatch.setenv("OPSCENTER_PROMETHEUS_PASSWORD_FILE", str(tmp_path / "password"))
    monkeypatch.setenv("OPSCENTER_PROMETHEUS_PASSWORD", "s3cret-from-env")
    monkeypatch.setenv("OPSCENTER_PROMETHEUS_USERNAME", "opscenter")
    with pytest.raises(
        ValueError, match="OPSCENTER_PROMETHEUS_PASSWORD or OPSCENTER_PROMETHEUS_PASSWORD_FILE"
    ) as refused:
        Settings()
    assert "s3cret" not in str(refused.value)


def test_an_unreadable_secret_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSCENTER_REDIS_URL_FILE", "/nonexistent/redis-url")
    with pytest.raises(ValueError, match="OPSCENTER_REDIS_URL_FILE: cannot read /nonexistent/redis-url"):
        Settings()
