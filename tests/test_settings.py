"""Settings: every variable documented in .env.example, bad values fail with one line naming them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import ConfigurationError, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def _documented() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", text, flags=re.M))


def test_every_setting_is_documented_in_env_example() -> None:
    aliases = {info.alias for info in Settings.model_fields.values()}
    assert aliases == set(_documented())


def test_every_documented_variable_has_a_comment_line() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]+=", line):
            assert lines[index - 1].startswith("#"), f"{line} has no comment above it"


def test_env_example_values_load() -> None:
    values = {k: v for k, v in _documented().items() if v}
    settings = load_settings(**values)
    assert settings.poll_interval_seconds == 300
    assert settings.alert_max_age_hours == 6


def test_defaults_match_the_brief() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///wirewatch.db"
    assert settings.poll_interval_seconds == 300
    assert settings.alert_max_age_hours == 6
    assert not settings.slack_enabled and not settings.discord_enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [("POLL_INTERVAL_SECONDS", "soon"), ("LOG_LEVEL", "LOUD"), ("DATABASE_URL", "mysql://db")],
)
def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"configuration error: {name}:")


def test_min_above_max_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLL_MIN_SECONDS", "900")
    monkeypatch.setenv("POLL_MAX_SECONDS", "60")
    with pytest.raises(ConfigurationError, match="POLL_MIN_SECONDS"):
        load_settings()


def test_secrets_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-very-secret")
    shown = repr(load_settings())
    assert "xoxb-very-secret" not in shown and "signing-very-secret" not in shown


def test_cli_bad_config_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "db", "upgrade"],
        env={"PATH": "/usr/bin:/bin", "POLL_INTERVAL_SECONDS": "often"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: POLL_INTERVAL_SECONDS: "
        "Input should be a valid integer, unable to parse string as an integer"
    ]


def _run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.parametrize(
    "args", [("db", "upgrade"), ("feeds", "list"), ("run", "--for-seconds", "1", "--no-stdin")]
)
def test_unusable_database_is_one_line_without_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _run_bot(tmp_path, *args, DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/store.db")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"configuration error: DATABASE_URL: folder {tmp_path}/missing/dir does not exist"
    ]


def test_unreachable_database_server_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = _run_bot(tmp_path, "db", "upgrade", DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("database error: the store cannot be used:")


def test_slack_token_without_signing_secret_is_refused(tmp_path: Path) -> None:
    result = _run_bot(tmp_path, "db", "upgrade", SLACK_BOT_TOKEN="xoxb-1")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: SLACK_SIGNING_SECRET is required when a Slack token or client ID is set"
    )


def test_unknown_log_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigurationError, match=r"^configuration error: LOG_FORMAT:"):
        load_settings()
