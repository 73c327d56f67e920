"""The Discord runtime end to end: the real discord.py client logs in at the REST fake, syncs its commands,
connects to the fake gateway, receives INTERACTION_CREATE events and answers at the interaction callback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import discord
import pytest
from discord.gateway import DiscordWebSocket
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import DEFAULT_TOPICS_FILE, load_settings
from handlers.discord.commands import DEFER_AFTER_SECONDS, FAILURE, SHARED_BELOW
from handlers.discord.runtime import INVITE_PERMISSIONS, DiscordRuntime, build_discord_runtime
from handlers.news.help_text import COMMAND_NAMES
from handlers.news.views import NewsReply
from storage import channels_repo
from storage.db import session_factory
from stories.model import Alert, AlertKind, StoryCluster
from stories.topics import TopicCatalog, load_topics
from tests.fakes.discord_api import (
    BOT_TOKEN,
    EPHEMERAL_FLAG,
    RESPONSE_DEADLINE_SECONDS,
    FakeDiscordAPI,
    FakeInteraction,
)
from tests.fakes.discord_gateway import GUILDS_INTENT, MANAGE_CHANNELS, FakeDiscordGateway, FakeGuild
from tests.test_discord_commands import StandInNews
from values.chat import Caller, ChannelRef, EditorStatus

GUILD = FakeGuild(id=910000000000000001, channel_id=910000000000000002, editor_role_id=910000000000000003)
EDITOR_ROLE = GUILD.editor_role_name
DEFERRED = 5
ANSWERED = 4
AUTOCOMPLETE_RESULT = 8


@dataclass
class World:
    api: FakeDiscordAPI
    gateway: FakeDiscordGateway
    runtime: DiscordRuntime
    news: StandInNews
    engine: AsyncEngine


@pytest.fixture(scope="module")
def catalog() -> TopicCatalog:
    return load_topics(DEFAULT_TOPICS_FILE)


async def wait_until(condition: Callable[[], object], what: str) -> None:
    """Poll a condition the client's background tasks will make true (no timing is asserted)."""
    for _ in range(2000):  # a ceiling for a loaded machine, not a timing assertion
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def callback_of(world: World, payload: dict[str, Any]) -> FakeInteraction:
    await world.gateway.send_interaction(payload)
    interaction = world.api.interactions[payload["token"]]
    await wait_until(lambda: interaction.callbacks, "the interaction callback")
    return interaction


@pytest.fixture
async def world(sqlite_engine: AsyncEngine, catalog: TopicCatalog) -> AsyncIterator[World]:
    async with FakeDiscordAPI() as api, FakeDiscordGateway(api, [GUILD]) as gateway:
        api.add_channel(GUILD.channel_id, guild_id=GUILD.id)
        settings = load_settings(
            DISCORD_TOKEN=BOT_TOKEN,
            DISCORD_API_BASE_URL=api.base_url,  # the gateway is what this API announces
            DISCORD_GUILD_ID=GUILD.id,
            DISCORD_ALERT_CHANNEL=GUILD.channel_id,
            DISCORD_EDITOR_ROLE=EDITOR_ROLE,
        )
        news = StandInNews()
        runtime = build_discord_runtime(settings, news, session_factory(sqlite_engine), catalog=catalog)
        # Answers here must not be deferred however loaded the machine is; some tests lower it on purpose.
        # The fake still holds the first answer to Discord's 3 seconds (a stand-in answers at once).
        runtime.commands.defer_after = 30.0
        await runtime.start_posting()
        await runtime.start_listening()
        await asyncio.wait_for(gateway.identified.wait(), timeout=10)
        try:
            yield World(api, gateway, runtime, news, sqlite_engine)
        finally:
            await runtime.stop()


def embed_title(interaction: FakeInteraction) -> str:
    return str(interaction.callbacks[0]["data"]["embeds"][0]["title"])


# --- start-up ----------------------------------------------------------------------------------------------
async def test_start_syncs_commands_to_the_guild(world: World) -> None:
    commands = {c["name"]: c for c in world.api.commands[GUILD.id]}
    assert set(commands) == {"news", "newsadmin"}
    news, admin = commands["news"], commands["newsadmin"]
    assert sorted(o["name"] for o in news["options"]) == sorted(COMMAND_NAMES)
    assert news["default_member_permissions"] is None
    assert int(admin["default_member_permissions"]) == MANAGE_CHANNELS
    mute = next(o for o in news["options"] if o["name"] == "mute")
    assert all(o["autocomplete"] for o in mute["options"])  # topic and duration
    digest = next(o for o in news["options"] if o["name"] == "digest")
    assert [c["value"] for c in digest["options"][0]["choices"]] == ["6h", "12h", "24h", "48h", "7d"]


async def test_gateway_identify_asks_only_for_the_guilds_intent(world: World) -> None:
    [identify] = world.gateway.identify_payloads
    assert identify["intents"] == GUILDS_INTENT
    assert identify["token"] == BOT_TOKEN
    await wait_until(lambda: world.gateway.heartbeats, "the first heartbeat")  # answered with an ACK


async def test_invite_url_has_exactly_the_needed_scopes_and_permissions(
    sqlite_engine: AsyncEngine, catalog: TopicCatalog, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="handlers.discord.runtime")
    async with FakeDiscordAPI() as api:
        settings = load_settings(DISCORD_TOKEN=BOT_TOKEN, DISCORD_API_BASE_URL=api.base_url)
        runtime = build_discord_runtime(
            settings, StandInNews(), session_factory(sqlite_engine), catalog=catalog
        )
        await runtime.start_posting()
        await runtime.stop()
    [url] = [r.getMessage().split(": ", 1)[1] for r in caplog.records if "invite URL" in r.getMessage()]
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["bot applications.commands"]
    assert query["client_id"] == [str(api.application_id)]
    granted = discord.Permissions(int(query["permissions"][0]))
    assert granted == INVITE_PERMISSIONS
    assert granted.send_messages and granted.embed_links and not granted.administrator
    assert BOT_TOKEN not in caplog.text


async def test_alert_channel_is_subscribed_to_the_beat(world: World, catalog: TopicCatalog) -> None:
    ref = ChannelRef("discord", str(GUILD.channel_id), team_id=str(GUILD.id))
    async with session_factory(world.engine)() as session:
        channel = await channels_repo.ensure_channel(session, ref, world.runtime.clock())
        assert await channels_repo.subscriptions(session, channel.id) == [catalog.beat.name]
    assert await world.runtime.subscribe_alert_channel() is False  # idempotent on restart


async def test_posting_needs_no_gateway(sqlite_engine: AsyncEngine, catalog: TopicCatalog) -> None:
    async with FakeDiscordAPI() as api, FakeDiscordGateway(api, [GUILD]) as gateway:
        api.add_channel(GUILD.channel_id, guild_id=GUILD.id)
        settings = load_settings(DISCORD_TOKEN=BOT_TOKEN, DISCORD_API_BASE_URL=api.base_url)
        runtime = build_discord_runtime(
            settings, StandInNews(), session_factory(sqlite_engine), catalog=catalog
        )
        await runtime.start_posting()
        try:
            story = StoryCluster(1, "Title", None, "AFP", "", "en", (), (), (), runtime.clock(), None)
            await runtime.poster.post(
                str(GUILD.channel_id), Alert(AlertKind.NEW, story), thread=None, idempotency_key="k"
            )
        finally:
            await runtime.stop()
        assert len(api.messages[GUILD.channel_id]) == 1
        assert gateway.identify_payloads == []


async def test_settings_gateway_url_wins_global_sync_and_stop_restores_endpoints(
    sqlite_engine: AsyncEngine, catalog: TopicCatalog
) -> None:
    base, default_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscordAPI() as api, FakeDiscordGateway(api, [GUILD]) as gateway:
        # What the API announces is ignored when the setting is set.
        api.gateway_url = "ws://127.0.0.1:9/nowhere"
        settings = load_settings(
            DISCORD_TOKEN=BOT_TOKEN, DISCORD_API_BASE_URL=api.base_url, DISCORD_GATEWAY_URL=gateway.url
        )
        runtime = build_discord_runtime(
            settings, StandInNews(), session_factory(sqlite_engine), catalog=catalog
        )
        await runtime.start_listening()
        try:
            await asyncio.wait_for(gateway.identified.wait(), timeout=10)
            assert str(DiscordWebSocket.DEFAULT_GATEWAY) == gateway.url
        finally:
            await runtime.stop()
        assert api.calls_to("GET", "/gateway/bot") == []
        # No DISCORD_GUILD_ID: the commands were registered globally.
        assert sorted(c["name"] for c in api.commands[None]) == ["news", "newsadmin"]
    assert (base, default_gateway) == (discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


# --- every subcommand over the gateway ------------------------------------------------------------------
READER_COMMANDS = [
    (
        "search",
        {"query": "deserters cucuta", "since": "7d", "language": "es"},
        "search deserters cucuta since:7d lang:es",
    ),
    ("latest", {"topic": "humanitarian-aid", "count": 5}, "latest humanitarian-aid 5"),
    ("story", {"number": 42}, "story 42"),
    ("figures", {"query": "deserters"}, "figures deserters"),
    ("digest", {"period": "12h"}, "digest 12h"),
    ("topics", {}, "topics"),
    ("feeds", {}, "feeds"),
    ("help", {"command": "mute"}, "help mute"),
]
EDITOR_COMMANDS = [
    ("mute", {"topic": "migration-refugees", "duration": "2h"}, "mute migration-refugees for 2h"),
    ("unmute", {"topic": "migration-refugees"}, "unmute migration-refugees"),
    ("subscribe", {"topic": "armed-groups-security"}, "subscribe armed-groups-security"),
    ("unsubscribe", {"topic": "armed-groups-security"}, "unsubscribe armed-groups-security"),
]


async def test_every_subcommand_answers_ephemerally_at_the_callback(world: World) -> None:
    for subcommand, options, line in READER_COMMANDS + EDITOR_COMMANDS:
        payload = world.gateway.command_interaction(
            GUILD, "news", subcommand, options, role_ids=(GUILD.editor_role_id,)
        )
        interaction = await callback_of(world, payload)
        [callback] = interaction.callbacks
        assert callback["type"] == ANSWERED, subcommand
        assert callback["data"]["flags"] & EPHEMERAL_FLAG, subcommand
        assert callback["data"]["allowed_mentions"] == {"parse": []}
        assert embed_title(interaction) == f"answer: {line}"
        text, caller, channel = world.news.calls[-1]
        assert text == line
        assert caller.user_id == payload["member"]["user"]["id"]
        assert channel == ChannelRef("discord", str(GUILD.channel_id), team_id=str(GUILD.id))
    assert len(world.news.calls) == len(READER_COMMANDS) + len(EDITOR_COMMANDS)


async def test_reporters_reach_the_command_layer_as_non_editors(world: World) -> None:
    """The command layer refuses them (tests/test_discord_news.py); the adapter only says who they are."""
    for subcommand, options, line in EDITOR_COMMANDS:
        payload = world.gateway.command_interaction(GUILD, "news", subcommand, options)
        interaction = await callback_of(world, payload)
        [callback] = interaction.callbacks
        assert callback["type"] == ANSWERED and callback["data"]["flags"] & EPHEMERAL_FLAG
        text, caller, _channel = world.news.calls[-1]
        assert text == line
        assert await caller.editor_status() is EditorStatus.NO
        assert EDITOR_ROLE in (caller.editor_rule or "")
    # The guild is cached from the gateway: its roles name themselves, nothing was fetched.
    assert world.api.calls_to("GET", r"/guilds/.*") == []


async def test_manage_channels_makes_an_editor_on_newsadmin(world: World) -> None:
    options = {"topic": "military-deserters", "duration": "until 18:00"}
    payload = world.gateway.command_interaction(
        GUILD, "newsadmin", "mute", options, permissions=MANAGE_CHANNELS
    )
    interaction = await callback_of(world, payload)
    assert embed_title(interaction) == "answer: mute military-deserters until 18:00"
    [(_text, caller, _channel)] = world.news.calls
    assert await caller.editor_status() is EditorStatus.YES


async def test_public_replies_are_not_ephemeral(world: World) -> None:
    world.news.public.add("digest")
    interaction = await callback_of(world, world.gateway.command_interaction(GUILD, "news", "digest", {}))
    assert not interaction.callbacks[0]["data"].get("flags", 0) & EPHEMERAL_FLAG


async def test_slow_answers_are_deferred_then_followed_up(world: World) -> None:
    world.runtime.commands.defer_after = 0.05
    world.news.gates["figures"] = gate = asyncio.Event()
    payload = world.gateway.command_interaction(GUILD, "news", "figures", {"query": "deserters"})
    interaction = await callback_of(world, payload)
    [callback] = interaction.callbacks
    assert callback == {"type": DEFERRED, "data": {"flags": EPHEMERAL_FLAG}}
    assert interaction.followups == []
    gate.set()
    await wait_until(lambda: interaction.followups, "the follow-up")
    [followup] = interaction.followups
    assert followup["embeds"][0]["title"] == "answer: figures deserters"
    assert followup["flags"] & EPHEMERAL_FLAG


async def test_slow_public_answer_settles_the_private_placeholder_then_posts_publicly(world: World) -> None:
    world.runtime.commands.defer_after = 0.05
    world.news.public.add("digest")
    world.news.gates["digest"] = gate = asyncio.Event()
    interaction = await callback_of(world, world.gateway.command_interaction(GUILD, "news", "digest", {}))
    assert interaction.callbacks[0]["type"] == DEFERRED
    gate.set()
    await wait_until(lambda: interaction.followups, "the public follow-up")
    [edit] = interaction.edits
    assert edit["content"] == SHARED_BELOW
    [followup] = interaction.followups
    assert followup["embeds"][0]["title"] == "answer: digest"
    assert not followup["flags"] & EPHEMERAL_FLAG


async def test_topic_autocomplete_over_the_gateway(world: World) -> None:
    payload = world.gateway.autocomplete_interaction(GUILD, "news", "mute", "topic", "venezuala")
    interaction = await callback_of(world, payload)
    [callback] = interaction.callbacks
    assert callback["type"] == AUTOCOMPLETE_RESULT
    assert [c["value"] for c in callback["data"]["choices"]] == ["venezuela-colombia-border"]
    duration = world.gateway.autocomplete_interaction(GUILD, "news", "mute", "duration", "1", {"topic": "x"})
    choices = (await callback_of(world, duration)).callbacks[0]["data"]["choices"]
    assert [c["value"] for c in choices] == ["1", "1h", "12h"]


class ExplodingNews(StandInNews):
    async def handle(self, text: str, caller: Caller, channel: ChannelRef) -> NewsReply:
        raise RuntimeError("database is on fire")


async def test_a_crash_in_the_command_layer_gets_one_polite_line(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.runtime.commands.news = ExplodingNews()
    interaction = await callback_of(world, world.gateway.command_interaction(GUILD, "news", "feeds", {}))
    [callback] = interaction.callbacks
    assert callback["data"]["content"] == FAILURE
    assert callback["data"]["flags"] & EPHEMERAL_FLAG
    assert "database is on fire" not in callback["data"]["content"]
    await wait_until(lambda: "news feeds failed" in caplog.text, "the error log")


# --- Discord's deadlines: first response within 3 s, follow-ups within 15 minutes --------------------------
CALLBACK_PATH = r"/interactions/\d+/[^/]+/callback"


async def wait_past_deadline(world: World, interaction: FakeInteraction) -> None:
    """Until the fake's deadline for `interaction` has passed (waiting, not a timing assertion)."""
    await wait_until(lambda: interaction.age() > world.api.response_deadline, "the response deadline")


def test_production_deferral_leaves_margin_under_discords_three_seconds() -> None:
    # Discord's documented limit, which the fake enforces by default.
    assert RESPONSE_DEADLINE_SECONDS == 3.0
    # The bot's timer starts when discord.py has the event, after gateway delivery; the defer call then
    # needs a REST round trip (and may queue behind a rate-limit bucket). Keep at least 1 s for both.
    assert DEFER_AFTER_SECONDS + 1.0 <= RESPONSE_DEADLINE_SECONDS


async def test_runtime_defers_at_the_production_threshold_by_default(
    sqlite_engine: AsyncEngine, catalog: TopicCatalog
) -> None:
    settings = load_settings(DISCORD_TOKEN=BOT_TOKEN, DISCORD_API_BASE_URL="http://127.0.0.1:9/api/v10")
    runtime = build_discord_runtime(settings, StandInNews(), session_factory(sqlite_engine), catalog=catalog)
    assert runtime.commands.defer_after == DEFER_AFTER_SECONDS


async def test_fake_refuses_a_first_response_after_the_deadline_and_follow_ups_after_the_window() -> None:
    async with FakeDiscordAPI(response_deadline=0.05) as api, aiohttp.ClientSession() as http:
        api.add_channel(GUILD.channel_id, guild_id=GUILD.id)
        late = api.register_interaction(api.next_id(), "itok-late", GUILD.channel_id, GUILD.id)
        await wait_until(lambda: late.age() > api.response_deadline, "the response deadline")
        url = f"{api.base_url}/interactions/{late.id}/{late.token}/callback"
        async with http.post(url, json={"type": DEFERRED, "data": {"flags": EPHEMERAL_FLAG}}) as response:
            assert response.status == 404
            assert (await response.json())["code"] == 10062
        assert late.callbacks == [] and len(late.late) == 1
        # Acknowledged in time: follow-ups work until the token's window closes.
        api.followup_window = 60.0
        on_time = api.register_interaction(api.next_id(), "itok-on-time", GUILD.channel_id, GUILD.id)
        url = f"{api.base_url}/interactions/{on_time.id}/{on_time.token}/callback"
        async with http.post(url, json={"type": DEFERRED, "data": {}}) as response:
            assert response.status == 200
        followup = f"{api.base_url}/webhooks/{api.application_id}/{on_time.token}"
        async with http.post(followup, json={"content": "done"}) as response:
            assert response.status == 200
        api.followup_window = 0.0
        async with http.post(followup, json={"content": "too late"}) as response:
            assert response.status == 401
            assert (await response.json())["code"] == 50027
        assert [m["content"] for m in on_time.followups] == ["done"]


async def test_slow_answer_is_deferred_within_the_deadline_and_followed_up_after_it(world: World) -> None:
    world.api.response_deadline = 1.0  # shortened so the test is quick; the bot defers well before it
    world.runtime.commands.defer_after = 0.05
    world.news.gates["figures"] = gate = asyncio.Event()
    payload = world.gateway.command_interaction(GUILD, "news", "figures", {"query": "deserters"})
    interaction = await callback_of(world, payload)
    assert interaction.callbacks[0]["type"] == DEFERRED
    await wait_past_deadline(world, interaction)  # the answer is slower than the deadline
    gate.set()
    await wait_until(lambda: interaction.followups, "the follow-up")
    assert interaction.followups[0]["embeds"][0]["title"] == "answer: figures deserters"
    assert interaction.late == []
    calls = [c for c in world.api.calls if payload["token"] in c.path]
    assert calls and all(c.status == 200 for c in calls)


async def test_an_answer_not_deferred_in_time_is_refused_like_discord_does(world: World) -> None:
    world.api.response_deadline = 0.3
    world.runtime.commands.defer_after = 30.0  # a bot that forgets to defer
    world.news.gates["figures"] = gate = asyncio.Event()
    payload = world.gateway.command_interaction(GUILD, "news", "figures", {"query": "deserters"})
    await world.gateway.send_interaction(payload)
    interaction = world.api.interactions[payload["token"]]
    await wait_past_deadline(world, interaction)
    gate.set()
    await wait_until(lambda: interaction.late, "the late answer")
    assert interaction.callbacks == []
    assert interaction.late[0]["data"]["embeds"][0]["title"] == "answer: figures deserters"
    [first, *_] = world.api.calls_to("POST", CALLBACK_PATH)
    assert first.status == 404


async def test_production_deferral_is_accepted_under_discords_real_deadline(world: World) -> None:
    assert world.api.response_deadline == RESPONSE_DEADLINE_SECONDS
    world.runtime.commands.defer_after = DEFER_AFTER_SECONDS
    world.news.gates["figures"] = gate = asyncio.Event()
    payload = world.gateway.command_interaction(GUILD, "news", "figures", {"query": "deserters"})
    interaction = await callback_of(world, payload)  # arrives after DEFER_AFTER_SECONDS
    gate.set()
    assert interaction.callbacks[0]["type"] == DEFERRED
    assert interaction.late == []
    await wait_until(lambda: interaction.followups, "the follow-up")


# --- interaction tokens stay out of DEBUG logs -------------------------------------------------------------
async def test_debug_logs_of_an_interaction_never_show_its_token(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="discord")
    world.runtime.commands.defer_after = 0.05
    world.news.public.add("digest")  # deferred and public: callback, edit of the original and follow-up
    world.news.gates["digest"] = gate = asyncio.Event()
    payload = world.gateway.command_interaction(GUILD, "news", "digest", {})
    interaction = await callback_of(world, payload)
    gate.set()
    await wait_until(lambda: interaction.followups and interaction.edits, "the follow-up")
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("discord")]
    logged = "\n".join(messages)
    assert f"/interactions/{payload['id']}/<redacted>/callback" in logged
    assert f"/webhooks/{world.api.application_id}/<redacted>" in logged
    assert payload["token"] not in logged
    assert payload["token"] not in caplog.text
