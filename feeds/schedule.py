"""The poll loop: lease due feeds, fetch and parse each on its own, hand new entries to the sink.

The schedule lives in the database (`feeds.next_poll_at`), so a restart resumes where it stopped and
several workers share the feeds through leases. APScheduler only fires `FeedPoller.tick` every few seconds
(`runtime/polling.PollingService` installs it).

Each feed is processed in its own task and its own transactions: a slow or broken feed occupies one slot,
never the others.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from errors import FeedError
from feeds import health
from feeds.fetch import FeedFetcher, FetchResult
from feeds.parse import FeedContext, FeedParser, ParsedFeed
from storage import feeds_repo
from storage.lease_renewal import LeaseRenewal
from storage.models import FeedRow
from stories.model import Entry
from values.clock import utc_now

log = logging.getLogger(__name__)


class EntrySink(Protocol):
    """Receives a feed's parsed entries inside the transaction that records the feed's success."""

    def __call__(
        self, session: AsyncSession, feed: FeedRow, entries: list[Entry], now: datetime
    ) -> Awaitable[Any]: ...


class PollOutcome:
    FETCHED = "fetched"
    NOT_MODIFIED = "not_modified"
    UNCHANGED = "unchanged"  # 200 with the same body as last time
    FAILED = "failed"
    LOST_LEASE = "lost_lease"


@dataclass(slots=True)
class FeedPollResult:
    feed_name: str
    outcome: str
    entries: int = 0
    error_kind: str | None = None
    error: str | None = None


@dataclass(slots=True)
class TickSummary:
    results: list[FeedPollResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)

    @property
    def entries(self) -> int:
        return sum(result.entries for result in self.results)


@dataclass(frozen=True, slots=True)
class LeasedFeed:
    """What a poll task needs from the leased row, read once so the fetch holds no session."""

    feed_id: int
    name: str
    url: str
    language: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None

    @classmethod
    def of(cls, row: FeedRow) -> LeasedFeed:
        return cls(row.id, row.name, row.url, row.language, row.etag, row.last_modified, row.body_hash)


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class FeedPoller:
    """Polls every due feed once per `tick()`.

    Args:
        sessions: session factory of the store.
        settings: polling, fetch and lease settings.
        sink: `await sink(session, feed_row, entries, now)` in the transaction that records success
            (in production `runtime.ingest.Ingestor`).
        http_session: aiohttp session to reuse (tests, the demo); one is created otherwise.
        parser: feedparser runner; default runs in the loop's thread pool.
        clock: the current UTC time (tests pass a fixed clock).
        rng: jitter source (tests pass a seeded one).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        sink: EntrySink,
        http_session: aiohttp.ClientSession | None = None,
        *,
        parser: FeedParser | None = None,
        owner: str | None = None,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._sink = sink
        self._fetcher = FeedFetcher(settings, http_session)
        self._parser = parser or FeedParser()
        self.owner = owner or settings.worker_id or default_worker_id()
        self._clock = clock or utc_now
        self._rng = rng or random.Random()
        self._slots = max(settings.fetch_concurrency, 1)
        self._leasing = True
        self._renewal = LeaseRenewal(
            sessions,
            feeds_repo.renew_leases,
            owner=self.owner,
            lease=timedelta(seconds=settings.lease_seconds),
            clock=self._clock,
            what="feed",
        )

    async def aclose(self) -> None:
        """Close the HTTP session (if created here) and the parser's pool (if it owns one)."""
        await self._fetcher.aclose()
        self._parser.close()

    def stop_leasing(self) -> None:
        """Let a running tick finish the polls it started but lease nothing more (graceful shutdown)."""
        self._leasing = False

    async def tick(self) -> TickSummary:
        """Lease and poll feeds until none is due; at most FETCH_CONCURRENCY are in flight at once."""
        summary = TickSummary()
        running: set[asyncio.Task[FeedPollResult]] = set()
        exhausted = False
        # Leasing in batches (half the slots at least) keeps lease transactions few on a big catalogue.
        batch = max(1, self._slots // 2)
        async with self._renewal.keeping():
            try:
                while True:
                    free = self._slots - len(running)
                    if self._leasing and not exhausted and (free >= batch or (free > 0 and not running)):
                        leased = await self._lease(free)
                        exhausted = len(leased) < free
                        for lease in leased:
                            running.add(asyncio.create_task(self.poll_leased(lease)))
                    if not running:
                        break
                    done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    summary.results.extend(task.result() for task in done)
            finally:
                for task in running:
                    task.cancel()
        return summary

    async def _lease(self, limit: int) -> list[LeasedFeed]:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            rows = await feeds_repo.lease_due_feeds(
                session, self.owner, limit, self._settings.lease_seconds, now
            )
            leased = [LeasedFeed.of(row) for row in rows]
        for lease in leased:
            self._renewal.hold(lease.feed_id)
        return leased

    async def poll_leased(self, lease: LeasedFeed) -> FeedPollResult:
        """Fetch, parse and store one leased feed; never raises (a failure is recorded in feed health)."""
        feed_id = lease.feed_id
        try:
            return await self._poll(lease)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # one feed's bug must not stop the tick
            log.exception("feed %r: unexpected error while polling", lease.name)
            reason = f"storing the feed's entries failed ({type(error).__name__})"
            try:
                return await self._fail(feed_id, "ingest", reason, None)
            except Exception:  # the store itself is down: the lease expires and the feed is retried
                log.exception("feed %r: could not record the failure", lease.name)
                return FeedPollResult(lease.name, PollOutcome.FAILED, error_kind="ingest", error=reason)
        finally:
            self._renewal.release(feed_id)

    async def _poll(self, lease: LeasedFeed) -> FeedPollResult:
        feed_id = lease.feed_id
        try:
            fetched = await self._fetcher.fetch(lease.url, lease.etag, lease.last_modified)
        except FeedError as error:
            return await self._fail(feed_id, error.kind, error.reason, error.retry_after)
        if fetched.not_modified or (fetched.body_hash and fetched.body_hash == lease.body_hash):
            return await self._not_modified(feed_id, fetched)
        now = self._clock()
        context = FeedContext(name=lease.name, language=lease.language)
        try:
            parsed = await self._parser.parse(fetched.body, fetched.parser_headers(), context, now)
        except FeedError as error:
            return await self._fail(feed_id, error.kind, error.reason, error.retry_after)
        return await self._store(feed_id, fetched, parsed, now)

    async def _store(
        self, feed_id: int, fetched: FetchResult, parsed: ParsedFeed, now: datetime
    ) -> FeedPollResult:
        async with self._sessions() as session, session.begin():
            feed = await feeds_repo.claim_leased_feed(session, feed_id, self.owner)
            if feed is None:
                log.warning("feed %s: lease lost while fetching; another worker has it", feed_id)
                return FeedPollResult(str(feed_id), PollOutcome.LOST_LEASE)
            await self._sink(session, feed, parsed.entries, now)
            interval = health.publication_interval(
                (entry.published for entry in parsed.entries), self._settings
            ) or health.base_interval(feed.interval_seconds, self._settings)
            await feeds_repo.record_success(
                session,
                feed,
                now,
                next_poll_at=health.next_poll_after_success(now, interval, self._rng),
                interval_seconds=interval,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                body_hash=fetched.body_hash,
                parse_warning=parsed.warning,
                new_url=fetched.permanent_url,
            )
            return FeedPollResult(feed.name, PollOutcome.FETCHED, entries=len(parsed.entries))

    async def _not_modified(self, feed_id: int, fetched: FetchResult) -> FeedPollResult:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            feed = await feeds_repo.claim_leased_feed(session, feed_id, self.owner)
            if feed is None:
                return FeedPollResult(str(feed_id), PollOutcome.LOST_LEASE)
            interval = feed.current_interval_seconds or health.base_interval(
                feed.interval_seconds, self._settings
            )
            await feeds_repo.record_not_modified(
                session,
                feed,
                now,
                next_poll_at=health.next_poll_after_success(now, interval, self._rng),
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                new_url=fetched.permanent_url,
            )
            outcome = PollOutcome.NOT_MODIFIED if fetched.not_modified else PollOutcome.UNCHANGED
            return FeedPollResult(feed.name, outcome)

    async def _fail(self, feed_id: int, kind: str, reason: str, retry_after: float | None) -> FeedPollResult:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            feed = await feeds_repo.claim_leased_feed(session, feed_id, self.owner)
            if feed is None:
                return FeedPollResult(str(feed_id), PollOutcome.LOST_LEASE, error_kind=kind, error=reason)
            failures = (feed.consecutive_failures or 0) + 1
            plan = health.plan_after_failure(kind, retry_after, failures, now, self._settings, self._rng)
            await feeds_repo.record_failure(
                session,
                feed,
                now,
                kind=kind,
                reason=reason,
                next_poll_at=plan.next_poll_at,
                disable=plan.disable,
            )
            log.warning("feed %r failed (%s): %s", feed.name, kind, reason)
            return FeedPollResult(feed.name, PollOutcome.FAILED, error_kind=kind, error=reason)
