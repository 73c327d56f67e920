"""The console adapter end to end: lines typed on its input, rendered text on its output; alerts printed."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.settings import load_settings
from handlers.console.render import _shorten, render_alert, render_reply
from handlers.console.runtime import ConsoleRuntime, build_console_runtime
from handlers.news.service import NewsService
from handlers.news.views import NewsReply, StoryLine
from storage.db import session_factory
from storage.models import ChannelRow, MuteRow, SubscriptionRow
from stories.model import Alert, AlertKind, FigureChange, KeyFigure, StoryCluster
from tests.test_news_fixtures import BEAT, NOW, seed_newsroom, stand_in_catalog

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Console:
    sessions: async_sessionmaker[AsyncSession]
    news: NewsService
    story_id: int

    def runtime(
        self, lines: list[str] | None = None, *, editor: bool = True, color: bool = False
    ) -> ConsoleRuntime:
        settings = load_settings(CONSOLE_CHANNEL="newsdesk")
        return build_console_runtime(
            settings,
            self.news,
            self.sessions,
            catalog=stand_in_catalog(),
            input_stream=io.StringIO("".join(f"{line}\n" for line in lines or [])),
            output_stream=io.StringIO(),
            editor=editor,
            color=color,
        )


@pytest.fixture
async def console(sqlite_engine: AsyncEngine) -> AsyncIterator[Console]:
    sessions = session_factory(sqlite_engine)
    story_id = await seed_newsroom(sessions)
    yield Console(sessions, NewsService(sessions, stand_in_catalog(), clock=lambda: NOW), story_id)


async def _type(runtime: ConsoleRuntime) -> str:
    """Start listening, wait for the end of input, return everything printed."""
    await runtime.start_listening()
    await runtime.input_closed.wait()
    await runtime.stop()
    output = runtime.output.stream
    assert isinstance(output, io.StringIO)
    return output.getvalue()


async def test_a_story_with_an_update_prints_a_sparkline_and_the_path_of_its_chart(
    console: Console, tmp_path: Path
) -> None:
    output = await _type(console.runtime([f"/news story {console.story_id}"]))
    assert "▁█  326 → 411  members of Venezuela's armed forces" in output
    [path_text] = re.findall(r"^Chart: (.+\.png)$", output, flags=re.MULTILINE)
    path = Path(path_text)
    assert path.parent == tmp_path / "charts"  # CHART_DIR
    assert (await asyncio.to_thread(path.read_bytes)).startswith(b"\x89PNG\r\n\x1a\n")


async def test_a_chart_that_cannot_be_written_costs_one_line_not_the_answer(
    console: Console, tmp_path: Path
) -> None:
    await asyncio.to_thread((tmp_path / "charts").write_text, "a file where the directory should be")
    output = await _type(console.runtime([f"/news story {console.story_id}"]))
    assert "326 → 411" in output and "Chart not written:" in output and "Traceback" not in output


def _assert_in_order(output: str, fragments: list[str]) -> None:
    position = 0
    for fragment in fragments:
        found = output.find(fragment, position)
        assert found >= 0, f"{fragment!r} not found after position {position}:\n{output[position:]}"
        position = found + len(fragment)


async def test_every_command_typed_on_stdin_is_answered_in_order(console: Console) -> None:
    story = console.story_id
    session_lines = [
        ("/news help", ["Wirewatch /news commands", "/news mute <topic>"]),
        (
            "/news soldiers desert",
            ["Search: soldiers desert", f"#{story} Venezuelan soldiers desert to Colombia"],
        ),
        ("/news latest migration 5", ["Latest: Migration", "Migrantes cruzan por las trochas de Cúcuta"]),
        (f"/news story {story}", ["Sources (2)", "AFP español", "326 → 411", "Figure history"]),
        ("/news figures deserters", ["Figures: deserters", "326", "411"]),
        ("/news digest 7d", ["Digest: the last 7 days", "Migration (1)", "Military deserters (1)"]),
        ("/news subscribe trade", ["This channel now gets alerts on `trade`"]),
        ("/news mute migration for 2h", ["Muted `migration` in this channel for 2 h"]),
        ("/news topics", ["Topics", "migration", "muted until 2026-11-20 14:00 UTC", "trade", "on"]),
        ("/news unmute migration", ["The mute on `migration` has ended"]),
        ("/news unsubscribe trade", ["no longer gets alerts on `trade`"]),
        ("/news feeds", ["Feed health", "El Pitazo", "failing (3x)", "did not answer"]),
        ('/news "unbalanced quote', ["No stories match"]),
        ("/news mute venezuala", ["I couldn't answer that", "Did you mean `venezuela-colombia-border`?"]),
        ("/news " + "x!" * 5000, ["Search:"]),
    ]
    output = await _type(console.runtime([line for line, _ in session_lines]))
    _assert_in_order(output, [fragment for _, fragments in session_lines for fragment in fragments])
    assert "Traceback" not in output


async def test_listening_subscribes_the_console_channel_to_the_beat(console: Console) -> None:
    await _type(console.runtime([]))
    async with console.sessions() as session:
        channel = (await session.execute(select(ChannelRow))).scalar_one()
        topics = list((await session.execute(select(SubscriptionRow.topic))).scalars())
    assert (channel.platform, channel.external_id) == ("console", "newsdesk")
    assert topics == [BEAT]


async def test_a_console_reporter_is_refused_editor_commands(console: Console) -> None:
    output = await _type(console.runtime(["/news mute migration for 2h"], editor=False))
    assert "Editors only" in output and "only editors can use `/news mute`" in output
    async with console.sessions() as session:
        assert (await session.execute(select(MuteRow))).first() is None


def _cluster(title: str = "Venezuelan soldiers desert") -> StoryCluster:
    return StoryCluster(
        story_id=7,
        title=title,
        link="https://news.example/7",
        source="Reuters",
        summary="Hundreds crossed the border",
        language="en",
        topics=(BEAT,),
        matched=(),
        figures=(KeyFigure(326, "326", "deserters"),),
        first_seen=NOW,
        published=NOW,
    )


async def test_poster_numbers_alerts_and_threads_updates(console: Console) -> None:
    runtime = console.runtime()
    await runtime.start_posting()
    first = await runtime.poster.post(
        "newsdesk", Alert(AlertKind.NEW, _cluster()), thread=None, idempotency_key="a"
    )
    change = FigureChange("deserters", KeyFigure(326, "326", "deserters"), KeyFigure(411, "411", "deserters"))
    update = await runtime.poster.post(
        "newsdesk", Alert(AlertKind.UPDATE, _cluster(), changes=(change,)), thread=first, idempotency_key="b"
    )
    notice = await runtime.poster.post(
        "newsdesk",
        Alert(AlertKind.NOTICE, None, notice="The mute on `migration` has ended"),
        thread=None,
        idempotency_key="c",
    )
    output = runtime.output.stream.getvalue()  # type: ignore[attr-defined]
    assert (first.message_id, update.message_id, update.thread_id, notice.message_id) == ("1", "2", "1", "3")
    _assert_in_order(
        output,
        [
            "[#1] NEW",
            "Venezuelan soldiers desert",
            "326 deserters",
            "[#2 ↳ #1] UPDATE",
            "deserters: 326 → 411",
            "[#3] NOTICE",
            "The mute on `migration` has ended",
        ],
    )


async def test_poster_posts_once_per_idempotency_key(console: Console) -> None:
    runtime = console.runtime()
    alert = Alert(AlertKind.NEW, _cluster())
    first = await runtime.poster.post("newsdesk", alert, thread=None, idempotency_key="outbox-1")
    again = await runtime.poster.post("newsdesk", alert, thread=None, idempotency_key="outbox-1")
    assert first == again
    assert await runtime.poster.find_posted("newsdesk", "outbox-1") == first
    assert await runtime.poster.find_posted("newsdesk", "outbox-2") is None
    assert runtime.output.stream.getvalue().count("[#") == 1  # type: ignore[attr-defined]


def test_rendering_is_coloured_only_when_asked_and_never_interprets_markup() -> None:
    reply = NewsReply(
        kind="search",
        title="Search: [bold]x",
        stories=(
            StoryLine(
                story_id=1, title="[red]Headline[/red] [link=x]", link=None, source="Wire", published=NOW
            ),
        ),
        generated_at=NOW,
    )
    plain = render_reply(reply, color=False)
    coloured = render_reply(reply, color=True)
    assert not ANSI.search(plain)
    assert ANSI.search(coloured)
    assert "[red]Headline[/red] [link=x]" in plain and "Search: [bold]x" in plain
    assert ANSI.sub("", coloured) == plain


def test_an_alert_shows_four_ranked_figures_why_it_matched_and_whole_numbers() -> None:
    figures = tuple(
        KeyFigure(value, text, what, score=score)
        for value, text, what, score in (
            (20, "at least 20", "deserters seen in Cucuta", 0.6),
            (326, "326", "members of Venezuela's armed forces", 0.9),
            (365_000, "about 365,000", "troops", 0.7),
            (1_600_000, "about 1.6 million", "civilians in the colectivos", 0.65),
            (50, "50", "countries", 0.1),
        )
    )
    # Long enough that the cut falls inside "365,000".
    summary = "The armed forces " + "number about " * 21 + "x" * 6 + " 365,000 troops in all."
    assert summary.index("365,000") < 299 < summary.index("365,000") + len("365,000")
    cluster = dataclasses.replace(
        _cluster(), summary=summary, figures=figures, matched=("Cúcuta", "desertores", "Cúcuta")
    )
    output = render_alert(Alert(AlertKind.NEW, cluster), 1)
    _assert_in_order(
        output,
        [
            "326 members of Venezuela's armed forces",
            "about 365,000 troops",
            "about 1.6 million civilians in the colectivos",
            "at least 20 deserters seen in Cucuta",
            "Why it matched: Cúcuta, desertores\n",
        ],
    )
    assert "50 countries" not in output  # the fifth figure
    assert " xxxxxx…" in output and not re.search(r"\d…", output)


def test_shortening_cuts_between_words() -> None:
    assert _shorten("about 365,000 troops", 12) == "about…"
    assert _shorten("about 365,000 troops", 14) == "about 365,000…"
    assert _shorten("short", 10) == "short"
