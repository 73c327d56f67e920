"""The delivery sender draining the outbox into the Slack fake through the real Slack poster:
a 429 storm loses nothing and keeps each channel's order, an update lands in its story's thread, a
message Slack stored before answering 5xx is found on the retry instead of being posted twice, and three
workers sending to one channel keep together to its rate."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import load_settings
from delivery.sender import DeliverySender
from handlers.slack.clients import SingleTokenClients, make_client
from handlers.slack.poster import SlackPoster
from handlers.slack.runtime import build_slack_runtime
from storage import channels_repo
from storage.db import session_factory
from storage.models import OutboxRow, StoryRow
from storage.outbox import enqueue_alerts
from stories.model import Entry, FigureChange, KeyFigure, StoryCluster, StoryEvent, StoryEventKind
from tests.fakes.slack_api import FakeSlack
from values.chat import ChannelRef

BEAT = "venezuela-colombia-border"
STORIES = 6


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(message_interval=0.0)
    slack.add_channel("C1", "border-desk")
    slack.add_channel("C2", "politics-desk")
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


async def queue_stories(
    engine: AsyncEngine, now: datetime, *, channels: tuple[str, ...] = ("C1", "C2"), count: int = STORIES
) -> list[int]:
    """Stories stored and their alerts queued, as ingest would have done."""
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        for channel in channels:
            row = await channels_repo.ensure_channel(session, ChannelRef("slack", channel, "T1"), now)
            await channels_repo.subscribe(session, row.id, BEAT, "test", now)
        events: list[StoryEvent] = []
        ids: list[int] = []
        for n in range(count):
            story = StoryRow(
                title=f"Border story number {n}",
                link=f"https://news.example/{n}",
                source="Example Wire",
                summary="",
                language="en",
                relevant=True,
                topics=[BEAT],
                matched=["frontera"],
                figures=[],
                revision=1,
                source_count=1,
                first_seen_at=now,
                published_at=now,
                updated_at=now,
            )
            session.add(story)
            await session.flush()
            ids.append(story.id)
            cluster = StoryCluster(
                story_id=story.id,
                title=story.title,
                link=story.link,
                source=story.source,
                summary="",
                language="en",
                topics=(BEAT,),
                matched=("frontera",),
                figures=(),
                first_seen=now,
                published=now,
            )
            entry = Entry(entry_id=f"e{n}", feed_name="wire", title=story.title, published=now)
            events.append(StoryEvent(kind=StoryEventKind.NEW, entry=entry, story=cluster))
        await enqueue_alerts(session, events, now, max_age=timedelta(hours=6))
    return ids


async def queue_update(engine: AsyncEngine, story_id: int, now: datetime) -> None:
    """The story's figures changed (326 → 411 deserters): an update alert queued for each channel."""
    async with session_factory(engine)() as session, session.begin():
        row = await session.get(StoryRow, story_id)
        assert row is not None
        row.revision = 2
        change = FigureChange(
            "deserters", KeyFigure(326.0, "326", "deserters"), KeyFigure(411.0, "411", "deserters")
        )
        cluster = StoryCluster(
            story_id=story_id,
            title=row.title,
            link=row.link,
            source=row.source,
            summary="",
            language="en",
            topics=(BEAT,),
            matched=(),
            figures=(),
            first_seen=now,
            published=now,
            revision=2,
        )
        entry = Entry(entry_id=f"e-update-{story_id}", feed_name="other", title=row.title, published=now)
        event = StoryEvent(kind=StoryEventKind.UPDATE, entry=entry, story=cluster, changes=(change,))
        await enqueue_alerts(session, [event], now, max_age=timedelta(hours=6))


class CountingSlackPoster(SlackPoster):
    """The production poster, counting what it got accepted (to see which sender did the work)."""

    posted = 0

    async def post(self, *args: Any, **kwargs: Any) -> Any:
        message = await super().post(*args, **kwargs)
        self.posted += 1
        return message


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def sender_for(engine: AsyncEngine, poster: SlackPoster, clock: Clock) -> DeliverySender:
    return DeliverySender(
        session_factory(engine),
        {"slack": poster},
        worker_id="w1",
        channel_interval=0.0,
        idle_seconds=0.01,
        clock=clock,
        rng=random.Random(3),
    )


async def outbox_states(engine: AsyncEngine) -> list[str]:
    async with session_factory(engine)() as session:
        return list((await session.execute(select(OutboxRow.state))).scalars())


async def test_a_post_stored_before_a_503_is_found_on_retry_not_posted_twice(
    fake: FakeSlack, engine: AsyncEngine
) -> None:
    """The production poster, retries left at their defaults: one `poster.post()` must not leave two copies,
    and the sender's retry reconciles through `find_posted` instead of posting again."""
    now = datetime.now(UTC)
    story_ids = await queue_stories(engine, now)
    fake.fail_next("chat.postMessage", "service_unavailable", status=503, after_effect=True)
    config = load_settings(
        SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="secret", SLACK_API_BASE_URL=fake.base_url
    )
    runtime = build_slack_runtime(config, object(), session_factory(engine))  # type: ignore[arg-type]
    clock = Clock(now)
    sender = sender_for(engine, runtime.poster, clock)

    await sender.drain()
    assert [c.status for c in fake.calls_to("chat.postMessage")].count(503) == 1
    assert "pending" in await outbox_states(engine)  # the 503 row waits for its backoff
    clock.now += timedelta(hours=1)
    await sender.drain()

    assert await outbox_states(engine) == ["sent"] * (2 * STORIES)
    assert len(fake.calls_to("chat.postMessage")) == 2 * STORIES  # nothing sent twice
    for channel in ("C1", "C2"):
        posted = [m["metadata"]["event_payload"]["story_id"] for m in fake.top_level(channel)]
        assert sorted(posted) == story_ids, channel


async def test_an_update_stored_before_a_503_is_found_in_its_thread_on_retry(
    fake: FakeSlack, engine: AsyncEngine
) -> None:
    """The sender hands `find_posted` the update's thread: found there even when the channel-wide search
    looks at no thread at all."""
    now = datetime.now(UTC)
    story_ids = await queue_stories(engine, now)
    poster = SlackPoster(SingleTokenClients(make_client("xoxb-test", fake.base_url)), reconcile_threads=0)
    clock = Clock(now)
    sender = sender_for(engine, poster, clock)
    await sender.drain()

    await queue_update(engine, story_ids[0], now)
    fake.fail_next("chat.postMessage", "internal_error", status=500, after_effect=True)
    await sender.drain()
    clock.now += timedelta(hours=1)
    await sender.drain()

    assert await outbox_states(engine) == ["sent"] * (2 * (STORIES + 1))
    for channel in ("C1", "C2"):
        parent = fake.top_level(channel)[0]
        [reply] = fake.replies(channel, parent["ts"])
        assert "326 → 411" in reply["text"]


async def test_a_429_storm_loses_nothing_and_keeps_channel_order(
    fake: FakeSlack, engine: AsyncEngine
) -> None:
    now = datetime.now(UTC)
    story_ids = await queue_stories(engine, now)
    for _ in range(9):
        fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=0)
    client = make_client("xoxb-test", fake.base_url, rate_limit_retries=0, server_error_retries=0)
    poster = SlackPoster(SingleTokenClients(client))
    sender = DeliverySender(
        session_factory(engine), {"slack": poster}, worker_id="w1", channel_interval=0.0, idle_seconds=0.01
    )
    await sender.drain()

    assert len([c for c in fake.calls_to("chat.postMessage") if c.status == 429]) == 9
    for channel in ("C1", "C2"):
        posted = [m["metadata"]["event_payload"]["story_id"] for m in fake.top_level(channel)]
        assert posted == story_ids, channel

    # A later update of the first story goes into the thread of that story's alert in each channel.
    await queue_update(engine, story_ids[0], now)
    await sender.drain()
    for channel in ("C1", "C2"):
        parent = fake.top_level(channel)[0]
        [reply] = fake.replies(channel, parent["ts"])
        assert "326 → 411" in reply["text"]
        assert len(fake.top_level(channel)) == STORIES


async def test_three_workers_keep_one_channel_within_its_rate(engine: AsyncEngine) -> None:
    """60 alerts for one channel, three senders draining at once: the Slack fake serves no 429.

    The channel's rate is scaled down (the fake allows one message per 0.2 s, the senders space by 0.25 s)
    so the run takes seconds; each sender keeps its own in-process state, as separate processes would.
    """
    slack = FakeSlack(message_interval=0.2)
    slack.add_channel("C1", "border-desk")
    await slack.start()
    try:
        now = datetime.now(UTC)
        story_ids = await queue_stories(engine, now, channels=("C1",), count=60)
        posters = [
            CountingSlackPoster(
                SingleTokenClients(make_client("xoxb-test", slack.base_url, rate_limit_retries=0))
            )
            for _ in range(3)
        ]
        senders = [
            DeliverySender(
                session_factory(engine),
                {"slack": poster},
                worker_id=f"w{n}",
                channel_interval=0.25,
                idle_seconds=0.02,
            )
            for n, poster in enumerate(posters)
        ]
        stop = asyncio.Event()
        running = [asyncio.create_task(sender.run(stop)) for sender in senders]

        async def all_sent() -> bool:
            return (await outbox_states(engine)).count("sent") == len(story_ids)

        for _ in range(1200):  # 60 s at most; ~20 s expected at the scaled rate
            if await all_sent():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*running)
    finally:
        await slack.stop()

    posts = slack.calls_to("chat.postMessage")
    assert [call.status for call in posts if call.status == 429] == []
    assert await all_sent()
    posted = [m["metadata"]["event_payload"]["story_id"] for m in slack.top_level("C1")]
    assert posted == story_ids  # each once, in order
    # The work really was shared, so it was the shared pace that kept the rate.
    assert sum(1 for poster in posters if poster.posted) >= 2
