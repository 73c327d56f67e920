"""End to end, all on loopback: feeds served locally → poller → story pipeline → outbox → delivery sender
→ the Discord poster → the Discord REST fake, with the bot also connected to the fake gateway.

A new story alerts once as an embed; a duplicate from another outlet posts nothing; changed figures reply
to the first alert; a headline built to ping pings no one; a 429 storm loses and duplicates nothing; and a
reporter finds the story with `/news search` over the gateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from config.settings import load_settings
from delivery.sender import DeliverySender
from feeds.schedule import FeedPoller
from feeds.sources import load_sources, sync_sources
from handlers.discord.runtime import DiscordRuntime, build_discord_runtime
from handlers.news.service import NewsService
from runtime.ingest import Ingestor
from storage.db import create_engine, session_factory, upgrade_database
from storage.models import FeedRow, OutboxRow
from stories.pipeline import StoryPipeline
from stories.topics import load_topics
from tests.fakes.discord_api import BOT_TOKEN, FakeDiscordAPI
from tests.fakes.discord_gateway import FakeDiscordGateway, FakeGuild
from tests.fakes.feed_server import FeedItem, FeedServer, rss_document

pytestmark = pytest.mark.slow

GUILD = FakeGuild(id=920000000000000001, channel_id=920000000000000002, editor_role_id=920000000000000003)
CHANNEL = GUILD.channel_id
MESSAGES = f"/channels/{CHANNEL}/messages"
DESERTERS = (
    "At least {n} members of Venezuela's armed forces have deserted to Colombia since Saturday, Colombian "
    "migration officials said in Cúcuta on Monday. The soldiers crossed the Simón Bolívar international "
    "bridge and asked for protection from the Colombian authorities as the standoff over the border "
    "continued."
)
AID = (
    "Trucks carrying humanitarian aid remained blocked on the Tienditas bridge between Cúcuta and Ureña on "
    "Tuesday after Venezuelan troops placed containers across the crossing, officials at the border said."
)
HOSTILE = "@everyone <@123456789012345678> Aid convoy blocked at Tienditas bridge @here"


@dataclass
class Newsroom:
    api: FakeDiscordAPI
    gateway: FakeDiscordGateway
    feeds: FeedServer
    runtime: DiscordRuntime
    poller: FeedPoller
    sender: DeliverySender
    sessions: Any
    clock: list[datetime]

    async def poll_and_deliver(self) -> None:
        await self.poller.tick()
        await self.sender.drain()

    def later(self, minutes: float) -> None:
        self.clock[0] += timedelta(minutes=minutes)

    async def next_poll(self) -> None:
        self.later(10)
        async with self.sessions() as session, session.begin():
            await session.execute(update(FeedRow).values(next_poll_at=self.clock[0] - timedelta(seconds=1)))
        await self.poll_and_deliver()

    def alerts(self) -> list[dict[str, Any]]:
        return [m for m in self.api.messages[CHANNEL] if "message_reference" not in m]

    def replies_to(self, message_id: str) -> list[dict[str, Any]]:
        return [
            m
            for m in self.api.messages[CHANNEL]
            if str((m.get("message_reference") or {}).get("message_id")) == message_id
        ]


@pytest.fixture
async def newsroom(tmp_path: Path) -> AsyncIterator[Newsroom]:
    api = await FakeDiscordAPI().start()
    gateway = await FakeDiscordGateway(api, [GUILD]).start()
    api.add_channel(CHANNEL, guild_id=GUILD.id)
    feeds = await FeedServer().start()
    feeds.feed("/wire.xml", rss_document("Border Wire", []))
    feeds.feed("/other.xml", rss_document("Other Outlet", []))
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(
        "\n".join(
            f'[[feeds]]\nname = "{name}"\nurl = "{feeds.url(path)}"\nlanguage = "en"\n'
            for name, path in (("Border Wire", "/wire.xml"), ("Other Outlet", "/other.xml"))
        )
    )
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path / 'e2e.db'}",
        FEEDS_FILE=str(feeds_file),
        DISCORD_TOKEN=BOT_TOKEN,
        DISCORD_API_BASE_URL=api.base_url,
        DISCORD_GUILD_ID=GUILD.id,
        DISCORD_ALERT_CHANNEL=CHANNEL,
    )
    engine = create_engine(settings.database_url)
    await upgrade_database(engine)
    sessions = session_factory(engine)
    clock = [datetime.now(UTC) - timedelta(minutes=25)]
    async with sessions() as session, session.begin():
        await sync_sources(session, load_sources(feeds_file), clock[0])
    catalog = load_topics(settings.topics_file)
    runtime = build_discord_runtime(settings, NewsService(sessions, catalog), sessions)
    await runtime.start_posting()
    await runtime.start_listening()  # subscribes the alert channel to the beat
    ingest = Ingestor(StoryPipeline(catalog, settings), timedelta(hours=settings.alert_max_age_hours))
    poller = FeedPoller(sessions, settings, ingest, owner="e2e", clock=lambda: clock[0])
    sender = DeliverySender(
        sessions, {"discord": runtime.poster}, worker_id="e2e", channel_interval=0.0, clock=lambda: clock[0]
    )
    room = Newsroom(api, gateway, feeds, runtime, poller, sender, sessions, clock)
    try:
        await room.poll_and_deliver()  # the first poll is the (empty) backlog: stored silently
        yield room
    finally:
        await poller.aclose()
        await runtime.stop()
        await feeds.stop()
        await gateway.close()
        await api.close()
        await engine.dispose()


def wire(*items: FeedItem) -> bytes:
    return rss_document("Border Wire", list(items))


async def test_feeds_to_discord_new_duplicate_update_injection_and_search(newsroom: Newsroom) -> None:
    room = newsroom
    published = room.clock[0]
    assert room.api.messages[CHANNEL] == []
    deserters_item = FeedItem(
        "Hundreds of Venezuelan soldiers desert to Colombia",
        "https://wire.example/deserters",
        summary=DESERTERS.format(n=326),
        published=published,
    )
    aid_item = FeedItem(HOSTILE, "https://wire.example/aid", summary=AID, published=published)
    room.feeds.feed("/wire.xml", wire(deserters_item, aid_item))
    await room.next_poll()

    alerts = room.alerts()
    assert len(alerts) == 2, [m["embeds"][0]["title"] for m in room.api.messages[CHANNEL]]
    deserters = next(m for m in alerts if "desert" in m["embeds"][0]["title"])
    embed = deserters["embeds"][0]
    assert embed["url"] == "https://wire.example/deserters"
    assert any(field["name"] == "Why it matched" for field in embed["fields"])
    assert "Border Wire" in embed["footer"]["text"]
    # Mention injection: nothing pings, and the embed shows no live mention either.
    assert all(m["would_ping"] == [] and m["allowed_mentions"] == {"parse": []} for m in alerts)
    rendered = json.dumps([m["embeds"] for m in alerts], ensure_ascii=False)
    for mention in ("@everyone", "@here", "<@123456789012345678>"):
        assert mention not in rendered
    assert "Aid convoy blocked" in rendered

    # Another outlet re-publishes the same wire copy: folded into the story, nothing posted.
    copy = FeedItem(deserters_item.title, "https://other.example/copy", summary=DESERTERS.format(n=326))
    room.feeds.feed("/other.xml", rss_document("Other Outlet", [copy]))
    await room.next_poll()
    assert len(room.api.messages[CHANNEL]) == 2

    # Later the count rises: one reply to the first alert, no new alert.
    more = FeedItem(
        "More Venezuelan soldiers desert to Colombia",
        "https://other.example/more",
        summary=DESERTERS.format(n=411),
        published=published + timedelta(minutes=20),
    )
    room.feeds.feed("/other.xml", rss_document("Other Outlet", [copy, more]))
    await room.next_poll()
    assert len(room.alerts()) == 2
    [reply] = room.replies_to(deserters["id"])
    assert "326" in json.dumps(reply["embeds"]) and "411" in json.dumps(reply["embeds"])

    # A reporter finds the story over the gateway.
    payload = room.gateway.command_interaction(GUILD, "news", "search", {"query": "deserters"})
    await room.gateway.send_interaction(payload)
    interaction = room.api.interactions[payload["token"]]
    for _ in range(2000):
        if interaction.followups or (interaction.callbacks and interaction.callbacks[0]["type"] == 4):
            break
        await asyncio.sleep(0.01)
    answer = json.dumps(interaction.callbacks + interaction.followups, ensure_ascii=False)
    assert "soldiers desert" in answer


async def test_a_429_storm_loses_nothing_and_duplicates_nothing(newsroom: Newsroom) -> None:
    room = newsroom
    published = room.clock[0]
    deserters = FeedItem(
        "Hundreds of Venezuelan soldiers desert to Colombia",
        "https://wire.example/deserters",
        summary=DESERTERS.format(n=326),
        published=published,
    )
    aid = FeedItem("Aid convoy blocked at Tienditas bridge", "https://wire.example/aid", summary=AID)
    # More 429s than discord.py retries in place: the first send gives up and the sender reschedules it;
    # the rest are absorbed by discord.py's own retries.
    room.api.rate_limit("POST", MESSAGES, times=8, retry_after=0.05)
    room.feeds.feed("/wire.xml", wire(deserters, aid))
    await room.next_poll()
    rescheduled_rounds = 0
    for _ in range(20):
        async with room.sessions() as session:
            rows = list((await session.execute(select(OutboxRow))).scalars())
        if rows and all(row.state == "sent" for row in rows):
            break
        rescheduled_rounds += 1
        room.later(1)  # past the retry_after the sender recorded
        await room.sender.drain()
    assert len(rows) == 2
    assert all(row.state == "sent" for row in rows), [(r.state, r.last_error) for r in rows]
    posted = room.api.messages[CHANNEL]
    assert sorted(m["id"] for m in posted) == sorted(str(row.message_id) for row in rows)
    assert len(room.api.calls_to("POST", MESSAGES)) > len(posted)  # the storm really happened
    assert rescheduled_rounds >= 1  # a send was handed back to the sender as RateLimited
