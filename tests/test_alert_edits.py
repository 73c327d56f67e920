"""Alerts that grow with their story: when another outlet or language joins, the first alert is edited in
place (Slack `chat.update`, Discord message edit, a console line), at most once a minute per channel with
joins coalesced, never pinging, never re-posted when the message is gone; and a channel's language
(`/news language es`) picks the report the alert and its thread updates are written from.

The real posters run against the contract fakes; stories, reports and the events the pipeline would emit
for them are written straight to the store (`Newsroom`), and the real `enqueue_alerts` and sender do the rest.
"""

from __future__ import annotations

import io
import json
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from delivery.ports import ChatPoster
from delivery.sender import DeliverySender
from handlers.console.runtime import ConsoleOutput, ConsolePoster
from handlers.discord.endpoints import point_discord_at
from handlers.discord.poster import DiscordPoster, posting_client
from handlers.slack.clients import SingleTokenClients, make_client
from handlers.slack.poster import SlackPoster
from storage import channels_repo
from storage.db import session_factory
from storage.models import EntryRow, FeedRow, OutboxRow, StoryRow
from storage.outbox import enqueue_alerts
from storage.story_records import figure_to_json, story_from_row
from stories.model import (
    Entry,
    FigureChange,
    KeyFigure,
    NearMatch,
    StoryEvent,
    StoryEventKind,
    StoryMatch,
)
from tests.fakes.discord_api import BOT_TOKEN, FakeDiscordAPI
from tests.fakes.slack_api import FakeSlack
from values.chat import ChannelRef

BEAT = "venezuela-colombia-border"
START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SLACK_CHANNEL = "C1"
DISCORD_CHANNEL = 930000000000000002
EN_TITLE = "Hundreds of Venezuelan soldiers desert to Colombia"
ES_TITLE = "Cientos de militares venezolanos desertan a Colombia"
EN_SUMMARY = "At least 326 members of Venezuela's armed forces have deserted to Colombia, officials said."
ES_SUMMARY = "Al menos 326 militares venezolanos han desertado a Colombia, dijeron las autoridades."
EN_FIGURE = KeyFigure(326.0, "326", "members of Venezuela's armed forces", score=1.0)
ES_FIGURE = KeyFigure(326.0, "326", "militares venezolanos", score=1.0)


@dataclass(frozen=True)
class Report:
    """One outlet's copy of the story, as the pipeline would have stored it."""

    outlet: str
    language: str
    title: str = EN_TITLE
    summary: str = EN_SUMMARY
    figures: tuple[KeyFigure, ...] = (EN_FIGURE,)


EFE = Report("EFE", "es", ES_TITLE, ES_SUMMARY, (ES_FIGURE,))


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Newsroom:
    """The store as ingest leaves it: a story, its reports, and the outbox rows `enqueue_alerts` queues."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    feeds: dict[str, int] = field(default_factory=dict)

    async def channel(self, platform: str, external_id: str, *, language: str = "any") -> None:
        async with self.sessions() as session, session.begin():
            row = await channels_repo.ensure_channel(session, ChannelRef(platform, external_id, "T1"), START)
            await channels_repo.subscribe(session, row.id, BEAT, "test", START)
            await channels_repo.set_language(session, row.id, language)

    async def _feed(self, session: AsyncSession, report: Report) -> int:
        if report.outlet not in self.feeds:
            feed = FeedRow(
                name=report.outlet,
                url=f"http://127.0.0.1/{uuid.uuid4().hex[:6]}.xml",
                language=report.language,
                backlog_loaded=True,
                created_at=START - timedelta(days=1),
            )
            session.add(feed)
            await session.flush()
            self.feeds[report.outlet] = feed.id
        return self.feeds[report.outlet]

    async def _entry(self, session: AsyncSession, report: Report, story_id: int | None) -> Entry:
        key = uuid.uuid4().hex
        host = "".join(c for c in report.outlet.lower() if c.isalnum())
        link = f"https://{host}.example/{key[:8]}"
        session.add(
            EntryRow(
                feed_id=await self._feed(session, report),
                entry_key=key,
                link=link,
                title=report.title,
                summary=report.summary,
                published_at=self.clock.now,
                first_seen_at=self.clock.now,
                language=report.language,
                story_id=story_id,
                relevant=True,
                topics=[BEAT],
                figures=[figure_to_json(f) for f in report.figures],
            )
        )
        await session.flush()
        return Entry(
            entry_id=key,
            feed_name=report.outlet,
            title=report.title,
            link=link,
            summary=report.summary,
            published=self.clock.now,
            first_seen=self.clock.now,
            language=report.language,
        )

    async def new_story(self, report: Report, near_match: NearMatch | None = None) -> int:
        now = self.clock.now
        async with self.sessions() as session, session.begin():
            story = StoryRow(
                title=report.title,
                link=None,
                source=report.outlet,
                summary=report.summary,
                language=report.language,
                relevant=True,
                topics=[BEAT],
                matched=["desertores"],
                figures=[figure_to_json(f) for f in report.figures],
                revision=1,
                source_count=1,
                first_seen_at=now,
                published_at=now,
                updated_at=now,
            )
            session.add(story)
            await session.flush()
            entry = await self._entry(session, report, story.id)
            story.link = entry.link
            event = StoryEvent(StoryEventKind.NEW, entry, story_from_row(story), near_match=near_match)
            await enqueue_alerts(session, [event], now, max_age=timedelta(hours=6))
            return story.id

    async def join(self, story_id: int, report: Report, changes: Sequence[FigureChange] = ()) -> None:
        """Another report folded into the story: a copy (DUPLICATE), or an UPDATE when figures changed."""
        now = self.clock.now
        async with self.sessions() as session, session.begin():
            story = await session.get(StoryRow, story_id)
            assert story is not None
            story.source_count += 1
            if changes:
                story.revision += 1
                story.figures = [figure_to_json(c.new) for c in changes if c.new is not None]
            entry = await self._entry(session, report, story_id)
            event = StoryEvent(
                StoryEventKind.UPDATE if changes else StoryEventKind.DUPLICATE,
                entry,
                story_from_row(story),
                changes=tuple(changes),
                match=StoryMatch("model", 0.93, ("shared figure 326",)),
            )
            await enqueue_alerts(session, [event], now, max_age=timedelta(hours=6))

    async def rows(self, kind: str) -> list[OutboxRow]:
        async with self.sessions() as session:
            query = select(OutboxRow).where(OutboxRow.kind == kind).order_by(OutboxRow.id)
            return list((await session.execute(query)).scalars())


def sender_for(newsroom: Newsroom, platform: str, poster: ChatPoster) -> DeliverySender:
    return DeliverySender(
        newsroom.sessions,
        {platform: poster},
        worker_id="w1",
        channel_interval=0.0,
        clock=newsroom.clock,
        rng=random.Random(5),
    )


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(message_interval=0.0)
    fake.add_channel(SLACK_CHANNEL, "border-desk")
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
def slack_poster(slack: FakeSlack) -> SlackPoster:
    return SlackPoster(SingleTokenClients(make_client("xoxb-test", slack.base_url)))


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscordAPI]:
    async with FakeDiscordAPI() as fake:
        fake.add_channel(DISCORD_CHANNEL, guild_id=1)
        restore = point_discord_at(fake.base_url, None)
        try:
            yield fake
        finally:
            restore()


@pytest.fixture
async def discord_poster(discord_api: FakeDiscordAPI) -> AsyncIterator[DiscordPoster]:
    client = posting_client()
    await client.login(BOT_TOKEN)
    try:
        yield DiscordPoster(client, {})
    finally:
        await client.close()


def newsroom_on(engine: AsyncEngine) -> Newsroom:
    return Newsroom(session_factory(engine), Clock(START))


async def alerted_in_slack(engine: AsyncEngine, poster: SlackPoster) -> tuple[Newsroom, int, DeliverySender]:
    """Where most of these stories start: Reuters's English report alerted in the Slack channel."""
    newsroom = newsroom_on(engine)
    await newsroom.channel("slack", SLACK_CHANNEL)
    story_id = await newsroom.new_story(Report("Reuters", "en"))
    sender = sender_for(newsroom, "slack", poster)
    await sender.drain()
    return newsroom, story_id, sender


def shown(message: dict[str, Any]) -> str:
    """Everything a Slack reader sees of a message: its text and blocks."""
    return json.dumps([message.get("text"), message.get("blocks")], ensure_ascii=False)


# --- Slack: the first alert grows ------------------------------------------------------------------------


async def test_an_english_alert_is_edited_when_the_spanish_report_joins(
    slack: FakeSlack, slack_poster: SlackPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom, story_id, sender = await alerted_in_slack(sqlite_engine, slack_poster)
    [alert] = slack.top_level(SLACK_CHANNEL)
    assert "sources:" not in shown(alert)

    newsroom.clock.now += timedelta(minutes=5)
    await newsroom.join(story_id, EFE)
    await sender.drain()

    [edit] = await newsroom.rows("edit")
    assert edit.state == "sent" and edit.message_id == alert["ts"]
    assert len(slack.calls_to("chat.postMessage")) == 1  # edited, not repeated
    [update_call] = slack.calls_to("chat.update")
    assert update_call.params["ts"] == alert["ts"]
    [edited] = slack.top_level(SLACK_CHANNEL)
    text = shown(edited)
    assert "2 sources" in text and "en, es" in text
    assert "|Reuters> (en)" in text and "|EFE> (es)" in text  # each outlet linked to its report
    assert "https://efe.example/" in text and "https://reuters.example/" in text
    assert EN_TITLE in text and ES_TITLE not in text  # the channel takes any language: the first words stay


async def test_a_channel_that_prefers_spanish_is_switched_to_the_spanish_report_and_its_updates_read_in_it(
    slack: FakeSlack, slack_poster: SlackPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom = newsroom_on(sqlite_engine)
    await newsroom.channel("slack", SLACK_CHANNEL, language="es")
    story_id = await newsroom.new_story(Report("Reuters", "en"))
    sender = sender_for(newsroom, "slack", slack_poster)
    await sender.drain()
    [alert] = slack.top_level(SLACK_CHANNEL)
    assert EN_TITLE in shown(alert)  # no Spanish report yet: the English one it is

    await newsroom.join(story_id, EFE)
    await sender.drain()
    [edited] = slack.top_level(SLACK_CHANNEL)
    text = shown(edited)
    assert ES_TITLE in text and EN_TITLE not in text
    assert "militares venezolanos" in text and "members of Venezuela" not in text
    assert "Al menos 326 militares" in text

    # A later English update (326 -> 411) goes in the thread in the alert's language.
    newsroom.clock.now += timedelta(minutes=10)
    revised = KeyFigure(411.0, "411", "members of Venezuela's armed forces", score=1.0)
    await newsroom.join(
        story_id,
        Report("AP", "en", summary="At least 411 members of Venezuela's armed forces have deserted."),
        changes=[FigureChange(EN_FIGURE.what, EN_FIGURE, revised)],
    )
    await sender.drain()
    [reply] = slack.replies(SLACK_CHANNEL, alert["ts"])
    assert "militares venezolanos: 326 → 411" in reply["text"]
    assert len(slack.top_level(SLACK_CHANNEL)) == 1


async def test_joins_within_a_minute_are_one_edit_and_the_next_waits_out_the_minute(
    slack: FakeSlack, slack_poster: SlackPoster, engine: AsyncEngine
) -> None:
    newsroom = newsroom_on(engine)
    await newsroom.channel("slack", SLACK_CHANNEL)
    story_id = await newsroom.new_story(Report("Reuters", "en"))
    sender = sender_for(newsroom, "slack", slack_poster)
    await sender.drain()

    for outlet, language, seconds in (("AFP", "en", 10), ("EFE", "es", 20), ("El Tiempo", "es", 30)):
        newsroom.clock.now = START + timedelta(seconds=seconds)
        await newsroom.join(story_id, Report(outlet, language))
    [pending] = await newsroom.rows("edit")  # the later joins were folded into the pending edit
    assert [j["name"] for j in pending.payload["joined"]] == ["AFP", "EFE", "El Tiempo"]
    await sender.drain()
    assert len(slack.calls_to("chat.update")) == 1
    assert "4 sources" in shown(slack.top_level(SLACK_CHANNEL)[0])
    first_edit_at = newsroom.clock.now

    newsroom.clock.now = first_edit_at + timedelta(seconds=30)
    await newsroom.join(story_id, Report("Caracol", "es"))
    await sender.drain()
    assert len(slack.calls_to("chat.update")) == 1  # not within the minute
    newsroom.clock.now = first_edit_at + timedelta(seconds=61)
    await sender.drain()
    assert len(slack.calls_to("chat.update")) == 2
    assert "5 sources" in shown(slack.top_level(SLACK_CHANNEL)[0])
    assert [row.state for row in await newsroom.rows("edit")] == ["sent", "sent"]
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_an_edit_waiting_out_its_minute_holds_up_no_new_alert(
    slack: FakeSlack, slack_poster: SlackPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom, story_id, sender = await alerted_in_slack(sqlite_engine, slack_poster)
    await newsroom.join(story_id, Report("AFP", "en"))
    await sender.drain()
    await newsroom.join(story_id, EFE)  # its edit is due a minute after the first
    await newsroom.new_story(Report("Reuters", "en", title="Aid trucks blocked at Tienditas"))
    await sender.drain()
    assert len(slack.top_level(SLACK_CHANNEL)) == 2
    assert [row.state for row in await newsroom.rows("edit")] == ["sent", "pending"]


async def test_the_same_outlet_again_in_a_language_the_story_has_edits_nothing(
    slack: FakeSlack, slack_poster: SlackPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom = newsroom_on(sqlite_engine)
    await newsroom.channel("slack", SLACK_CHANNEL)
    story_id = await newsroom.new_story(Report("Reuters", "en"))
    await sender_for(newsroom, "slack", slack_poster).drain()
    await newsroom.join(story_id, Report("Reuters", "en"))
    assert await newsroom.rows("edit") == []


async def test_an_outlet_in_a_language_it_had_not_told_the_story_in_edits(
    slack: FakeSlack, slack_poster: SlackPoster, sqlite_engine: AsyncEngine
) -> None:
    """Reuters (en) and EFE (es) told it; Reuters's Spanish service is a new source line, so an edit."""
    newsroom, story_id, sender = await alerted_in_slack(sqlite_engine, slack_poster)
    await newsroom.join(story_id, EFE)
    await sender.drain()
    newsroom.clock.now += timedelta(minutes=2)
    await newsroom.join(story_id, Report("Reuters", "es", ES_TITLE, ES_SUMMARY, (ES_FIGURE,)))
    assert [row.state for row in await newsroom.rows("edit")] == ["sent", "pending"]


async def test_a_failed_edit_is_dead_after_one_attempt_and_never_reposts(
    slack: FakeSlack, slack_poster: SlackPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom, story_id, sender = await alerted_in_slack(sqlite_engine, slack_poster)
    slack.messages[SLACK_CHANNEL].clear()  # someone deleted the alert

    await newsroom.join(story_id, EFE)
    await sender.drain()
    newsroom.clock.now += timedelta(hours=2)
    await sender.drain()

    [edit] = await newsroom.rows("edit")
    assert edit.state == "dead" and edit.attempts == 1
    assert "message_not_found" in (edit.last_error or "")
    assert [c.error for c in slack.calls_to("chat.update")] == ["message_not_found"]
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert slack.top_level(SLACK_CHANNEL) == []


async def test_an_edit_whose_first_alert_died_is_dropped(
    slack: FakeSlack, slack_poster: SlackPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom = newsroom_on(sqlite_engine)
    await newsroom.channel("slack", "C-gone")  # Slack answers channel_not_found: the first alert dies
    story_id = await newsroom.new_story(Report("Reuters", "en"))
    sender = sender_for(newsroom, "slack", slack_poster)
    await sender.drain()
    await newsroom.join(story_id, EFE)
    await sender.drain()
    assert [row.state for row in await newsroom.rows("new")] == ["dead"]
    [edit] = await newsroom.rows("edit")
    assert edit.state == "dead" and "no sent first alert" in (edit.last_error or "")
    assert slack.calls_to("chat.update") == []


async def test_an_edit_cannot_ping_on_slack(
    slack: FakeSlack, slack_poster: SlackPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom, story_id, sender = await alerted_in_slack(sqlite_engine, slack_poster)
    await newsroom.join(story_id, Report("<!everyone> Wire <@U123> @everyone", "es", title="<!here> alerta"))
    await sender.drain()
    [call] = slack.calls_to("chat.update")
    sent = json.dumps(call.params, ensure_ascii=False)
    assert "<!everyone>" not in sent and "<!here>" not in sent and "<@U123>" not in sent
    assert "&lt;!everyone&gt; Wire" in sent
    assert not call.params.get("link_names")


# --- a story that came close to joining another says so, and keeps saying so when edited -----------------

VAGUER = Report(
    "AP", "en", "<!everyone> Venezuelan troops slip into Colombia", "Hundreds crossed, officials said."
)


async def test_a_new_story_names_the_story_it_may_be_and_its_edits_keep_the_line(
    slack: FakeSlack, slack_poster: SlackPoster, engine: AsyncEngine
) -> None:
    newsroom, first, sender = await alerted_in_slack(engine, slack_poster)
    second = await newsroom.new_story(VAGUER, NearMatch(first, "<!everyone> " + EN_TITLE, "Reuters", 0.86))
    await sender.drain()
    [_, alert] = slack.top_level(SLACK_CHANNEL)
    named = f"Possibly the same story as story {first}: &lt;!everyone&gt; {EN_TITLE} (Reuters; same-story"
    assert named in shown(alert) and "model 0.86" in shown(alert)
    assert "<!everyone>" not in shown(alert)

    await newsroom.join(second, EFE)
    await sender.drain()
    [_, edited] = slack.top_level(SLACK_CHANNEL)
    assert "2 sources" in shown(edited) and named in shown(edited)
    # The first story's own alert names nothing.
    assert "Possibly the same story" not in shown(slack.top_level(SLACK_CHANNEL)[0])


async def test_discord_and_console_alerts_name_the_story_it_may_be(
    discord_api: FakeDiscordAPI, discord_poster: DiscordPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom = newsroom_on(sqlite_engine)
    await newsroom.channel("discord", str(DISCORD_CHANNEL))
    await newsroom.channel("console", "desk")
    stream = io.StringIO()
    console = ConsolePoster(ConsoleOutput(stream, color=False))
    sender = DeliverySender(
        newsroom.sessions, {"discord": discord_poster, "console": console}, worker_id="w1",
        channel_interval=0.0, clock=newsroom.clock, rng=random.Random(5),
    )  # fmt: skip
    await newsroom.new_story(VAGUER, NearMatch(41, "@everyone Soldiers desert", "Reuters", 0.81))
    await sender.drain()
    [message] = discord_api.messages[DISCORD_CHANNEL]
    [embed] = message["embeds"]
    field = next(f for f in embed["fields"] if f["name"] == "Possibly the same story")
    assert field["value"].startswith("Possibly the same story as story 41: @\u200beveryone Soldiers desert")
    assert "same-story model 0.81" in field["value"]
    printed = " ".join(stream.getvalue().split())  # the console wraps long lines
    assert "Possibly the same story as story 41: @everyone Soldiers desert (Reuters; same-story" in printed


# --- Discord -------------------------------------------------------------------------------------------


async def test_discord_alert_is_edited_in_place_without_mentions(
    discord_api: FakeDiscordAPI, discord_poster: DiscordPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom = newsroom_on(sqlite_engine)
    await newsroom.channel("discord", str(DISCORD_CHANNEL), language="es")
    story_id = await newsroom.new_story(Report("Reuters", "en"))
    sender = sender_for(newsroom, "discord", discord_poster)
    await sender.drain()
    [alert] = discord_api.messages[DISCORD_CHANNEL]

    await newsroom.join(story_id, Report("@everyone EFE", "es", ES_TITLE, ES_SUMMARY, (ES_FIGURE,)))
    await sender.drain()

    [patch] = discord_api.calls_to("PATCH", f"/channels/{DISCORD_CHANNEL}/messages/{alert['id']}")
    assert patch.body["allowed_mentions"] == {"parse": []}
    [edited] = discord_api.messages[DISCORD_CHANNEL]  # edited, not repeated
    [embed] = edited["embeds"]
    assert embed["title"] == ES_TITLE
    sources = next(f for f in embed["fields"] if f["name"] == "2 sources")
    assert "[Reuters](https://reuters.example/" in sources["value"] and "(es)" in sources["value"]
    assert "@everyone" not in json.dumps(embed, ensure_ascii=False)  # defused: @\u200beveryone


async def test_discord_edit_of_a_deleted_message_is_dead_at_once(
    discord_api: FakeDiscordAPI, discord_poster: DiscordPoster, sqlite_engine: AsyncEngine
) -> None:
    newsroom = newsroom_on(sqlite_engine)
    await newsroom.channel("discord", str(DISCORD_CHANNEL))
    story_id = await newsroom.new_story(Report("Reuters", "en"))
    sender = sender_for(newsroom, "discord", discord_poster)
    await sender.drain()
    discord_api.messages[DISCORD_CHANNEL].clear()

    await newsroom.join(story_id, EFE)
    await sender.drain()
    newsroom.clock.now += timedelta(hours=2)
    await sender.drain()

    [edit] = await newsroom.rows("edit")
    assert edit.state == "dead" and edit.attempts == 1 and "10008" in (edit.last_error or "")
    assert [c.status for c in discord_api.calls_to("PATCH", f"/channels/{DISCORD_CHANNEL}/messages/.*")] == [
        404
    ]
    assert len(discord_api.calls_to("POST", f"/channels/{DISCORD_CHANNEL}/messages")) == 1
    assert discord_api.messages[DISCORD_CHANNEL] == []


# --- console -------------------------------------------------------------------------------------------


async def test_console_prints_one_line_per_edit(sqlite_engine: AsyncEngine) -> None:
    newsroom = newsroom_on(sqlite_engine)
    await newsroom.channel("console", "desk")
    stream = io.StringIO()
    sender = sender_for(newsroom, "console", ConsolePoster(ConsoleOutput(stream, color=False)))
    story_id = await newsroom.new_story(Report("Reuters", "en"))
    await sender.drain()
    printed = stream.getvalue()
    await newsroom.join(story_id, EFE)
    await sender.drain()
    assert stream.getvalue()[len(printed) :] == f"story #{story_id}: +1 source (EFE, es), 2 in all\n"
