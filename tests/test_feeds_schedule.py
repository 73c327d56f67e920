"""The poller end to end over loopback HTTP: leases, caching, health, backoff, isolation, restart."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.settings import Settings, load_settings
from feeds import health
from feeds.parse import FeedParser
from feeds.schedule import FeedPoller, PollOutcome
from feeds.sources import new_feed_row
from runtime.polling import PollingService
from storage import feeds_repo
from storage.db import session_factory
from storage.models import FeedRow
from stories.model import Entry, FeedSource
from tests.fakes.feed_server import FeedItem, FeedServer, rss_document

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class SinkCall:
    feed: str
    backlog_loaded: bool
    entries: list[Entry]


@dataclass
class RecordingSink:
    """Stands in for runtime.ingest.Ingestor: records what it got; can be told to fail."""

    calls: list[SinkCall] = field(default_factory=list)
    fail_for: set[str] = field(default_factory=set)

    async def __call__(
        self, session: AsyncSession, feed: FeedRow, entries: list[Entry], now: datetime
    ) -> list[Entry]:
        assert session.in_transaction()
        if feed.name in self.fail_for:
            raise RuntimeError("pipeline exploded")
        self.calls.append(SinkCall(feed.name, feed.backlog_loaded, list(entries)))
        return entries

    def for_feed(self, name: str) -> list[SinkCall]:
        return [call for call in self.calls if call.feed == name]


class CountingParser(FeedParser):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def parse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        return await super().parse(*args, **kwargs)


def items(count: int, *, every_minutes: int = 30, prefix: str = "item") -> list[FeedItem]:
    return [
        FeedItem(
            f"{prefix} {n}",
            f"https://e.org/{prefix}/{n}",
            guid=f"{prefix}-{n}",
            published=START - timedelta(minutes=every_minutes * n),
        )
        for n in range(count)
    ]


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        POLL_INTERVAL_SECONDS=300,
        POLL_MIN_SECONDS=60,
        POLL_MAX_SECONDS=3600,
        FETCH_TOTAL_TIMEOUT_SECONDS=1.0,
        FETCH_CONNECT_TIMEOUT_SECONDS=1.0,
        FETCH_CONCURRENCY=4,
        LEASE_SECONDS=60,
    )


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


@pytest.fixture
def sessions(sqlite_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(sqlite_engine)


@pytest.fixture
def both_engines_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """For the core poller behaviours, run on SQLite and on PostgreSQL."""
    return session_factory(engine)


async def add_feed(
    sessions: async_sessionmaker[AsyncSession], name: str, url: str, language: str = "en"
) -> int:
    async with sessions() as session, session.begin():
        row = new_feed_row(FeedSource(name, url, language), START, "file")
        session.add(row)
        await session.flush()
        return row.id


async def load(sessions: async_sessionmaker[AsyncSession], name: str) -> FeedRow:
    async with sessions() as session:
        row = await feeds_repo.get_feed(session, name)
        assert row is not None
        return row


@pytest.fixture
def poller_parts() -> tuple[Clock, RecordingSink, CountingParser]:
    return Clock(), RecordingSink(), CountingParser()


def make_poller(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    parts: tuple[Clock, RecordingSink, CountingParser],
    owner: str = "worker-1",
) -> FeedPoller:
    clock, sink, parser = parts
    return FeedPoller(sessions, settings, sink, parser=parser, owner=owner, clock=clock, rng=random.Random(7))


async def test_first_poll_stores_backlog_then_304_skips_parsing(
    server: FeedServer,
    both_engines_sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    poller_parts,
) -> None:
    sessions = both_engines_sessions
    clock, sink, parser = poller_parts
    await add_feed(sessions, "Desk", server.feed("/desk.xml", rss_document("Desk", items(3))))
    poller = make_poller(sessions, settings, poller_parts)
    try:
        first = await poller.tick()
        assert first.count(PollOutcome.FETCHED) == 1 and first.entries == 3
        (call,) = sink.calls
        assert call.backlog_loaded is False  # the first poll is the backlog: the sink must not alert
        assert [entry.entry_id for entry in call.entries] == ["item-0", "item-1", "item-2"]
        row = await load(sessions, "Desk")
        assert row.backlog_loaded and row.etag and row.last_success_at == START and row.lease_owner is None

        assert (await poller.tick()).results == []  # not due yet
        clock.advance(3600)
        second = await poller.tick()
        assert second.count(PollOutcome.NOT_MODIFIED) == 1
        assert len(sink.calls) == 1 and parser.calls == 1
        assert server.requests_to("/desk.xml")[-1].headers["If-None-Match"] == row.etag

        server.feed("/desk.xml", rss_document("Desk", items(4)))  # a new item: new ETag
        clock.advance(3600)
        await poller.tick()
        assert sink.calls[-1].backlog_loaded is True and len(sink.calls[-1].entries) == 4
    finally:
        await poller.aclose()


async def test_identical_body_is_not_parsed_again(
    server: FeedServer, sessions: async_sessionmaker[AsyncSession], settings: Settings, poller_parts
) -> None:
    clock, sink, parser = poller_parts
    url = server.feed("/same.xml", rss_document("Same", items(2)), etag=False, last_modified=None)
    await add_feed(sessions, "Same", url)
    poller = make_poller(sessions, settings, poller_parts)
    try:
        await poller.tick()
        clock.advance(7200)
        summary = await poller.tick()
    finally:
        await poller.aclose()
    assert summary.count(PollOutcome.UNCHANGED) == 1
    assert parser.calls == 1 and len(sink.calls) == 1
    assert server.hits("/same.xml") == 2


async def test_slow_feed_does_not_delay_the_others(
    server: FeedServer,
    both_engines_sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    poller_parts,
) -> None:
    sessions = both_engines_sessions
    clock, sink, parser = poller_parts
    released = asyncio.Event()
    body = rss_document("Slow", items(1, prefix="slow"))

    async def waits_for_the_fast_feed(request: web.Request) -> web.StreamResponse:
        # Answers only once the fast feed has been stored, so a poller that serialised feeds would time out.
        await asyncio.wait_for(released.wait(), timeout=5)
        return web.Response(body=body, content_type="application/rss+xml")

    await add_feed(sessions, "Slow", server.route("/slow.xml", waits_for_the_fast_feed))
    await add_feed(sessions, "Broken", server.status("/broken.xml", 500))
    await add_feed(sessions, "Fast", server.feed("/fast.xml", rss_document("Fast", items(2, prefix="fast"))))

    original = sink.__call__

    async def releasing_sink(session, feed, entries, now):  # type: ignore[no-untyped-def]
        result = await original(session, feed, entries, now)
        if feed.name == "Fast":
            released.set()
        return result

    poller = FeedPoller(sessions, settings, releasing_sink, parser=parser, owner="w", clock=clock)
    try:
        summary = await poller.tick()
    finally:
        await poller.aclose()
    outcomes = {result.feed_name: result.outcome for result in summary.results}
    assert outcomes == {
        "Slow": PollOutcome.FETCHED,
        "Fast": PollOutcome.FETCHED,
        "Broken": PollOutcome.FAILED,
    }
    assert [call.feed for call in sink.calls] == ["Fast", "Slow"]


async def test_failures_back_off_and_are_shown_in_health(
    server: FeedServer, sessions: async_sessionmaker[AsyncSession], settings: Settings, poller_parts
) -> None:
    clock, _sink, _parser = poller_parts
    await add_feed(sessions, "Broken", server.status("/broken.xml", 500))
    poller = make_poller(sessions, settings, poller_parts)
    waits = []
    try:
        for _ in range(3):
            await poller.tick()
            row = await load(sessions, "Broken")
            waits.append((row.next_poll_at - clock.now).total_seconds())
            clock.now = row.next_poll_at
    finally:
        await poller.aclose()
    assert row.consecutive_failures == 3 and row.last_error_kind == "http_500"
    assert "HTTP 500" in (row.last_error or "") and row.last_error_at is not None
    low, high = 1 - health.BACKOFF_JITTER, 1 + health.BACKOFF_JITTER
    for attempt, wait in enumerate(waits):
        expected = settings.poll_min_seconds * 2**attempt
        assert expected * low <= wait <= expected * high
    async with sessions() as session:
        (line,) = await feeds_repo.feed_health(session)
    assert line.status == "failing" and line.consecutive_failures == 3 and line.last_success_at is None


async def test_retry_after_sets_the_next_poll(
    server: FeedServer, sessions: async_sessionmaker[AsyncSession], settings: Settings, poller_parts
) -> None:
    await add_feed(sessions, "Busy", server.rate_limited("/busy.xml", "900"))
    poller = make_poller(sessions, settings, poller_parts)
    try:
        await poller.tick()
    finally:
        await poller.aclose()
    row = await load(sessions, "Busy")
    assert row.next_poll_at == START + timedelta(seconds=900)
    assert row.last_error_kind == "rate_limited" and row.enabled


async def test_gone_disables_the_feed(
    server: FeedServer, sessions: async_sessionmaker[AsyncSession], settings: Settings, poller_parts
) -> None:
    clock, _sink, _parser = poller_parts
    await add_feed(sessions, "Dead", server.gone("/dead.xml"))
    poller = make_poller(sessions, settings, poller_parts)
    try:
        await poller.tick()
        clock.advance(86_400)
        assert (await poller.tick()).results == []
    finally:
        await poller.aclose()
    row = await load(sessions, "Dead")
    assert row.enabled is False and "gone" in (row.disabled_reason or "")
    assert server.hits("/dead.xml") == 1


async def test_permanent_redirect_updates_the_stored_url(
    server: FeedServer, sessions: async_sessionmaker[AsyncSession], settings: Settings, poller_parts
) -> None:
    new_url = server.feed("/new.xml", rss_document("Moved", items(1)))
    await add_feed(sessions, "Moved", server.redirect("/old.xml", "/new.xml", status=308))
    poller = make_poller(sessions, settings, poller_parts)
    try:
        await poller.tick()
    finally:
        await poller.aclose()
    row = await load(sessions, "Moved")
    assert row.url == new_url and row.configured_url.endswith("/old.xml")


async def test_interval_adapts_to_how_often_the_feed_publishes(
    server: FeedServer, sessions: async_sessionmaker[AsyncSession], settings: Settings, poller_parts
) -> None:
    await add_feed(
        sessions, "Busy", server.feed("/busy.xml", rss_document("Busy", items(10, every_minutes=6)))
    )
    await add_feed(
        sessions, "Quiet", server.feed("/quiet.xml", rss_document("Quiet", items(10, every_minutes=24 * 60)))
    )
    poller = make_poller(sessions, settings, poller_parts)
    try:
        await poller.tick()
    finally:
        await poller.aclose()
    busy, quiet = await load(sessions, "Busy"), await load(sessions, "Quiet")
    assert busy.current_interval_seconds == max(settings.poll_min_seconds, 6 * 60 // health.POLLS_PER_GAP)
    assert quiet.current_interval_seconds == settings.poll_max_seconds  # clamped
    assert busy.next_poll_at < quiet.next_poll_at


async def test_restart_resumes_from_the_persisted_schedule(
    server: FeedServer,
    both_engines_sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    poller_parts,
) -> None:
    sessions = both_engines_sessions
    clock, _sink, _parser = poller_parts
    for name in ("A", "B"):
        await add_feed(sessions, name, server.feed(f"/{name}.xml", rss_document(name, items(2, prefix=name))))
    first = make_poller(sessions, settings, poller_parts, owner="before-restart")
    try:
        await first.tick()
    finally:
        await first.aclose()
    clock.advance(30)
    restarted = make_poller(sessions, settings, poller_parts, owner="after-restart")
    try:
        assert (await restarted.tick()).results == []  # nothing re-polled at start
        earliest = min([(await load(sessions, name)).next_poll_at for name in ("A", "B")])
        clock.now = earliest
        assert len((await restarted.tick()).results) >= 1
    finally:
        await restarted.aclose()
    assert server.hits("/A.xml") + server.hits("/B.xml") >= 3


async def test_sink_failure_rolls_back_and_is_retried(
    server: FeedServer,
    both_engines_sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    poller_parts,
) -> None:
    sessions = both_engines_sessions
    clock, sink, _parser = poller_parts
    await add_feed(sessions, "Flaky", server.feed("/flaky.xml", rss_document("Flaky", items(2))))
    sink.fail_for.add("Flaky")
    poller = make_poller(sessions, settings, poller_parts)
    try:
        summary = await poller.tick()
        row = await load(sessions, "Flaky")
        assert summary.count(PollOutcome.FAILED) == 1
        assert row.backlog_loaded is False and row.etag is None and row.body_hash is None
        assert row.last_error_kind == "ingest" and row.consecutive_failures == 1
        sink.fail_for.clear()
        clock.now = row.next_poll_at
        summary = await poller.tick()
    finally:
        await poller.aclose()
    assert summary.count(PollOutcome.FETCHED) == 1  # full body again, not a 304
    assert sink.calls[0].backlog_loaded is False


async def test_bozo_feed_is_used_and_noted_in_health(
    server: FeedServer, sessions: async_sessionmaker[AsyncSession], settings: Settings, poller_parts
) -> None:
    _clock, sink, _parser = poller_parts
    body = rss_document("Broken", items(3)).replace(b"<title>item 1</title>", b"<title>item 1 & more</title>")
    await add_feed(sessions, "Broken XML", server.raw("/b.xml", body))
    await add_feed(sessions, "Web page", server.html_page("/page.html"))
    poller = make_poller(sessions, settings, poller_parts)
    try:
        await poller.tick()
    finally:
        await poller.aclose()
    assert len(sink.for_feed("Broken XML")[0].entries) == 3
    async with sessions() as session:
        lines = {line.name: line for line in await feeds_repo.feed_health(session)}
    assert lines["Broken XML"].status == "warning" and "malformed" in (
        lines["Broken XML"].parse_warning or ""
    )
    assert lines["Web page"].last_error_kind == "not_a_feed" and lines["Web page"].status == "failing"


async def test_scheduler_runs_the_tick(
    server: FeedServer, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """The tick on APScheduler as a process runs it (`runtime.polling.PollingService`): the first at once."""
    await add_feed(sessions, "Desk", server.feed("/desk.xml", rss_document("Desk", items(1))))
    polled = asyncio.Event()

    async def sink(session: AsyncSession, feed: FeedRow, entries: list[Entry], now: datetime) -> list[object]:
        polled.set()
        return []

    service = PollingService(sessions, settings, sink, owner="test")
    service.start()
    try:
        await asyncio.wait_for(polled.wait(), timeout=10)
    finally:
        # Waits for the tick still recording its poll, so the store is not torn down under it.
        await service.stop(10)
    assert service.ticks == 1  # the first tick ran at start; the next is SCHEDULER_TICK_SECONDS on


async def test_stop_leasing_lets_the_tick_finish_without_taking_more_feeds(
    server: FeedServer,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    poller_parts,
) -> None:
    one_at_a_time = settings.model_copy(update={"fetch_concurrency": 1})
    started, release = asyncio.Event(), asyncio.Event()
    body = rss_document("First", items(1, prefix="first"))

    async def held_until_released(request: web.Request) -> web.StreamResponse:
        started.set()
        await asyncio.wait_for(release.wait(), timeout=5)
        return web.Response(body=body, content_type="application/rss+xml")

    await add_feed(sessions, "First", server.route("/first.xml", held_until_released))
    await add_feed(sessions, "Second", server.feed("/second.xml", rss_document("Second", items(1))))
    poller = make_poller(sessions, one_at_a_time, poller_parts)
    try:
        ticking = asyncio.create_task(poller.tick())
        await asyncio.wait_for(started.wait(), timeout=5)
        poller.stop_leasing()
        release.set()
        summary = await asyncio.wait_for(ticking, timeout=5)
    finally:
        await poller.aclose()
    assert [result.outcome for result in summary.results] == ["fetched"]
    assert server.hits("/second.xml") == 0  # still due, left for the next process
    assert (await load(sessions, "Second")).lease_owner is None


async def test_a_feed_lease_is_renewed_while_its_fetch_runs_and_nobody_else_polls_it(
    server: FeedServer,
    both_engines_sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    poller_parts,
) -> None:
    """A fetch slower than the lease keeps the feed: another worker finds nothing due meanwhile.

    The fake clock jumps far past the lease while the fetch is held; the renewal runs every third of the
    (short) lease in real time, and the test waits for it with a wide margin.
    """
    sessions = both_engines_sessions
    clock, _sink, _parser = poller_parts
    short_lease = settings.model_copy(update={"lease_seconds": 1, "fetch_total_timeout_seconds": 30.0})
    started, release = asyncio.Event(), asyncio.Event()
    body = rss_document("Slow", items(1, prefix="slow"))

    async def held_until_released(request: web.Request) -> web.StreamResponse:
        started.set()
        await asyncio.wait_for(release.wait(), timeout=20)
        return web.Response(body=body, content_type="application/rss+xml")

    await add_feed(sessions, "Slow", server.route("/slow.xml", held_until_released))
    poller = make_poller(sessions, short_lease, poller_parts, owner="live")
    other = make_poller(sessions, short_lease, poller_parts, owner="other")
    try:
        ticking = asyncio.create_task(poller.tick())
        await asyncio.wait_for(started.wait(), timeout=10)
        clock.advance(3600)  # an hour past the lease the poller took

        async def renewed() -> bool:
            row = await load(sessions, "Slow")
            until = row.lease_until
            return until is not None and (until if until.tzinfo else until.replace(tzinfo=UTC)) > clock()

        for _ in range(200):
            if await renewed():
                break
            await asyncio.sleep(0.05)
        assert await renewed(), "the live poller's feed lease was not renewed within 10 s"
        assert (await other.tick()).results == []  # not taken over mid-fetch
        release.set()
        summary = await asyncio.wait_for(ticking, timeout=20)
    finally:
        release.set()
        await poller.aclose()
        await other.aclose()
    assert [result.outcome for result in summary.results] == [PollOutcome.FETCHED]
    assert server.hits("/slow.xml") == 1
    assert (await load(sessions, "Slow")).lease_owner is None
