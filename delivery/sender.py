"""The delivery worker: drains the outbox into chat platforms, paced, retried, crash-safe.

Every row goes pending → sending (leased, committed) → post → sent with the platform's message id. A crash
between the platform accepting a message and the row being marked sent leaves the row in `sending`; when
its lease runs out any sender takes it over and first asks the platform (`ChatPoster.find_posted`) whether
the message is already there, so the duplicate window closes wherever the platform can look a key up.
While a row is being worked on its lease is renewed (`storage.lease_renewal`), so the lease can be short and
a dead worker's channels wait at most LEASE_SECONDS. Each channel's pace is kept in its database row
(`outbox.hold_channel`), so several workers together still send one channel at the platform's rate.

An `edit` row re-renders the story's first alert in that channel (`ChatPoster.edit`) instead of posting: it
needs that alert sent (it waits behind it in the channel's line, and is dropped when there is none), and a
failed edit is dead at once when the platform says the message or channel is gone, never re-posted.

What the sender needs from above it is passed in: the posters, and `notice_text`, the wording of the notice a
channel gets when a mute ends (`runtime/` passes the command layer's `mute_ended_notice`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from delivery.alerts import build_alert
from delivery.pacing import GlobalBudget, backoff_delay
from delivery.ports import ChatPoster
from errors import PermanentDeliveryError, RateLimited, describe
from observability import metrics
from storage import channels_repo, outbox
from storage.lease_renewal import LeaseRenewal
from storage.outbox_status import delivery_status
from stories.model import AlertKind, PostedMessage
from values.clock import utc_now

log = structlog.get_logger(__name__)

DATABASE_RETRY_CAP_SECONDS = 5.0  # the longest wait between claims while the database is unreachable

Clock = Callable[[], datetime]
NoticeText = Callable[..., str]  # (topic, skipped, *, muted_for: timedelta | None) -> str


def default_mute_ended_notice(topic: str, skipped: int, *, muted_for: timedelta | None = None) -> str:
    """The plain notice, for a sender built without the command layer's wording (`notice_text`)."""
    stories = "story" if skipped == 1 else "stories"
    return f"The mute on {topic} has ended: {skipped} {stories} skipped while it was on."


class DeliverySender:
    """Claims outbox rows for the platforms it has posters for and posts them in per-channel order."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        posters: Mapping[str, ChatPoster],
        *,
        worker_id: str,
        lease: timedelta = timedelta(seconds=15),
        max_attempts: int = 8,
        channel_interval: float = 1.0,
        global_per_second: float = 20.0,
        batch_size: int = 20,
        idle_seconds: float = 0.5,
        send_timeout: float = 30.0,
        housekeeping_seconds: float = 15.0,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        notice_text: NoticeText | None = None,
    ) -> None:
        self._sessions = sessions
        self._posters = dict(posters)
        self.worker_id = worker_id
        self._lease = lease
        self._max_attempts = max_attempts
        self._channel_interval = timedelta(seconds=channel_interval)
        self._budget = GlobalBudget(global_per_second)
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._send_timeout = send_timeout
        self._housekeeping_seconds = housekeeping_seconds
        self._clock = clock
        self._rng = rng or random.Random()
        self.notice_text = notice_text or default_mute_ended_notice
        self._last_housekeeping = float("-inf")
        self._channel_free_at = float("-inf")  # monotonic: the soonest a channel we posted to is free again
        self._renewal = LeaseRenewal(
            sessions, outbox.renew_leases, owner=worker_id, lease=lease, clock=clock, what="alert"
        )
        self.last_beat = time.monotonic()  # read by /healthz: the last successful claim

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        posters: Mapping[str, ChatPoster],
        *,
        worker_id: str,
        **kwargs: object,
    ) -> DeliverySender:
        return cls(
            sessions,
            posters,
            worker_id=worker_id,
            lease=timedelta(seconds=settings.lease_seconds),
            max_attempts=settings.delivery_max_attempts,
            channel_interval=settings.delivery_channel_interval_seconds,
            global_per_second=settings.delivery_global_per_second,
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def platforms(self) -> list[str]:
        return sorted(self._posters)

    # --- the loop ------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; sends already started finish and are recorded before it returns."""
        in_flight: set[asyncio.Task[None]] = set()
        log.info("delivery started", worker=self.worker_id, platforms=self.platforms)
        async with self._renewal.keeping():
            await self._run(stop, in_flight)

    async def _run(self, stop: asyncio.Event, in_flight: set[asyncio.Task[None]]) -> None:
        failures = 0  # claims failed in a row: the database is down or unusable
        try:
            while not stop.is_set():
                await self._housekeeping_if_due()
                try:
                    claimed = await self._claim(self._batch_size - len(in_flight))
                except Exception as error:
                    # Keep the loop alive and retry with backoff, but do not beat: the heartbeat means
                    # "claiming works", so `/healthz` turns red if this persists. One log line per outage.
                    failures += 1
                    if failures == 1:
                        log.error("could not claim alerts; retrying with backoff", error=describe(error))
                    claimed = []
                else:
                    if failures:
                        log.info("claiming alerts again", failed_attempts=failures)
                    failures = 0
                    self._beat()
                for row in claimed:
                    in_flight.add(asyncio.create_task(self._deliver(row), name=f"deliver-{row.id}"))
                waiters: set[asyncio.Future[object]] = {*in_flight, asyncio.ensure_future(stop.wait())}
                done, _ = await asyncio.wait(
                    waiters,
                    timeout=self._pause_before_next_claim(claimed, failures),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in waiters - in_flight:
                    task.cancel()
                in_flight -= done  # type: ignore[operator]
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            log.info("delivery stopped", worker=self.worker_id)

    def _pause_before_next_claim(self, claimed: list[outbox.ClaimedRow], failures: int) -> float:
        if failures:
            return min(DATABASE_RETRY_CAP_SECONDS, self._idle_seconds * 2 ** min(failures - 1, 8))
        if claimed:
            return 0.05
        # Idle, unless a channel this worker just posted to is free again sooner: its next alert goes
        # then, not up to a whole idle period later.
        until_free = self._channel_free_at - time.monotonic()
        return max(0.01, min(self._idle_seconds, until_free)) if until_free > 0 else self._idle_seconds

    async def run_once(self) -> int:
        """One pass: housekeeping, claim a batch, deliver it; returns how many rows were handled."""
        await self._housekeeping_if_due()
        async with self._renewal.keeping():
            claimed = await self._claim(self._batch_size)
            self._beat()  # only after a successful claim (see `run`)
            await asyncio.gather(*(self._deliver(row) for row in claimed))
        return len(claimed)

    async def drain(self, max_passes: int = 1000) -> int:
        """Run passes until nothing is due (tests and `--for-seconds` shutdown)."""
        total = 0
        for _ in range(max_passes):
            handled = await self.run_once()
            if handled == 0:
                break
            total += handled
        return total

    def _beat(self) -> None:
        self.last_beat = time.monotonic()
        metrics.SENDER_LAST_BEAT.set(time.time())

    async def _claim(self, limit: int) -> list[outbox.ClaimedRow]:
        if limit <= 0:
            return []
        async with self._sessions() as session, session.begin():
            return await outbox.claim_due(
                session,
                self.worker_id,
                self._clock(),
                lease=self._lease,
                limit=limit,
                platforms=self.platforms,
            )

    # --- housekeeping: mutes that ran out, queue depth ---------------------------------------------------

    async def _housekeeping_if_due(self) -> None:
        if time.monotonic() - self._last_housekeeping < self._housekeeping_seconds:
            return
        self._last_housekeeping = time.monotonic()
        try:
            await self.end_expired_mutes()
            await self.sample_queue()
        except Exception:
            log.exception("delivery housekeeping failed", worker=self.worker_id)

    async def end_expired_mutes(self) -> int:
        """End mutes whose time is up and queue each channel a notice of what it skipped."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            ended = await channels_repo.end_expired_mutes(session, now)
            for mute in ended:
                muted_for = now - mute.muted_at if mute.muted_at is not None else None
                text = self.notice_text(mute.topic, mute.skipped_count, muted_for=muted_for)
                await outbox.enqueue_notice(session, mute.channel.id, text, now)
                log.info(
                    "mute ended",
                    channel_id=mute.channel.id,
                    topic=mute.topic,
                    skipped=mute.skipped_count,
                )
        return len(ended)

    async def sample_queue(self) -> None:
        now = self._clock()
        async with self._sessions() as session:
            status = await delivery_status(session, now)
        metrics.OUTBOX_DEPTH.labels(state="pending").set(status.pending)
        metrics.OUTBOX_DEPTH.labels(state="sending").set(status.sending)
        metrics.OUTBOX_DEPTH.labels(state="dead").set(status.dead)
        age = status.oldest_pending_age
        metrics.OUTBOX_OLDEST_PENDING_SECONDS.set(age.total_seconds() if age else 0.0)

    # --- one row -------------------------------------------------------------------------------------

    async def _deliver(self, row: outbox.ClaimedRow) -> None:
        self._renewal.hold(row.id)
        try:
            await self._deliver_row(row)
        except Exception:
            # A database hiccup while marking: the row stays `sending` and is reconciled after its lease.
            log.exception("delivery bookkeeping failed", outbox_id=row.id, worker=self.worker_id)
        finally:
            self._renewal.release(row.id)

    async def _deliver_row(self, row: outbox.ClaimedRow) -> None:
        poster = self._posters[row.platform]
        if row.kind == AlertKind.EDIT.value:
            await self._deliver_edit(row, poster)
            return
        async with self._sessions() as session:
            alert = await build_alert(session, row)
            thread = await self._thread_for(session, row)
        if alert is None:
            await self._finish_dead(row, "the story no longer exists")
            return
        if row.attempts > 1 and await self._already_posted(poster, row, thread):
            return
        # The channel's own pace was kept when the row was claimed (see `outbox.hold_channel`).
        await self._budget.acquire()
        try:
            posted = await asyncio.wait_for(
                poster.post(row.channel, alert, thread=thread, idempotency_key=row.idempotency_key),
                timeout=self._send_timeout,
            )
        except RateLimited as error:
            await self._rate_limited(row, error)
        except PermanentDeliveryError as error:
            metrics.ALERTS_FAILED.labels(platform=row.platform, outcome="dead").inc()
            await self._finish_dead(row, describe(error))
        except Exception as error:  # timeouts, 5xx, connection errors, and poster bugs: retry, then dead
            await self._failed(row, error)
        else:
            await self._finish_sent(row, posted)

    async def _deliver_edit(self, row: outbox.ClaimedRow, poster: ChatPoster) -> None:
        async with self._sessions() as session:
            alert = await build_alert(session, row)
            first = (
                await outbox.first_alert_in_channel(session, row.story_id, row.channel_id)
                if row.story_id is not None
                else None
            )
        if alert is None or first is None:
            # The first alert died (or its story is gone): an edit must never become a new alert.
            await self._finish_dead(row, "no sent first alert to edit in this channel")
            return
        message = PostedMessage(row.platform, row.channel, first[0], first[1])
        await self._budget.acquire()
        try:
            await asyncio.wait_for(poster.edit(message, alert), timeout=self._send_timeout)
        except RateLimited as error:
            await self._rate_limited(row, error)
        except PermanentDeliveryError as error:
            metrics.ALERTS_FAILED.labels(platform=row.platform, outcome="dead").inc()
            await self._finish_dead(row, f"could not edit the first alert: {describe(error)}")
        except Exception as error:  # timeouts, 5xx: an edit is idempotent, so retried like a post
            await self._failed(row, error)
        else:
            await self._finish_sent(row, message)

    async def _thread_for(self, session: AsyncSession, row: outbox.ClaimedRow) -> PostedMessage | None:
        if row.kind != AlertKind.UPDATE.value or row.story_id is None:
            return None
        first = await outbox.first_alert_in_channel(session, row.story_id, row.channel_id)
        if first is None:
            return None  # the first alert died: the update still goes out, unthreaded
        message_id, thread_id = first
        return PostedMessage(row.platform, row.channel, message_id, thread_id)

    async def _already_posted(
        self, poster: ChatPoster, row: outbox.ClaimedRow, thread: PostedMessage | None
    ) -> bool:
        """Before re-sending, ask the platform whether an earlier attempt got through after all."""
        # An update's thread tells the poster where to look first; only passed when there is one.
        where = {"thread": thread} if thread is not None else {}
        try:
            found = await asyncio.wait_for(
                poster.find_posted(row.channel, row.idempotency_key, **where), timeout=self._send_timeout
            )
        except Exception as error:
            log.warning("could not check for an earlier post", outbox_id=row.id, error=describe(error))
            return False
        if found is None:
            return False
        metrics.ALERTS_RECONCILED.labels(platform=row.platform).inc()
        log.info("alert was already posted; recorded without re-sending", outbox_id=row.id)
        await self._finish_sent(row, found)
        return True

    async def _finish_sent(self, row: outbox.ClaimedRow, posted: PostedMessage) -> None:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            marked = await outbox.mark_sent(
                session, row.id, self.worker_id, posted.message_id, posted.thread_id, now
            )
            await outbox.hold_channel(session, row.channel_id, now + self._channel_interval)
        self._note_channel_hold()
        if not marked:
            log.warning(
                "lease lost before the alert was marked sent", outbox_id=row.id, worker=self.worker_id
            )
            return
        metrics.ALERTS_SENT.labels(platform=row.platform, kind=row.kind).inc()
        reference = row.published_at or row.created_at
        metrics.ALERT_LAG.labels(platform=row.platform).observe(max(0.0, (now - reference).total_seconds()))
        log.info(
            "alert sent",
            outbox_id=row.id,
            kind=row.kind,
            platform=row.platform,
            channel=row.channel,
            message_id=posted.message_id,
        )

    def _note_channel_hold(self) -> None:
        """Remember the soonest moment a channel this worker posted to takes messages again."""
        now = time.monotonic()
        free_at = now + self._channel_interval.total_seconds() + 0.01
        pending = self._channel_free_at if self._channel_free_at > now else float("inf")
        self._channel_free_at = min(pending, free_at)

    async def _finish_dead(self, row: outbox.ClaimedRow, reason: str) -> None:
        async with self._sessions() as session, session.begin():
            await outbox.mark_dead(session, row.id, self.worker_id, reason)
            await outbox.hold_channel(session, row.channel_id, self._clock() + self._channel_interval)
        log.error(
            "alert dead-lettered",
            outbox_id=row.id,
            platform=row.platform,
            channel=row.channel,
            attempts=row.attempts,
            error=reason,
        )

    async def _rate_limited(self, row: outbox.ClaimedRow, error: RateLimited) -> None:
        metrics.ALERTS_FAILED.labels(platform=row.platform, outcome="rate_limited").inc()
        retry_at = self._clock() + timedelta(seconds=error.retry_after)
        async with self._sessions() as session, session.begin():
            await outbox.mark_retry(
                session, row.id, self.worker_id, describe(error), retry_at, count_attempt=False
            )
            # Every worker holds off the whole channel, not only this row.
            await outbox.hold_channel(session, row.channel_id, retry_at)
        log.warning("rate limited", outbox_id=row.id, channel=row.channel, retry_after=error.retry_after)

    async def _failed(self, row: outbox.ClaimedRow, error: BaseException) -> None:
        reason = describe(error)
        if row.attempts >= self._max_attempts:
            metrics.ALERTS_FAILED.labels(platform=row.platform, outcome="dead").inc()
            await self._finish_dead(row, f"gave up after {row.attempts} attempts: {reason}")
            return
        metrics.ALERTS_FAILED.labels(platform=row.platform, outcome="retry").inc()
        delay = backoff_delay(row.attempts, self._rng)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await outbox.mark_retry(session, row.id, self.worker_id, reason, now + timedelta(seconds=delay))
            await outbox.hold_channel(session, row.channel_id, now + self._channel_interval)
        self._note_channel_hold()
        log.warning(
            "alert failed; will retry",
            outbox_id=row.id,
            attempts=row.attempts,
            retry_in=round(delay, 1),
            error=reason,
        )
