"""The spine end to end in one process: feed server → poller → pipeline → outbox → sender → a poster.

First poll stores the backlog silently; a new on-beat entry alerts once; an on-beat entry older than
ALERT_MAX_AGE_HOURS is stored but not alerted; a restart (new engine, pipeline, poller and sender on the same
store) re-alerts nothing even when the server's body changes and everything is re-parsed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from config.settings import DEFAULT_TOPICS_FILE, Settings, load_settings
from delivery.sender import DeliverySender
from feeds.schedule import FeedPoller
from feeds.sources import load_sources, sync_sources
from runtime.ingest import Ingestor
from storage import channels_repo
from storage.db import create_engine, session_factory, upgrade_database
from storage.models import EntryRow, FeedRow, OutboxRow
from stories.model import Alert, AlertKind, PostedMessage
from stories.pipeline import StoryPipeline
from stories.topics import load_topics
from tests.fakes.feed_server import FeedItem, FeedServer, rss_document
from values.chat import ChannelRef

# Three different border events: the pipeline must keep them apart as three stories.
BORDER_STORIES = {
    "backlog": (
        "Venezuelan soldiers desert to Colombia at Cúcuta crossing",
        "A total of 120 members of Venezuela's armed forces have deserted and crossed into Colombia through "
        "the Simón Bolívar bridge near Cúcuta, Migración Colombia said on Monday.",
    ),
    "fresh": (
        "Aid trucks stuck at Tienditas bridge as Venezuela keeps border shut",
        "Ten trucks carrying 200 tonnes of food waited on the Colombian side of the Tienditas bridge on "
        "Wednesday after Venezuelan troops blocked the crossing with containers.",
    ),
    "stale": (
        "Colombia counts migrants crossing at Paraguachón in La Guajira",
        "About 3,500 Venezuelan migrants crossed into Colombia at Paraguachón in La Guajira last week, "
        "the Colombian migration agency said, as Venezuela's border guards looked on.",
    ),
}


@dataclass
class RecordingPoster:
    platform: str = "console"
    posted: list[tuple[str, Alert]] = field(default_factory=list)

    async def post(
        self, channel: str, alert: Alert, *, thread: PostedMessage | None, idempotency_key: str
    ) -> PostedMessage:
        self.posted.append((channel, alert))
        return PostedMessage(self.platform, channel, str(len(self.posted)))

    async def find_posted(self, channel: str, idempotency_key: str) -> PostedMessage | None:
        return None


def border_item(slug: str, published: datetime) -> FeedItem:
    title, summary = BORDER_STORIES[slug]
    return FeedItem(title=title, link=f"https://wire.example/{slug}", summary=summary, published=published)


def city_item(slug: str, published: datetime) -> FeedItem:
    return FeedItem(
        title=f"Council approves park budget ({slug})",
        link=f"https://city.example/{slug}",
        summary="The city council approved $4 million for 12 parks.",
        published=published,
    )


class Desk:
    """One 'process': engine, pipeline, poller and sender over a store file."""

    def __init__(self, settings: Settings, poster: RecordingPoster) -> None:
        self.settings = settings
        self.engine = create_engine(settings.database_url)
        self.sessions = session_factory(self.engine)
        pipeline = StoryPipeline(load_topics(DEFAULT_TOPICS_FILE), settings)
        self.poller = FeedPoller(
            self.sessions, settings, Ingestor(pipeline, timedelta(hours=settings.alert_max_age_hours))
        )
        self.sender = DeliverySender.from_settings(
            settings, self.sessions, {"console": poster}, worker_id="test"
        )

    async def start(self, feeds_file: Path) -> None:
        await upgrade_database(self.engine)
        async with self.sessions.begin() as session:
            await sync_sources(session, load_sources(feeds_file), datetime.now(UTC))
            channel = await channels_repo.ensure_channel(
                session, ChannelRef("console", "desk"), datetime.now(UTC)
            )
            await channels_repo.subscribe(
                session, channel.id, "venezuela-colombia-border", "test", datetime.now(UTC)
            )

    async def poll_now(self) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(FeedRow).values(next_poll_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        await self.poller.tick()

    async def count(self, model: type, *where: object) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def close(self) -> None:
        await self.poller.aclose()
        await self.engine.dispose()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


async def test_backlog_silent_new_alerted_old_stored_restart_quiet(
    server: FeedServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    backlog = [border_item("backlog", now - timedelta(hours=1)), city_item("parks", now - timedelta(hours=1))]
    url = server.feed("/wire.xml", rss_document("Wire", backlog))
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(f'[[feeds]]\nname = "Wire"\nurl = "{url}"\nlanguage = "en"\n', encoding="utf-8")
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}",
        ALERT_MAX_AGE_HOURS=6,
        DELIVERY_CHANNEL_INTERVAL_SECONDS=0,
    )
    poster = RecordingPoster()

    desk = Desk(settings, poster)
    await desk.start(feeds_file)
    await desk.poll_now()
    assert await desk.count(EntryRow) == 2
    assert await desk.count(OutboxRow) == 0  # the backlog is stored, never alerted

    fresh = border_item("fresh", now - timedelta(minutes=5))
    stale = border_item("stale", now - timedelta(hours=10))  # first seen now, published too long ago
    server.feed("/wire.xml", rss_document("Wire", [fresh, stale, *backlog]))
    await desk.poll_now()
    assert await desk.count(EntryRow) == 4  # everything is stored and searchable...
    await desk.sender.drain()
    titles = [alert.story.title for _, alert in poster.posted if alert.story]
    assert titles == [fresh.title]  # ...but only the fresh on-beat entry is alerted
    assert poster.posted[0][1].kind is AlertKind.NEW
    await desk.close()

    # Restart: a new process on the same store, and the server's body changes (new order, new ETag).
    restarted = Desk(settings, poster)
    await restarted.start(feeds_file)
    server.feed("/wire.xml", rss_document("Wire", [*backlog, stale, fresh]))
    await restarted.poll_now()
    await restarted.sender.drain()
    assert len(poster.posted) == 1
    assert await restarted.count(EntryRow) == 4
    assert await restarted.count(OutboxRow, OutboxRow.state == "sent") == 1
    await restarted.close()


DESERTERS = (
    "A total of {n} members of Venezuela's armed forces have deserted and crossed into Colombia since "
    "Saturday, Migración Colombia said.{extra} At least 20 deserters arrived in Cúcuta on Tuesday, and the "
    "armed forces number about 365,000."
)


async def test_first_report_and_its_revision_in_one_poll_read_in_order(
    server: FeedServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    url = server.feed("/wire.xml", rss_document("Wire", [city_item("parks", now - timedelta(hours=2))]))
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(f'[[feeds]]\nname = "Wire"\nurl = "{url}"\nlanguage = "en"\n', encoding="utf-8")
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}", DELIVERY_CHANNEL_INTERVAL_SECONDS=0
    )
    poster = RecordingPoster()
    desk = Desk(settings, poster)
    await desk.start(feeds_file)
    await desk.poll_now()  # backlog

    first = FeedItem(
        title="326 Venezuelan troops have deserted to Colombia",
        link="https://wire.example/326",
        summary=DESERTERS.format(n=326, extra=""),
        published=now - timedelta(minutes=40),
    )
    revised = FeedItem(
        title="Venezuelan military deserters in Colombia rise to 411",
        link="https://wire.example/411",
        summary=DESERTERS.format(n=411, extra=" The count was 326 a day earlier."),
        published=now - timedelta(minutes=5),
    )
    server.feed("/wire.xml", rss_document("Wire", [revised, first]))  # newest first, as feeds list them
    await desk.poll_now()
    await desk.sender.drain()

    kinds = [alert.kind for _, alert in poster.posted]
    assert kinds == [AlertKind.NEW, AlertKind.UPDATE]
    new_alert, update = poster.posted[0][1], poster.posted[1][1]
    assert new_alert.story is not None
    shown = {figure.value for figure in new_alert.story.figures}
    assert 326 in shown and 411 not in shown  # the first alert reads as the first report did
    assert [(c.old.value, c.new.value) for c in update.changes if c.old and c.new] == [(326, 411)]
    await desk.close()
