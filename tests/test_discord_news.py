"""The real command layer (`handlers.news.service.NewsService`) behind Discord: every subcommand arrives
over the fake gateway, is answered from a SQLite store, and changes what it should (mutes, subscriptions)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import DEFAULT_TOPICS_FILE, load_settings
from handlers.discord.commands import DEFER_AFTER_SECONDS
from handlers.discord.runtime import build_discord_runtime
from handlers.news.service import NewsService
from handlers.news.views import NewsReply
from storage import channels_repo
from storage.db import session_factory
from storage.models import EntryRow, FeedRow, StoryRow
from stories.topics import TopicCatalog, load_topics
from tests.fakes.discord_api import BOT_TOKEN, EPHEMERAL_FLAG, OUTAGES, FakeDiscordAPI, Outage
from tests.fakes.discord_gateway import FakeDiscordGateway, FakeGuild, guild_payload
from tests.test_discord_gateway import ANSWERED, DEFERRED, EDITOR_ROLE, GUILD, World, callback_of, wait_until
from tests.test_news_fixtures import seed_newsroom
from values.chat import Caller, ChannelRef

NOW = datetime.now(UTC).replace(microsecond=0)
CHANNEL = ChannelRef("discord", str(GUILD.channel_id), team_id=str(GUILD.id))


@pytest.fixture(scope="module")
def catalog() -> TopicCatalog:
    return load_topics(DEFAULT_TOPICS_FILE)


class RecordingNews:
    """The real service, with each line and reply kept for the assertions."""

    def __init__(self, service: NewsService) -> None:
        self.service = service
        self.replies: list[tuple[str, NewsReply]] = []

    async def handle(self, text: str, caller: Caller, channel: ChannelRef) -> NewsReply:
        reply = await self.service.handle(text, caller, channel)
        self.replies.append((text, reply))
        return reply


async def seed_story(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session, session.begin():
        feed = FeedRow(name="Reuters LatAm", url="http://127.0.0.1/feed", language="en", created_at=NOW)
        session.add(feed)
        await session.flush()
        story = StoryRow(
            title="Venezuelan deserters cross into Cúcuta",
            link="https://example.org/deserters",
            source=feed.name,
            summary="More than 300 soldiers have crossed the border bridges.",
            language="en",
            relevant=True,
            topics=["venezuela-colombia-border", "military-deserters"],
            matched=["deserters", "Cúcuta"],
            figures=[{"value": 326.0, "text": "326", "what": "deserters", "unit": None, "score": 1.0}],
            first_seen_at=NOW - timedelta(hours=2),
            published_at=NOW - timedelta(hours=2),
            updated_at=NOW - timedelta(hours=2),
        )
        session.add(story)
        await session.flush()
        session.add(
            EntryRow(
                feed_id=feed.id,
                entry_key="deserters-1",
                link=story.link,
                title=story.title,
                summary=story.summary,
                first_seen_at=story.first_seen_at,
                published_at=story.published_at,
                language="en",
                story_id=story.id,
                relevant=True,
                topics=story.topics,
                matched=story.matched,
                figures=story.figures,
            )
        )
        return story.id


@pytest.fixture
async def newsroom(engine: AsyncEngine, catalog: TopicCatalog) -> AsyncIterator[World]:
    """On SQLite, and on PostgreSQL when WIREWATCH_TEST_POSTGRES_URL is set."""
    async with FakeDiscordAPI() as api, FakeDiscordGateway(api, [GUILD]) as gateway:
        api.add_channel(GUILD.channel_id, guild_id=GUILD.id)
        settings = load_settings(
            DISCORD_TOKEN=BOT_TOKEN,
            DISCORD_API_BASE_URL=api.base_url,
            DISCORD_GUILD_ID=GUILD.id,
            DISCORD_EDITOR_ROLE=EDITOR_ROLE,
        )
        sessions = session_factory(engine)
        news = RecordingNews(NewsService(sessions, catalog))
        runtime = build_discord_runtime(settings, news, sessions, catalog=catalog)
        # Answers here must not be deferred however loaded the machine is; one test lowers it on purpose.
        runtime.commands.defer_after = 30.0
        await runtime.start_listening()
        await asyncio.wait_for(gateway.identified.wait(), timeout=10)
        try:
            yield World(api, gateway, runtime, news, engine)  # type: ignore[arg-type]
        finally:
            await runtime.stop()


async def test_every_subcommand_is_answered_by_the_command_layer(newsroom: World) -> None:
    story_id = await seed_story(newsroom.engine)
    commands = [
        ("search", {"query": "deserters"}, "search"),
        ("latest", {"count": 3}, "latest"),
        ("story", {"number": story_id}, "story"),
        ("figures", {"query": "deserters"}, "figures"),
        ("digest", {"period": "24h"}, "digest"),
        ("topics", {}, "topics"),
        ("feeds", {}, "feeds"),
        ("help", {}, "help"),
        ("subscribe", {"topic": "migration-refugees"}, "subscribe"),
        ("mute", {"topic": "military-deserters", "duration": "2h"}, "mute"),
        ("unmute", {"topic": "military-deserters"}, "unmute"),
        ("unsubscribe", {"topic": "migration-refugees"}, "unsubscribe"),
    ]
    recorder: RecordingNews = newsroom.news  # type: ignore[assignment]
    for subcommand, options, kind in commands:
        payload = newsroom.gateway.command_interaction(
            GUILD, "news", subcommand, options, role_ids=(GUILD.editor_role_id,)
        )
        interaction = await callback_of(newsroom, payload)
        _line, reply = recorder.replies[-1]
        assert reply.kind == kind, (subcommand, reply.title, reply.text)
        data = interaction.callbacks[0]["data"]
        assert bool(data.get("flags", 0) & EPHEMERAL_FLAG) == reply.ephemeral, subcommand
        assert data["embeds"][0]["title"] == reply.title
    search = next(reply for line, reply in recorder.replies if line.startswith("search"))
    assert [s.story_id for s in search.stories] == [story_id]


async def test_mute_from_discord_mutes_the_channel_until_the_given_time(newsroom: World) -> None:
    payload = newsroom.gateway.command_interaction(
        GUILD,
        "news",
        "mute",
        {"topic": "humanitarian-aid", "duration": "2h"},
        role_ids=(GUILD.editor_role_id,),
    )
    await callback_of(newsroom, payload)
    async with session_factory(newsroom.engine)() as session:
        channel = await channels_repo.ensure_channel(session, CHANNEL, NOW)
        [mute] = await channels_repo.active_mutes(session, channel.id, datetime.now(UTC))
    assert mute.topic == "humanitarian-aid"
    assert mute.until is not None
    assert timedelta(hours=1, minutes=59) < mute.until - datetime.now(UTC) <= timedelta(hours=2)


async def test_unknown_topic_gets_the_did_you_mean_reply(newsroom: World) -> None:
    payload = newsroom.gateway.command_interaction(
        GUILD, "news", "subscribe", {"topic": "venezuala"}, role_ids=(GUILD.editor_role_id,)
    )
    interaction = await callback_of(newsroom, payload)
    embed = interaction.callbacks[0]["data"]["embeds"][0]
    assert "venezuela-colombia-border" in embed["description"]
    assert interaction.callbacks[0]["data"]["flags"] & EPHEMERAL_FLAG


async def test_channel_and_private_answers_are_the_ones_docs_discord_md_lists(newsroom: World) -> None:
    """docs/discord.md §4: digests and an editor's settings changes go to the channel, all else is private."""
    story_id = await seed_story(newsroom.engine)
    in_channel = [
        ("digest", {"period": "24h"}),
        ("subscribe", {"topic": "migration-refugees"}),
        ("subscribe", {"topic": "migration-refugees"}),  # "already subscribed"
        ("mute", {"topic": "military-deserters", "duration": "2h"}),
        ("unmute", {"topic": "military-deserters"}),
        ("unsubscribe", {"topic": "migration-refugees"}),
        ("unsubscribe", {"topic": "migration-refugees"}),  # "was not subscribed; nothing changed"
    ]
    private = [
        ("search", {"query": "deserters"}),
        ("latest", {"count": 3}),
        ("story", {"number": story_id}),
        ("figures", {"query": "deserters"}),
        ("topics", {}),
        ("feeds", {}),
        ("help", {}),
        ("unmute", {"topic": "military-deserters"}),  # not muted any more
        ("subscribe", {"topic": "venezuala"}),  # an error: "did you mean"
        ("mute", {"topic": "humanitarian-aid", "duration": "soon"}),  # an error: unreadable duration
    ]
    for expected_public, cases in ((True, in_channel), (False, private)):
        for subcommand, options in cases:
            payload = newsroom.gateway.command_interaction(
                GUILD, "news", subcommand, options, role_ids=(GUILD.editor_role_id,)
            )
            data = (await callback_of(newsroom, payload)).callbacks[0]["data"]
            public = not data.get("flags", 0) & EPHEMERAL_FLAG
            assert public == expected_public, (subcommand, options, data["embeds"][0]["title"])
    refused = newsroom.gateway.command_interaction(GUILD, "news", "mute", {"topic": "humanitarian-aid"})
    assert (await callback_of(newsroom, refused)).callbacks[0]["data"]["flags"] & EPHEMERAL_FLAG


# --- Discord failing to tell a role (issue 12) ----------------------------------------------------------

# A guild whose GUILD_CREATE never arrived: its interactions carry role IDs that name nothing, so an editor
# action must fetch the member (and the guild's roles) from the API.
UNCACHED = FakeGuild(id=920000000000000001, channel_id=920000000000000002, editor_role_id=920000000000000003)
UNCACHED_CHANNEL = ChannelRef("discord", str(UNCACHED.channel_id), team_id=str(UNCACHED.id))
EDITOR_ID = 700000000000000077
ROLE_UNKNOWN = "could not check your role with Discord"


async def final_embed(world: World, payload: dict[str, Any]) -> dict[str, Any]:
    """The answer's embed: at the callback, or in the follow-up after a deferral."""
    interaction = await callback_of(world, payload)
    if interaction.callbacks[0]["type"] != DEFERRED:
        return dict(interaction.callbacks[0]["data"]["embeds"][0])
    for _ in range(2000):  # a ceiling for a loaded machine, not a timing assertion
        if interaction.followups:
            break
        await asyncio.sleep(0.01)
    return dict(interaction.followups[0]["embeds"][0])


async def uncached_mutes(engine: AsyncEngine) -> list[str]:
    async with session_factory(engine)() as session:
        channel = await channels_repo.ensure_channel(session, UNCACHED_CHANNEL, NOW)
        return [m.topic for m in await channels_repo.active_mutes(session, channel.id, datetime.now(UTC))]


@pytest.fixture
def uncached(newsroom: World) -> World:
    """The production deferral, and a role lookup bound short enough for tests (the fake holds "slow")."""
    newsroom.api.add_guild(guild_payload(UNCACHED))
    newsroom.api.add_member(UNCACHED.id, EDITOR_ID, role_ids=(UNCACHED.editor_role_id,))
    newsroom.runtime.commands.defer_after = DEFER_AFTER_SECONDS
    newsroom.runtime.commands.role_lookup_seconds = 2.5
    return newsroom


def member_path(user_id: int = EDITOR_ID) -> str:
    return f"/guilds/{UNCACHED.id}/members/{user_id}"


async def test_an_editor_of_an_uncached_guild_is_fetched_and_may_mute(uncached: World) -> None:
    payload = uncached.gateway.command_interaction(
        UNCACHED,
        "news",
        "mute",
        {"topic": "humanitarian-aid"},
        user_id=EDITOR_ID,
        role_ids=(UNCACHED.editor_role_id,),
    )
    embed = await final_embed(uncached, payload)
    assert ROLE_UNKNOWN not in json.dumps(embed) and "only editors" not in json.dumps(embed)
    assert await uncached_mutes(uncached.engine) == ["humanitarian-aid"]
    assert [c.status for c in uncached.api.calls_to("GET", member_path())] == [200]


@pytest.mark.parametrize("outage", OUTAGES)
async def test_a_search_never_fetches_a_member_so_an_outage_cannot_touch_it(
    uncached: World, outage: Outage
) -> None:
    uncached.api.break_route("GET", member_path(), outage)
    uncached.api.break_route("GET", f"/guilds/{UNCACHED.id}", outage)
    payload = uncached.gateway.command_interaction(
        UNCACHED, "news", "search", {"query": "cucuta"}, user_id=EDITOR_ID
    )
    interaction = await callback_of(uncached, payload)
    [callback] = interaction.callbacks
    assert callback["type"] == ANSWERED and ROLE_UNKNOWN not in json.dumps(callback)
    assert "cucuta" in json.dumps(callback["data"]["embeds"][0]).lower()
    assert uncached.api.calls_to("GET", r"/guilds/.*") == []


@pytest.mark.parametrize("outage", OUTAGES)
async def test_an_editor_action_during_a_member_fetch_outage_asks_to_try_again_and_changes_nothing(
    uncached: World, outage: Outage
) -> None:
    uncached.api.break_route("GET", member_path(), outage)
    payload = uncached.gateway.command_interaction(
        UNCACHED,
        "news",
        "mute",
        {"topic": "humanitarian-aid"},
        user_id=EDITOR_ID,
        role_ids=(UNCACHED.editor_role_id,),
    )
    embed = await final_embed(uncached, payload)  # the fake refuses a first response after 3 s
    assert ROLE_UNKNOWN in embed["description"] and "only editors" not in json.dumps(embed)
    assert await uncached_mutes(uncached.engine) == []
    # Discord back: nothing about the failure was kept, the member is fetched again and the mute applies.
    uncached.api.mend_route("GET", member_path())
    payload = uncached.gateway.command_interaction(
        UNCACHED,
        "news",
        "mute",
        {"topic": "humanitarian-aid"},
        user_id=EDITOR_ID,
        role_ids=(UNCACHED.editor_role_id,),
    )
    embed = await final_embed(uncached, payload)
    assert ROLE_UNKNOWN not in json.dumps(embed)
    assert await uncached_mutes(uncached.engine) == ["humanitarian-aid"]


async def test_a_member_not_in_the_fetched_guild_is_refused_not_asked_to_retry(uncached: World) -> None:
    payload = uncached.gateway.command_interaction(
        UNCACHED, "news", "mute", {"topic": "humanitarian-aid"}, user_id=EDITOR_ID + 1
    )
    embed = await final_embed(uncached, payload)
    assert "only editors" in embed["description"] and ROLE_UNKNOWN not in embed["description"]
    assert await uncached_mutes(uncached.engine) == []


async def test_reporters_are_refused_editor_actions_naming_the_role(newsroom: World) -> None:
    payload = newsroom.gateway.command_interaction(GUILD, "news", "subscribe", {"topic": "humanitarian-aid"})
    data = (await callback_of(newsroom, payload)).callbacks[0]["data"]
    assert data["flags"] & EPHEMERAL_FLAG
    description = data["embeds"][0]["description"]
    assert "only editors" in description and f"Manage Channels or the {EDITOR_ROLE} role" in description


async def test_figures_answer_carries_the_chart_as_an_attachment_shown_in_the_embed(newsroom: World) -> None:
    await seed_newsroom(session_factory(newsroom.engine))
    payload = newsroom.gateway.command_interaction(GUILD, "news", "figures", {"query": "deserters"})
    interaction = await callback_of(newsroom, payload)
    data = interaction.callbacks[0]["data"]
    assert data["flags"] & EPHEMERAL_FLAG  # private, like the text answer it belongs to
    assert data["allowed_mentions"] == {"parse": []}
    assert data["embeds"][0]["image"]["url"] == "attachment://figures.png"
    assert interaction.original is not None
    [attachment] = interaction.original["attachments"]
    assert attachment["filename"] == "figures.png" and "326 → 411" in attachment["description"]
    assert newsroom.api.attachment_data[attachment["id"]].startswith(b"\x89PNG\r\n\x1a\n")


async def test_a_deferred_story_answer_sends_its_chart_with_the_followup(newsroom: World) -> None:
    story_id = await seed_newsroom(session_factory(newsroom.engine))
    newsroom.runtime.commands.defer_after = 0.0
    payload = newsroom.gateway.command_interaction(GUILD, "news", "story", {"number": story_id})
    interaction = await callback_of(newsroom, payload)
    await wait_until(lambda: interaction.followups, "the follow-up")
    [followup] = interaction.followups
    assert followup["flags"] & EPHEMERAL_FLAG
    [attachment] = followup["attachments"]
    assert newsroom.api.attachment_data[attachment["id"]].startswith(b"\x89PNG\r\n\x1a\n")
