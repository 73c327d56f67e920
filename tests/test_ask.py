"""`bot.py ask "/news ..."` as a script would run it: a subprocess against DATABASE_URL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_factory
from storage.models import ChannelRow, MuteRow
from tests.conftest import PROJECT_ROOT
from tests.test_news_fixtures import seed_newsroom

pytest.importorskip("stories.topics")  # `ask` loads the real TOPICS_FILE


def _ask(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bot.py"), "ask", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture
async def archive(sqlite_engine: AsyncEngine, sqlite_url: str) -> tuple[str, int]:
    story_id = await seed_newsroom(session_factory(sqlite_engine))
    return sqlite_url, story_id


async def test_ask_prints_the_console_rendering(archive: tuple[str, int], tmp_path: Path) -> None:
    url, story_id = archive
    result = _ask(url, tmp_path, "/news soldiers since:30d")
    assert result.returncode == 0, result.stderr
    assert f"#{story_id} Venezuelan soldiers desert to Colombia" in result.stdout
    assert "+1 other source" in result.stdout


async def test_ask_json_prints_the_view_model(archive: tuple[str, int], tmp_path: Path) -> None:
    url, story_id = archive
    result = _ask(url, tmp_path, f"/news story {story_id}", "--json")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["kind"] == "story"
    assert {line["source"] for line in reply["sections"][0]["stories"]} == {"Reuters", "AFP español"}
    assert [row[3] for row in reply["table"]["rows"]] == ["326", "411"]


async def test_ask_writes_the_chart_and_prints_its_path_and_a_sparkline(
    archive: tuple[str, int], tmp_path: Path
) -> None:
    url, _story_id = archive
    result = _ask(url, tmp_path, "/news figures deserters")
    assert result.returncode == 0, result.stderr
    assert "▁█  326 → 411" in result.stdout
    [line] = [line for line in result.stdout.splitlines() if line.startswith("Chart: ")]
    path = Path(line.removeprefix("Chart: "))
    assert path.parent == tmp_path / "charts"  # CHART_DIR, set for every test
    assert (await asyncio.to_thread(path.read_bytes)).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.slow
async def test_ask_as_editor_changes_the_named_channel_and_a_did_you_mean_exits_zero(
    archive: tuple[str, int], sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    url, _ = archive
    refused = _ask(url, tmp_path, "/news mute venezuela-colombia-border for 1h")
    assert refused.returncode == 0 and "Editors only" in refused.stdout
    typo = _ask(url, tmp_path, "/news latest venezuala")
    assert typo.returncode == 0 and "Did you mean `venezuela-colombia-border`?" in typo.stdout
    done = _ask(url, tmp_path, "/news mute venezuela-colombia-border for 1h", "--editor", "--channel", "cron")
    assert done.returncode == 0, done.stderr
    async with session_factory(sqlite_engine)() as session:
        rows = (await session.execute(select(ChannelRow.external_id, MuteRow.topic).join(MuteRow))).all()
    assert rows == [("cron", "venezuela-colombia-border")]


def test_ask_fails_with_one_line_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    result = _ask(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}", tmp_path, "/news venezuela")
    # A store that cannot be opened is a configuration error: one line naming DATABASE_URL, no trace.
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
async def test_ask_acts_on_a_slack_or_discord_channel_with_platform(
    archive: tuple[str, int], sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    url, _ = archive
    slack = _ask(
        url, tmp_path, "/news mute migration for 2h", "--editor", "--platform", "slack", "--channel", "C0DESK"
    )
    assert slack.returncode == 0, slack.stderr
    discord = _ask(
        url, tmp_path, "/news subscribe migration", "--editor", "--platform", "discord", "--channel", "42"
    )
    assert discord.returncode == 0, discord.stderr
    async with session_factory(sqlite_engine)() as session:
        channels = set((await session.execute(select(ChannelRow.platform, ChannelRow.external_id))).all())
    assert channels == {("slack", "C0DESK"), ("discord", "42")}
    missing = _ask(url, tmp_path, "/news topics", "--platform", "slack")
    assert missing.returncode == 2 and "--channel" in missing.stderr
