"""`bot.py feeds list|add|remove|check` through typer, on a throwaway SQLite file."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.feeds_cmd import feeds_app
from tests.fakes.feed_server import FeedItem, FeedServer, rss_document

runner = CliRunner()
FEEDS = """
[[feeds]]
name = "Desk"
url = "{desk}"
language = "es"

[[feeds]]
name = "Broken"
url = "{broken}"
language = "en"
"""


@pytest.fixture
def server_in_thread() -> Iterator[FeedServer]:
    """The feed server on its own loop in a thread, since the CLI runs its own asyncio.run()."""
    loop = asyncio.new_event_loop()
    server = FeedServer()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait(5)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_in_thread: FeedServer) -> FeedServer:
    server = server_in_thread
    desk = server.feed("/desk.xml", rss_document("Desk", [FeedItem("Frontera abierta", "https://e.org/1")]))
    broken = server.status("/broken.xml", 500)
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(FEEDS.format(desk=desk, broken=broken), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FEEDS_FILE", str(feeds_file))
    monkeypatch.setenv("COLUMNS", "200")
    return server


@pytest.mark.parametrize("command", [[], ["list"], ["add"], ["remove"], ["check"]])
def test_help_on_every_command(command: list[str]) -> None:
    result = runner.invoke(feeds_app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_list_add_remove(configured: FeedServer) -> None:
    listed = runner.invoke(feeds_app, ["list"])
    assert listed.exit_code == 0, listed.output
    assert "Desk" in listed.output and "Broken" in listed.output and "new" in listed.output

    added = runner.invoke(feeds_app, ["add", "Manual", configured.url("/desk.xml"), "--language", "es"])
    assert added.exit_code == 0, added.output
    again = runner.invoke(feeds_app, ["add", "Manual", configured.url("/desk.xml"), "-l", "es"])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(feeds_app, ["add", "Bad", "ftp://x/y", "-l", "es"])
    assert bad.exit_code == 1 and "url must be" in bad.output

    removed = runner.invoke(feeds_app, ["remove", "Desk"])
    assert removed.exit_code == 0, removed.output
    listed = runner.invoke(feeds_app, ["list"])
    assert "Manual" in listed.output
    assert "removed with `feeds remove`" in listed.output  # still listed in the file, but stays off
    missing = runner.invoke(feeds_app, ["remove", "Nope"])
    assert missing.exit_code == 1 and "no feed named 'Nope'" in missing.output


def test_check_fetches_now_and_reports_failures(configured: FeedServer) -> None:
    result = runner.invoke(feeds_app, ["check"])
    assert result.exit_code == 1  # one feed fails
    assert "ok" in result.output and "failed" in result.output and "HTTP 500" in result.output
    assert configured.hits("/desk.xml") == 1 and configured.hits("/broken.xml") == 1
    only = runner.invoke(feeds_app, ["check", "Desk"])
    assert only.exit_code == 0, only.output
    assert configured.hits("/broken.xml") == 1


def test_bad_feeds_file_is_one_line(
    configured: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[feeds]]\nname = "X"\nlanguage = "en"\n', encoding="utf-8")
    monkeypatch.setenv("FEEDS_FILE", str(broken))
    result = runner.invoke(feeds_app, ["list"])
    assert result.exit_code != 0
    assert "url is missing" in str(result.exception) and "broken.toml" in str(result.exception)
