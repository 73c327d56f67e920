"""The poll side of a process: FeedPoller ticks on APScheduler, every feed poll measured and heartbeated."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from feeds.schedule import EntrySink, FeedPoller, FeedPollResult, LeasedFeed
from observability import metrics
from runtime.heartbeat import LoopBeat
from storage import feeds_repo
from storage.models import FeedRow
from stories.model import Entry, StoryEvent

log = structlog.get_logger(__name__)
TICK_JOB_ID = "wirewatch-poll-tick"


class CountingSink:
    """Wraps the ingest sink to count stored entries and the pipeline's decisions."""

    def __init__(self, sink: EntrySink) -> None:
        self._sink = sink

    async def __call__(
        self, session: AsyncSession, feed: FeedRow, entries: list[Entry], now: datetime
    ) -> list[StoryEvent]:
        events: list[StoryEvent] = list(await self._sink(session, feed, entries, now) or ())
        # The pipeline returns one event per entry that was new for the feed, i.e. per stored entry.
        metrics.ENTRIES_STORED.inc(len(events))
        for event in events:
            metrics.STORY_EVENTS.labels(kind=str(event.kind)).inc()
        return events


class MonitoredPoller(FeedPoller):
    """A FeedPoller whose every finished feed poll is counted and beats the scheduler heartbeat.

    Under a steady load one tick can run for a long time (it leases until nothing is due), so the heartbeat
    follows feed polls, not ticks: a tick that polls is alive, a tick stuck on one call is not.
    """

    beat: LoopBeat

    async def poll_leased(self, lease: LeasedFeed) -> FeedPollResult:
        result = await super().poll_leased(lease)
        metrics.FEED_POLLS.labels(outcome=result.outcome).inc()
        if result.error_kind:
            metrics.FEED_FETCH_ERRORS.labels(kind=result.error_kind).inc()
        self.beat.beat()
        metrics.SCHEDULER_LAST_TICK.set(time.time())
        return result


class PollingService:
    """One APScheduler job per process: "lease and poll whatever is due" every SCHEDULER_TICK_SECONDS.

    The feed schedule itself lives in the database, so the job is the same in every worker.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        sink: EntrySink,
        *,
        owner: str,
    ) -> None:
        self.beat = LoopBeat()
        self.poller = MonitoredPoller(sessions, settings, CountingSink(sink), owner=owner)
        self.poller.beat = self.beat
        self._sessions = sessions
        self._owner = owner
        self._tick_seconds = settings.scheduler_tick_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._current: asyncio.Task[object] | None = None
        self.ticks = 0
        self.failed_ticks = 0  # in a row

    async def tick(self) -> None:
        # No beat here: the heartbeat follows work done (a finished tick or feed poll), so a tick that fails
        # at once (the database is down, leasing raises) leaves `/healthz` to turn red after the threshold.
        self._current = asyncio.current_task()
        try:
            summary = await self.poller.tick()
        except asyncio.CancelledError:
            # Only `stop()` cancels a tick: its polls rolled back and their leases are handed back.
            log.info("poll tick cancelled for shutdown")
            return
        except Exception as error:
            # A database outage fails every tick until it ends: the first failure is logged in full, the
            # rest are counted (the store watch logs the outage itself, once).
            self.failed_ticks += 1
            if self.failed_ticks == 1:
                log.exception("poll tick failed; retrying every tick")
            else:
                log.debug("poll tick failed again", error=str(error)[:200], failed_ticks=self.failed_ticks)
            return
        finally:
            self._current = None
        if self.failed_ticks:
            log.info("poll ticks work again", failed_ticks=self.failed_ticks)
            self.failed_ticks = 0
        self.ticks += 1
        self.beat.beat()
        metrics.SCHEDULER_LAST_TICK.set(time.time())
        if summary.results:
            log.info(
                "poll tick",
                feeds=len(summary.results),
                entries=summary.entries,
                failed=summary.count("failed"),
            )

    def start(self) -> None:
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self._tick_seconds, jitter=max(self._tick_seconds * 0.2, 0.1)),
            id=TICK_JOB_ID,
            name="poll due feeds",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(int(self._tick_seconds * 2), 1),
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    async def stop(self, grace_seconds: float) -> None:
        """Stop scheduling; give a running tick `grace_seconds`, then cancel it and hand its leases back.

        A cancelled feed poll rolls its transaction back, so nothing is half-stored; releasing the leases
        lets another worker poll those feeds at once instead of after LEASE_SECONDS.
        """
        # Pause, not shut down, first: APScheduler's asyncio executor cancels a running job on shutdown, which
        # would cut the tick off at once instead of giving it the grace.
        if self._scheduler.running:
            self._scheduler.pause()
        # Under steady load a tick keeps leasing while feeds are due; from here it only finishes its polls.
        self.poller.stop_leasing()
        current = self._current
        if current is not None and not current.done():
            try:
                await asyncio.wait_for(asyncio.shield(current), timeout=grace_seconds)
            except (TimeoutError, asyncio.CancelledError):
                current.cancel()
                with contextlib.suppress(BaseException):
                    await current
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        await self._release_leases()
        await self.poller.aclose()

    async def _release_leases(self) -> None:
        try:
            async with self._sessions() as session, session.begin():
                for feed_id in await feeds_repo.feeds_leased_by(session, self._owner):
                    await feeds_repo.release_lease(session, feed_id, self._owner)
        except Exception:
            log.warning("could not release feed leases; they expire after LEASE_SECONDS", exc_info=True)
