"""One Wirewatch process from start to graceful stop, for any role.

Start order: database (migrated under PostgreSQL's advisory lock) → feeds file synced → topics → pipeline →
ingest sink → poller on APScheduler; chat runtimes (posting for every role) → delivery worker; listeners for
the gateway role; metrics/health endpoint. Stop order is the reverse, on SIGTERM/SIGINT or after
`for_seconds`: listeners stop taking commands, the poller finishes its tick, the sender finishes the sends it
started (nothing is abandoned half-marked), then connections close.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.settings import Settings
from delivery.sender import DeliverySender
from feeds.schedule import default_worker_id
from feeds.sources import load_sources, sync_sources
from handlers.news.channel import mute_ended_notice
from handlers.news.service import NewsService
from observability.server import HealthChecks, MetricsServer
from runtime.ingest import Ingestor
from runtime.platforms import PlatformRuntime, build_platform_runtimes
from runtime.polling import PollingService
from runtime.roles import Role
from storage.db import create_engine, session_factory, upgrade_database
from storage.store_watch import StoreWatch
from storage.worker_beats import forget_worker, record_beats
from stories.grouping import REDUCED_MODE, warm_up
from stories.pipeline import StoryPipeline
from stories.topics import load_topics

log = structlog.get_logger(__name__)

BEAT_WRITE_SECONDS = 5.0
SENDER_STALL_SECONDS = 60.0
SHUTDOWN_GRACE_SECONDS = 20.0
# On stop the running tick leases nothing more (`FeedPoller.stop_leasing`) and finishes the polls it started;
# they get this long (docs/operations.md "Stopping"), then are cancelled: rolled back, their leases released.
POLL_TICK_GRACE_SECONDS = 20.0
FINAL_DRAIN_SECONDS = 10.0

RuntimeFactory = Callable[[Settings, Any, async_sessionmaker[AsyncSession]], Sequence[PlatformRuntime]]


def worker_name(settings: Settings) -> str:
    return settings.worker_id or default_worker_id()


def scheduler_stall_seconds(settings: Settings) -> float:
    """How long a poll tick may run before the scheduler counts as stalled (ticks poll many feeds)."""
    return max(10 * settings.scheduler_tick_seconds, 4 * settings.fetch_total_timeout_seconds, 120.0)


async def sync_feed_sources(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    sources = load_sources(settings.feeds_file)
    for attempt in range(3):
        try:
            async with sessions() as session, session.begin():
                report = await sync_sources(session, sources, datetime.now(UTC))
            log.info(
                "feeds synced from file",
                file=str(settings.feeds_file),
                feeds=len(sources),
                added=len(report.added),
                disabled=len(report.disabled),
            )
            return
        except IntegrityError:
            # Several workers started together and another one inserted the same feeds first.
            await asyncio.sleep(0.2 * (attempt + 1))
    log.warning("feeds file sync kept conflicting with another worker; using the table as it is")


def build_news_service(sessions: async_sessionmaker[AsyncSession], catalog: Any) -> NewsService:
    return NewsService(sessions, catalog)


@dataclass
class WirewatchProcess:
    """Runs one role until `stop` is set; `bot.py run` wraps it in `run_until_signalled`."""

    settings: Settings
    role: Role
    stdin: bool = True
    runtime_factory: RuntimeFactory | None = None
    engine: AsyncEngine | None = None
    sender: DeliverySender | None = None
    polling: PollingService | None = None
    runtimes: list[PlatformRuntime] = field(default_factory=list)
    health: HealthChecks = field(default_factory=HealthChecks)
    store_watch: StoreWatch = field(default_factory=StoreWatch)
    metrics_server: MetricsServer | None = None

    async def run(self, stop: asyncio.Event, *, drain_on_stop: bool = False) -> None:
        settings, role = self.settings, self.role
        worker_id = worker_name(settings)
        structlog.contextvars.bind_contextvars(worker=worker_id, role=role.value)
        engine = self.engine = create_engine(settings.database_url)
        self.store_watch.attach(engine)
        self.health.condition("database", self.store_watch.health)
        tasks: list[asyncio.Task[None]] = []
        try:
            await upgrade_database(engine)
            sessions = session_factory(engine)
            catalog = load_topics(settings.topics_file)
            if role.polls:
                await sync_feed_sources(sessions, settings)
                self.polling = self._build_polling(sessions, catalog, worker_id)
                self.health.watch("scheduler", self.polling.beat, scheduler_stall_seconds(settings))
            news = build_news_service(sessions, catalog)
            factory = self.runtime_factory or (
                lambda s, n, f: build_platform_runtimes(
                    s, n, f, catalog=catalog, stdin=self.stdin and role.listens
                )
            )
            self.runtimes = list(factory(settings, news, sessions))
            for runtime in self.runtimes:
                await runtime.start_posting()
            if role.delivers:
                posters = {runtime.platform: runtime.poster for runtime in self.runtimes}
                self.sender = DeliverySender.from_settings(
                    settings, sessions, posters, worker_id=worker_id, notice_text=mute_ended_notice
                )
                sender = self.sender
                self.health.watch("delivery", lambda: sender.last_beat, SENDER_STALL_SECONDS)
                tasks.append(asyncio.create_task(self.sender.run(stop), name="delivery"))
            if self.polling is not None:
                self.polling.start()
            if role.listens:
                for runtime in self.runtimes:
                    await runtime.start_listening()
            if settings.metrics_port is not None:
                self.metrics_server = MetricsServer(self.health, settings.metrics_port)
                await self.metrics_server.start()
                log.info("metrics endpoint listening", port=self.metrics_server.bound_port)
            tasks.append(asyncio.create_task(self._write_beats(sessions, worker_id, stop), name="beats"))
            if not warm_up():
                log.warning(REDUCED_MODE)
            # Start-up objects (modules, models, topic index, ORM mappings) live as long as the process:
            # frozen, full collections stop re-scanning them, which took ~10% of the story pipeline's time.
            gc.collect()
            gc.freeze()
            log.info("wirewatch running", platforms=[r.platform for r in self.runtimes])
            await stop.wait()
            log.info("stopping")
        finally:
            gc.unfreeze()  # a process started again in the same interpreter (tests) freezes afresh
            await self._shutdown(tasks, drain_on_stop=drain_on_stop)
            with contextlib.suppress(Exception):
                await forget_worker(session_factory(engine), worker_id)
            await engine.dispose()
            log.info("stopped")

    def _build_polling(
        self, sessions: async_sessionmaker[AsyncSession], catalog: Any, worker_id: str
    ) -> PollingService:
        pipeline = StoryPipeline(catalog, self.settings)
        ingestor = Ingestor(pipeline, timedelta(hours=self.settings.alert_max_age_hours))
        return PollingService(sessions, self.settings, ingestor, owner=worker_id)

    async def _write_beats(
        self, sessions: async_sessionmaker[AsyncSession], worker_id: str, stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            now = datetime.now(UTC)
            try:
                await record_beats(
                    sessions,
                    worker_id,
                    self.role.value,
                    now,
                    scheduler_beat_at=_wall_time(self.polling.beat()) if self.polling else None,
                    sender_beat_at=_wall_time(self.sender.last_beat) if self.sender else None,
                )
                await self.store_watch.record_ended(sessions, worker_id)
            except Exception:
                # The store watch has already said the database is unusable, in one line.
                log.debug("could not record worker heartbeat", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=BEAT_WRITE_SECONDS)

    async def _shutdown(self, tasks: list[asyncio.Task[None]], *, drain_on_stop: bool) -> None:
        if self.role.listens:
            for runtime in self.runtimes:
                with contextlib.suppress(Exception):
                    await runtime.stop()
        if self.polling is not None:
            await self.polling.stop(POLL_TICK_GRACE_SECONDS)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if drain_on_stop and self.sender is not None:
            # A bounded run (the demo) delivers what its last poll queued before it exits.
            with contextlib.suppress(Exception, TimeoutError):
                await asyncio.wait_for(self.sender.drain(), timeout=FINAL_DRAIN_SECONDS)
        if not self.role.listens:
            for runtime in self.runtimes:
                with contextlib.suppress(Exception):
                    await runtime.stop()
        if self.metrics_server is not None:
            await self.metrics_server.stop()


def _wall_time(monotonic_at: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=max(0.0, time.monotonic() - monotonic_at))


async def run_until_signalled(process: WirewatchProcess, for_seconds: float | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `for_seconds`); a second signal is left to the default handler."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, _on_signal, loop, signum, stop)
    if for_seconds is not None:
        loop.call_later(for_seconds, stop.set)
    await process.run(stop, drain_on_stop=for_seconds is not None)


def _on_signal(loop: asyncio.AbstractEventLoop, signum: int, stop: asyncio.Event) -> None:
    log.info("signal received; shutting down gracefully", signal=signal.Signals(signum).name)
    stop.set()
    # The next signal of that kind kills at once, for an operator who does not want to wait.
    loop.remove_signal_handler(signum)
