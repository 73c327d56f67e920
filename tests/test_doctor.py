"""`bot.py doctor` against the contract fakes: every problem gets its line, its fix and the right exit code.

The command runs its own `asyncio.run()`, so the fakes (Slack Web API, Discord REST, feed server) serve from
a loop on another thread, and each test changes the fakes or the environment, then runs the command.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from bot import app
from cli.doctor_cmd import feed_format, shown_url
from handlers.slack.runtime import BOT_SCOPES
from storage.db import MIGRATIONS_DIR, open_store
from tests.conftest import PROJECT_ROOT
from tests.fakes.discord_api import BOT_TOKEN, FakeDiscordAPI
from tests.fakes.feed_server import FeedItem, FeedServer, atom_document, rss_document
from tests.fakes.slack_api import MANIFEST_SCOPES, FakeSlack

runner = CliRunner()
T = TypeVar("T")
SLACK_TOKEN = "xoxb-test"
SIGNING_SECRET = "signing-secret-not-printed"
GUILD_ID = 777000000000000777
DISCORD_CHANNEL = 777000000000000001
# The newest migration file's revision: what a migrated store reports.
HEAD = max(path.name[:4] for path in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
OTHER_GUILD_CHANNEL = 777000000000000002
FEEDS = """
[[feeds]]
name = "Desk"
url = "{desk}"
language = "es"

[[feeds]]
name = "Wire"
url = "{wire}"
language = "en"
"""


@dataclass
class Fakes:
    slack: FakeSlack
    discord: FakeDiscordAPI
    feeds: FeedServer


class FakesOnThread:
    """The three fakes on an event loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Fakes:
        self._thread.start()
        slack, discord, feeds = FakeSlack(), FakeDiscordAPI(), FeedServer()
        self.run(slack.start())
        self.run(discord.start())
        self.run(feeds.start())
        self.fakes = Fakes(slack, discord, feeds)
        return self.fakes

    def __exit__(self, *_: object) -> None:
        self.run(self.fakes.slack.stop())
        self.run(self.fakes.discord.close())
        self.run(self.fakes.feeds.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(10)


def _migrated_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"

    async def migrate() -> None:
        async with open_store(url):
            pass

    asyncio.run(migrate())
    return url


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with FakesOnThread() as started:
        yield started


@pytest.fixture
def healthy(fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    """Everything configured and working: a migrated store, two feeds, Slack and Discord."""
    desk = fakes.feeds.feed(
        "/desk.xml", rss_document("Desk", [FeedItem("Frontera abierta", "https://e.org/1")])
    )
    wire = fakes.feeds.feed(
        "/wire.xml",
        atom_document(
            "Wire", [FeedItem("Border opens", "https://e.org/2"), FeedItem("Talks", "https://e.org/3")]
        ),
        content_type="application/atom+xml",
        last_modified=None,
    )
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(FEEDS.format(desk=desk, wire=wire), encoding="utf-8")
    fakes.slack.add_channel("C1", "border-desk")
    fakes.discord.add_channel(DISCORD_CHANNEL, guild_id=GUILD_ID)
    fakes.discord.add_channel(OTHER_GUILD_CHANNEL, guild_id=GUILD_ID + 1)
    environment = {
        "DATABASE_URL": _migrated_sqlite(tmp_path / "wirewatch.db"),
        "FEEDS_FILE": str(feeds_file),
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_BASE_URL": fakes.slack.base_url,
        "SLACK_ALERT_CHANNEL": "C1",
        "DISCORD_TOKEN": BOT_TOKEN,
        "DISCORD_API_BASE_URL": fakes.discord.base_url,
        "DISCORD_ALERT_CHANNEL": str(DISCORD_CHANNEL),
        "DISCORD_GUILD_ID": str(GUILD_ID),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return fakes


def doctor(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["doctor", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output.splitlines()


def line(lines: list[str], start: str) -> str:
    """The one line that starts with `start` (symbol and check name)."""
    found = [text for text in lines if text.startswith(start)]
    assert len(found) == 1, f"{start!r} not found once in:\n" + "\n".join(lines)
    return found[0]


# --- all good -------------------------------------------------------------------------------------------


def test_everything_working_exits_0_with_a_tick_on_every_line(healthy: Fakes) -> None:
    code, lines = doctor()
    assert code == 0, "\n".join(lines)
    assert f"migrated (head {HEAD})" in line(lines, "✔ database: sqlite:///")
    assert "beat 'venezuela-colombia-border'" in line(lines, "✔ topics:")
    line(lines, "✔ concepts:")
    assert "workspace Newsroom (T1)" in line(lines, "✔ slack token:")
    line(lines, "✔ slack scopes:")
    assert "C1 exists, bot is a member" in line(lines, "✔ slack channel:")
    assert "logged in as wirewatch" in line(lines, "✔ discord token:")
    assert f"in server {GUILD_ID}" in line(lines, "✔ discord channel:")
    desk = line(lines, "✔ feed Desk:")
    assert "HTTP 200, RSS 2.0, 1 entries, Last-Modified Mon, 05 Jan 2026 12:00:00 GMT" in desk
    assert "HTTP 200, Atom 1.0, 2 entries, no Last-Modified" in line(lines, "✔ feed Wire:")
    assert not [text for text in lines if text.startswith(("✘", "!"))]
    assert lines[-1] == "0 error(s), 0 warning(s): ready to run"
    output = "\n".join(lines)
    assert SLACK_TOKEN not in output and BOT_TOKEN not in output and SIGNING_SECRET not in output


def test_doctor_only_reads(healthy: Fakes) -> None:
    doctor()
    assert {call.method for call in healthy.slack.calls} == {"auth.test", "conversations.history"}
    assert all(call.method == "GET" for call in healthy.discord.calls)
    assert healthy.feeds.hits("/desk.xml") == 1 and healthy.feeds.hits("/wire.xml") == 1


def test_console_mode_is_not_an_error(healthy: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        monkeypatch.delenv(name)
    code, lines = doctor()
    assert code == 0, "\n".join(lines)
    assert line(lines, "– slack:") == "– slack: not configured (console mode)"
    assert line(lines, "– discord:") == "– discord: not configured (console mode)"
    assert healthy.slack.calls == [] and healthy.discord.calls == []


def test_json_report(healthy: Fakes) -> None:
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses["database"] == "ok" and statuses["slack scopes"] == "ok" and statuses["feed Wire"] == "ok"


# --- settings, database, files ------------------------------------------------------------------------


def test_invalid_settings_stop_at_one_line_with_the_variable(
    healthy: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://newsroom@db/wirewatch")
    code, lines = doctor()
    assert code == 1
    settings = line(lines, "✘ settings:")
    assert "DATABASE_URL: must be a sqlite:/// or postgresql+psycopg:// URL" in settings
    assert "— fix: correct it in .env or the environment" in settings
    assert not [text for text in lines if "database:" in text]


def test_database_not_migrated_is_an_error(
    healthy: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.db"
    with sqlite3.connect(empty) as connection:
        connection.execute("CREATE TABLE unrelated (id INTEGER)")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{empty}")
    code, lines = doctor()
    assert code == 1
    database = line(lines, "✘ database:")
    assert f"reachable, not migrated (head is {HEAD})" in database
    assert "fix: run `bot.py db upgrade`" in database


def test_missing_sqlite_file_is_reported_not_created(
    healthy: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    code, lines = doctor()
    assert code == 1
    assert "no such file yet — fix: run `bot.py db upgrade`" in line(lines, "✘ database:")
    assert not missing.exists()


def test_unreachable_database_hides_the_password(healthy: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://wire:s3cret-pw@127.0.0.1:1/wirewatch")
    code, lines = doctor()
    assert code == 1
    database = line(lines, "✘ database:")
    assert "wire:***@127.0.0.1:1" in database and "fix: check DATABASE_URL" in database
    assert "s3cret-pw" not in "\n".join(lines)


def test_unreadable_topics_file_is_an_error(
    healthy: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "topics.toml"
    broken.write_text("[beat\nname = ", encoding="utf-8")
    monkeypatch.setenv("TOPICS_FILE", str(broken))
    code, lines = doctor()
    assert code == 1
    topics = line(lines, "✘ topics:")
    assert "topics.toml: not valid TOML" in topics and "— fix: correct the file" in topics


# --- Slack ----------------------------------------------------------------------------------------------


def test_rejected_slack_token(healthy: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked-secret")
    code, lines = doctor()
    assert code == 1
    assert line(lines, "✘ slack token:").startswith(
        "✘ slack token: token rejected (invalid_auth) — fix: set SLACK_BOT_TOKEN to the Bot User OAuth Token"
    )
    assert not [text for text in lines if text.startswith(("✔ slack scopes", "✔ slack channel"))]
    assert "xoxb-revoked-secret" not in "\n".join(lines)


def test_missing_scope(healthy: Fakes) -> None:
    healthy.slack.teams[SLACK_TOKEN].scopes = tuple(s for s in MANIFEST_SCOPES if s != "usergroups:read")
    code, lines = doctor()
    assert code == 1
    scopes = line(lines, "✘ slack scopes:")
    assert "missing usergroups:read" in scopes and "reinstall the app" in scopes


def test_alert_channel_not_found(healthy: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_ALERT_CHANNEL", "C404")
    code, lines = doctor()
    assert code == 1
    channel = line(lines, "✘ slack channel:")
    assert (
        "SLACK_ALERT_CHANNEL C404 not found" in channel
        and "fix: set SLACK_ALERT_CHANNEL to the channel ID" in channel
    )


def test_channel_name_instead_of_id_gets_a_hint(healthy: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_ALERT_CHANNEL", "#border-desk")
    code, lines = doctor()
    assert code == 1
    assert "that looks like a name: use the channel ID" in line(lines, "✘ slack channel:")


def test_bot_not_in_the_alert_channel(healthy: Fakes) -> None:
    healthy.slack.channels["C1"].bot_is_member = False
    code, lines = doctor()
    assert code == 1
    assert line(lines, "✘ slack channel:") == (
        "✘ slack channel: the bot is not a member of C1"
        " — fix: invite the bot: type `/invite @Wirewatch` in that channel"
    )


def test_the_fake_grants_what_the_manifest_asks_for() -> None:
    assert MANIFEST_SCOPES == BOT_SCOPES


# --- Discord --------------------------------------------------------------------------------------------


def test_rejected_discord_token(healthy: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "not.the-right.token")
    code, lines = doctor()
    assert code == 1
    token = line(lines, "✘ discord token:")
    assert "token rejected (401 Unauthorized) — fix: set DISCORD_TOKEN" in token
    assert "not.the-right.token" not in "\n".join(lines)


def test_unknown_discord_channel(healthy: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_ALERT_CHANNEL", "123456789")
    code, lines = doctor()
    assert code == 1
    channel = line(lines, "✘ discord channel:")
    assert "DISCORD_ALERT_CHANNEL 123456789 is unknown to Discord" in channel and "Copy Channel ID" in channel


def test_discord_channel_in_another_server(healthy: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_ALERT_CHANNEL", str(OTHER_GUILD_CHANNEL))
    code, lines = doctor()
    assert code == 1
    assert f"is in server {GUILD_ID + 1}, not DISCORD_GUILD_ID {GUILD_ID}" in line(
        lines, "✘ discord channel:"
    )


def test_discord_channel_the_bot_cannot_see(healthy: Fakes) -> None:
    healthy.discord.channels[DISCORD_CHANNEL].can_send = False
    code, lines = doctor()
    assert code == 1
    assert "cannot see channel" in line(lines, "✘ discord channel:")


# --- feeds ----------------------------------------------------------------------------------------------


def _with_feeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, desk: str, wire: str) -> None:
    feeds_file = tmp_path / "other-feeds.toml"
    feeds_file.write_text(FEEDS.format(desk=desk, wire=wire), encoding="utf-8")
    monkeypatch.setenv("FEEDS_FILE", str(feeds_file))


def test_one_unreachable_feed_is_a_warning(
    healthy: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_feeds(tmp_path, monkeypatch, "http://127.0.0.1:1/desk.xml", healthy.feeds.url("/wire.xml"))
    code, lines = doctor()
    assert code == 0, "\n".join(lines)
    desk = line(lines, "! feed Desk:")
    assert "could not connect to the server" in desk and "— fix: open the URL from this machine" in desk
    line(lines, "✔ feed Wire:")
    assert lines[-1] == "0 error(s), 1 warning(s): ready to run"


def test_every_feed_unreachable_is_an_error(
    healthy: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_feeds(tmp_path, monkeypatch, "http://127.0.0.1:1/desk.xml", healthy.feeds.url("/gone.xml"))
    code, lines = doctor()
    assert code == 1
    line(lines, "! feed Desk:")
    assert "HTTP 404" in line(lines, "! feed Wire:")
    assert "none of the 2 feeds could be fetched" in line(lines, "✘ feeds:")


def test_broken_feed_xml(healthy: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = healthy.feeds.raw(
        "/broken.xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</ti'
    )
    _with_feeds(tmp_path, monkeypatch, broken, healthy.feeds.url("/wire.xml"))
    code, lines = doctor()
    assert code == 0, "\n".join(lines)
    desk = line(lines, "! feed Desk:")
    assert "the feed is malformed" in desk and "— fix: it answers, but not with a readable feed" in desk


def test_feed_added_by_hand_is_checked_too(healthy: Fakes) -> None:
    extra = healthy.feeds.feed("/extra.xml", rss_document("Extra", [FeedItem("Uno", "https://e.org/9")]))
    added = runner.invoke(app, ["feeds", "add", "Extra", extra, "--language", "es"])
    assert added.exit_code == 0, added.output
    code, lines = doctor()
    assert code == 0
    line(lines, "✔ feed Extra:")


def test_feed_format_names() -> None:
    assert [feed_format(v) for v in ("rss20", "atom10", "rss091u", "rss", "")] == [
        "RSS 2.0",
        "Atom 1.0",
        "RSS 0.91",
        "RSS",
        "unknown format",
    ]


def test_shown_url_masks_the_password() -> None:
    assert shown_url("postgresql+psycopg://wire:pw@db:5432/ww") == "postgresql+psycopg://wire:***@db:5432/ww"


# --- the real command line ------------------------------------------------------------------------------


def test_bot_py_doctor_in_a_subprocess(healthy: Fakes) -> None:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        environment.pop(name)
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bot.py"), "doctor"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    line(lines, "✔ database:")
    line(lines, "✔ feed Desk:")
    assert line(lines, "– slack:") == "– slack: not configured (console mode)"

    healthy.feeds.status("/desk.xml", 500)
    healthy.feeds.status("/wire.xml", 500)
    failing = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bot.py"), "doctor"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failing.returncode == 1
    assert "✘ feeds: none of the 2 feeds could be fetched" in failing.stdout
