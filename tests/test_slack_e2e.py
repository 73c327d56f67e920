"""End to end, all on loopback: feeds served locally → poller → story pipeline → outbox → delivery sender
→ the Slack poster → the Slack fake. A new story alerts once, a duplicate from another outlet posts nothing,
changed figures land in the first alert's thread, and a headline built to ping the channel pings no one."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from config.settings import Settings, load_settings
from delivery.sender import DeliverySender
from feeds.schedule import FeedPoller
from feeds.sources import load_sources, sync_sources
from handlers.news.service import NewsService
from handlers.slack.runtime import SlackRuntime, build_slack_runtime
from runtime.ingest import Ingestor
from storage.db import create_engine, session_factory, upgrade_database
from storage.models import FeedRow
from stories.pipeline import StoryPipeline
from stories.topics import load_topics
from tests.fakes.feed_server import FeedItem, FeedServer, rss_document
from tests.fakes.slack_api import FakeSlack, signed_headers, slash_command_body

pytestmark = pytest.mark.slow

SECRET = "e2e-secret"
PING = re.compile(r"<(?!!date\^)[!@#]")
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


@dataclass
class Newsroom:
    fake: FakeSlack
    feeds: FeedServer
    settings: Settings
    runtime: SlackRuntime
    poller: FeedPoller
    sender: DeliverySender
    sessions: Any
    clock: list[datetime]

    async def poll_and_deliver(self) -> None:
        await self.poller.tick()
        await self.sender.drain()

    def later(self, minutes: int) -> None:
        self.clock[0] += timedelta(minutes=minutes)


@pytest.fixture
async def newsroom(tmp_path: Path) -> AsyncIterator[Newsroom]:
    fake = FakeSlack(message_interval=0.0)
    fake.add_channel("C1", "border-desk")
    fake.add_user("U1", "reporter")
    await fake.start()
    feeds = await FeedServer().start()
    published = datetime.now(UTC) - timedelta(minutes=30)
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
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_BASE_URL=fake.base_url,
        SLACK_HTTP_PORT=0,
        SLACK_ALERT_CHANNEL="C1",
    )
    engine = create_engine(settings.database_url)
    await upgrade_database(engine)
    sessions = session_factory(engine)
    clock = [published + timedelta(minutes=5)]
    async with sessions() as session, session.begin():
        await sync_sources(session, load_sources(feeds_file), clock[0])
    catalog = load_topics(settings.topics_file)
    runtime = build_slack_runtime(settings, NewsService(sessions, catalog), sessions, http_host="127.0.0.1")
    await runtime.start_listening()
    ingest = Ingestor(StoryPipeline(catalog, settings), timedelta(hours=settings.alert_max_age_hours))
    poller = FeedPoller(sessions, settings, ingest, owner="e2e", clock=lambda: clock[0])
    sender = DeliverySender(
        sessions, {"slack": runtime.poster}, worker_id="e2e", channel_interval=0.0, clock=lambda: clock[0]
    )
    room = Newsroom(fake, feeds, settings, runtime, poller, sender, sessions, clock)
    try:
        # The first poll of a feed is its backlog: stored silently. Alerts start with what comes after it.
        await room.poll_and_deliver()
        yield room
    finally:
        await poller.aclose()
        await runtime.stop()
        await feeds.stop()
        await fake.stop()
        await engine.dispose()


async def make_due(room: Newsroom) -> None:
    async with room.sessions() as session, session.begin():
        await session.execute(update(FeedRow).values(next_poll_at=room.clock[0] - timedelta(seconds=1)))


async def test_feeds_to_slack_new_duplicate_update_and_injection(newsroom: Newsroom) -> None:
    room = newsroom
    published = room.clock[0]
    assert room.fake.messages["C1"] == []  # the (empty) backlog alerted nobody
    room.feeds.feed(
        "/wire.xml",
        rss_document(
            "Border Wire",
            [
                FeedItem(
                    "Hundreds of Venezuelan soldiers desert to Colombia",
                    "https://wire.example/deserters",
                    summary=DESERTERS.format(n=326),
                    published=published,
                ),
                FeedItem(
                    "<!channel> <@U0123> Aid convoy blocked at Tienditas bridge <!here>",
                    "https://wire.example/aid",
                    summary=AID,
                    published=published,
                ),
            ],
        ),
    )
    room.later(10)
    await make_due(room)
    await room.poll_and_deliver()

    alerts = room.fake.top_level("C1")
    assert len(alerts) == 2, [m["text"] for m in room.fake.messages["C1"]]
    rendered = json.dumps([m["blocks"] for m in alerts]) + " ".join(m["text"] for m in alerts)
    # feedparser drops `<!channel>`/`<!here>` as markup already; `<@U0123>` survives and is escaped.
    assert "&lt;@U0123&gt;" in rendered and not PING.search(rendered)
    assert all(call.params.get("link_names") is None for call in room.fake.calls_to("chat.postMessage"))
    deserters = next(m for m in alerts if "desert" in m["text"])

    # Another outlet re-publishes the same wire copy: folded into the story, nothing posted.
    room.feeds.feed(
        "/other.xml",
        rss_document(
            "Other Outlet",
            [
                FeedItem(
                    "Hundreds of Venezuelan soldiers desert to Colombia",
                    "https://other.example/copy",
                    summary=DESERTERS.format(n=326),
                    published=published,
                )
            ],
        ),
    )
    room.later(10)
    await make_due(room)
    await room.poll_and_deliver()
    assert len(room.fake.messages["C1"]) == 2

    # Later the count rises: one reply in the first alert's thread, no new alert.
    room.feeds.feed(
        "/other.xml",
        rss_document(
            "Other Outlet",
            [
                FeedItem(
                    "Hundreds of Venezuelan soldiers desert to Colombia",
                    "https://other.example/copy",
                    summary=DESERTERS.format(n=326),
                    published=published,
                ),
                FeedItem(
                    "More Venezuelan soldiers desert to Colombia",
                    "https://other.example/more",
                    summary=DESERTERS.format(n=411),
                    published=published + timedelta(minutes=20),
                ),
            ],
        ),
    )
    room.later(10)
    await make_due(room)
    await room.poll_and_deliver()
    assert len(room.fake.top_level("C1")) == 2
    [reply] = room.fake.replies("C1", deserters["ts"])
    assert "326" in reply["text"] and "411" in reply["text"]

    # And a reporter finds the story with /news, answered inside the ack.
    body = slash_command_body("deserters", response_url=room.fake.response_url())
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{room.runtime.http_port}/slack/events",
            data=body,
            headers=signed_headers(SECRET, body),
        ) as response,
    ):
        answer = await response.json()
    assert "soldiers desert" in json.dumps(answer["blocks"])
