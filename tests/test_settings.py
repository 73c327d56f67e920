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
    assert "xoxb-very-secret" not in repr(load_settings())


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
