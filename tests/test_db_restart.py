"""The database goes away under a running bot and comes back: nothing is lost or sent twice.

PostgreSQL: a throwaway cluster of the test's own (`tests/fakes/postgres_cluster.py`; never the shared
server) backs a real `bot.py run --role all` process that polls loopback feeds and posts to the Slack
contract fake. With 30 alerts queued and some of them sent, the server is stopped for a few seconds and
started again. Checked: `/healthz` names the database while it is down; after it is back, polling resumes
within 30 s (entries published after the restart are stored and alerted), every served entry is stored once,
every alert reaches its channel exactly once (by the idempotency key in its Slack metadata), and the outage
is recorded for `/news feeds`.

SQLite: a file locked by another process makes writes fail; the poll that hit it is stored once the lock
is gone, and the failure is one plain log line, not a traceback per query.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.models import ChannelRow, FeedRow, OutboxRow, StoreOutageRow
from storage.outbox import idempotency_key
from tests.fakes.postgres_cluster import ThrowawayCluster, find_pg_bin, free_port
from tests.fakes.slack_api import FakeSlack
from tests.test_scaleout import (
    FeedFarm,
    Store,
    beat_topic,
    off_beat_item,
    on_beat_item,
    spawn_worker,
    stop_workers,
    wait_until,
    worker_environment,
)

CHANNELS = ["C0DESK1", "C0DESK2", "C0DESK3"]
FEEDS = 30
STORIES_BEFORE = 10  # x 3 channels: 30 alerts in flight when the database goes
STORIES_AFTER = 3
DOWN_SECONDS = 6.0
RESUME_BOUND_SECONDS = 30.0
POLL_SECONDS = 4


@pytest.fixture
def cluster() -> ThrowawayCluster:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed here (CI installs them)")
    running = ThrowawayCluster(bin_dir)
    running.init()
    running.start()
    try:
        yield running  # type: ignore[misc]
    finally:
        running.remove()


async def healthz(port: int) -> tuple[int, dict[str, str]]:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as response:
            return response.status, (await response.json())["checks"]
    except aiohttp.ClientError:
        return 0, {}


@pytest.mark.slow
async def test_a_postgresql_restart_under_a_running_bot_loses_nothing(
    cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    rng = random.Random(12)
    slack = FakeSlack()
    for channel in CHANNELS:
        slack.add_channel(channel)
    await slack.start()
    farm = FeedFarm(FEEDS)
    await farm.start()
    then = datetime.now(UTC) - timedelta(hours=1)
    for number in range(FEEDS):
        farm.serve(number, [off_beat_item(rng, f"f{number}-old", then)])
    feeds_file = farm.write_feeds_file(tmp_path / "feeds.toml", interval_seconds=POLL_SECONDS)
    metrics_port = free_port()
    env = worker_environment(
        cluster.url,
        feeds_file,
        "restart-worker",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="restart-test-secret",
        SLACK_API_BASE_URL=slack.base_url,
        SLACK_HTTP_PORT=str(free_port()),
        METRICS_PORT=str(metrics_port),
        POLL_INTERVAL_SECONDS=str(POLL_SECONDS),
        POLL_MIN_SECONDS="2",
        POLL_MAX_SECONDS=str(POLL_SECONDS),
    )
    store = Store(cluster.url)
    worker = spawn_worker(env, tmp_path, role="all")
    try:
        assert await wait_until(_backlog_done(store), within=60), "first polls did not finish"
        await store.subscribe("slack", CHANNELS, beat_topic(), "T1")
        now = datetime.now(UTC)
        for number in range(STORIES_BEFORE):
            farm.publish(number, on_beat_item(rng, f"f{number}-before", now))

        async def all_queued() -> bool:
            return sum((await store.outbox_states()).values()) >= STORIES_BEFORE * len(CHANNELS)

        assert await wait_until(all_queued, within=60, interval=0.1), "the alerts were not queued"
        in_flight = await store.outbox_states()
        await store.close()  # the test's own pool must not keep the server from stopping

        cluster.stop()
        down_at = time.monotonic()

        async def health_names_the_database() -> bool:
            status, checks = await healthz(metrics_port)
            return status == 503 and checks.get("database", "").startswith("unusable")

        saw_unhealthy = await wait_until(health_names_the_database, within=DOWN_SECONDS + 10, interval=0.2)
        await asyncio.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
        cluster.start()
        back_at = datetime.now(UTC)

        later = datetime.now(UTC)
        for number in range(STORIES_BEFORE, STORIES_BEFORE + STORIES_AFTER):
            farm.publish(number, on_beat_item(rng, f"f{number}-after", later))

        store = Store(cluster.url)

        async def polled_since_back() -> bool:
            polled = await store.scalar(
                select(func.count()).where(FeedRow.last_polled_at > back_at).select_from(FeedRow)
            )
            return int(polled) > 0

        resumed = await wait_until(polled_since_back, within=RESUME_BOUND_SECONDS, interval=0.25)
        resumed_after = (datetime.now(UTC) - back_at).total_seconds()
        expected_alerts = (STORIES_BEFORE + STORIES_AFTER) * len(CHANNELS)

        async def all_delivered() -> bool:
            return (
                await store.entries() == farm.served_entries
                and (await store.outbox_states())["sent"] >= expected_alerts
            )

        assert await wait_until(all_delivered, within=90, interval=0.5), await store.outbox_states()
        status, checks = await healthz(metrics_port)
        outages = await store.scalar(select(func.count()).select_from(StoreOutageRow))
        keys = await store.read(_expected_keys)
    finally:
        stop_workers([worker])
        await store.close()
        await farm.stop()
        await slack.stop()

    from handlers.slack.poster import _key_of

    assert in_flight["pending"] + in_flight["sending"] >= 15  # at least half still in flight
    print(
        f"\nPostgreSQL restart: {sum(in_flight.values())} alerts queued ({in_flight['sent']} sent) when it "
        f"stopped, down {DOWN_SECONDS:.0f} s; polling resumed {resumed_after:.1f} s after it came back; "
        f"{farm.served_entries} entries served"
    )
    assert saw_unhealthy, "/healthz never named the database while it was down"
    assert resumed, f"no feed polled within {RESUME_BOUND_SECONDS:.0f} s of the database coming back"
    assert (status, checks.get("database")) == (200, "ok")
    assert outages >= 1  # recorded for /news feeds
    for channel in CHANNELS:
        delivered = Counter(_key_of(m) for m in slack.messages[channel] if _key_of(m))
        assert set(delivered) == keys[channel]  # every alert arrived...
        assert all(count == 1 for count in delivered.values())  # ...exactly once
    log = (tmp_path / "restart-worker.log").read_text(encoding="utf-8")
    assert "database unusable" in log and "database usable again" in log
    # One line per outage from each loop, not one per failed query or tick (ticks ran every 0.5 s).
    assert log.count("poll tick failed; retrying every tick") == 1
    assert log.count("could not claim alerts") <= 1
    assert json.dumps(log).count("Traceback") <= 10  # only the work that was in flight when it went


def _backlog_done(store: Store):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        try:
            return await store.feeds_with_backlog() == FEEDS
        except Exception:  # the schema is not there yet
            return False

    return check


async def _expected_keys(session) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    rows = await session.execute(
        select(OutboxRow.id, ChannelRow.external_id).join(ChannelRow, ChannelRow.id == OutboxRow.channel_id)
    )
    keys: dict[str, set[str]] = {channel: set() for channel in CHANNELS}
    for row_id, channel in rows:
        keys[channel].add(idempotency_key(row_id))
    return keys


async def test_a_locked_sqlite_file_pauses_polling_and_loses_no_entry(tmp_path: Path) -> None:
    """Another process holds the file's write lock while a poll stores its entries: the poll fails, the
    store watch says so in one line and `/healthz` would be red; once the lock is gone the feed is polled
    again (after its lease) and every entry is stored."""
    import sqlite3

    from config.settings import load_settings
    from feeds.schedule import FeedPoller
    from feeds.sources import new_feed_row
    from storage.db import create_engine, session_factory, upgrade_database
    from storage.store_watch import StoreWatch
    from stories.model import FeedSource
    from tests.fakes.feed_server import FeedItem, FeedServer, rss_document
    from tests.test_feeds_schedule import Clock, RecordingSink

    path = tmp_path / "wirewatch.db"
    engine = create_engine(f"sqlite:///{path}", sqlite_busy_timeout_ms=200)
    await upgrade_database(engine)
    watch = StoreWatch()
    watch.attach(engine)
    sessions = session_factory(engine)
    locker = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    published = datetime.now(UTC) - timedelta(minutes=5)
    items = [FeedItem(f"item {n}", f"https://e.org/{n}", guid=f"g{n}", published=published) for n in range(3)]
    clock = Clock(datetime.now(UTC))

    fetches: list[int] = []

    async def locked_while_fetching(request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        fetches.append(1)
        if len(fetches) == 1:
            locker.execute("BEGIN EXCLUSIVE")  # taken while the first poll fetches: its write will fail
        return aiohttp.web.Response(body=rss_document("Wire", items), content_type="application/rss+xml")

    settings = load_settings(LEASE_SECONDS=20, FETCH_TOTAL_TIMEOUT_SECONDS=5.0)
    async with FeedServer() as server:
        async with sessions() as session, session.begin():
            session.add(
                new_feed_row(
                    FeedSource("Wire", server.route("/wire.xml", locked_while_fetching), "en"),
                    clock(),
                    "file",
                )
            )
        sink = RecordingSink()
        poller = FeedPoller(sessions, settings, sink, owner="w", clock=clock)
        try:
            first = await poller.tick()
            unhealthy, detail = watch.health()
            locker.execute("COMMIT")  # the other process lets go
            clock.advance(settings.lease_seconds + 1)  # the failed poll's lease runs out; the feed is due
            second = await poller.tick()
        finally:
            await poller.aclose()
            locker.close()
    async with sessions() as session:
        feed = (await session.scalars(select(FeedRow))).one()
    recorded = await watch.record_ended(sessions, "w")
    await engine.dispose()

    assert [r.outcome for r in first.results] == ["failed"]
    assert not unhealthy and "database is locked" in detail
    assert [r.outcome for r in second.results] == ["fetched"]
    # The entries reached a transaction that committed: none lost with the failed one.
    assert len(sink.calls[-1].entries) == 3 and feed.backlog_loaded and feed.last_success_at is not None
    assert watch.health() == (True, "ok") and recorded == 1
