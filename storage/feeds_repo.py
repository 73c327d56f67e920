"""Feed schedule, leases and health in the `feeds` table.

Several workers share the table. `lease_due_feeds` hands each due feed to exactly one of them with
`SELECT … FOR UPDATE SKIP LOCKED` inside one UPDATE … RETURNING (on SQLite, whose single writer lock
serialises the UPDATE, SQLAlchemy leaves the FOR UPDATE out). A worker that dies keeps its feeds only
until `lease_until`; then another one takes them over.

Functions flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FeedRow


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One line of `/news feeds` and `bot.py feeds list`."""

    name: str
    url: str
    language: str
    enabled: bool
    disabled_reason: str | None
    interval_seconds: int | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_kind: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    parse_warning: str | None
    next_poll_at: datetime | None
    backlog_loaded: bool

    @property
    def status(self) -> str:
        """ "ok", "warning" (malformed but usable), "failing", "disabled" or "new" (never polled)."""
        if not self.enabled:
            return "disabled"
        if self.consecutive_failures:
            return "failing"
        if self.last_success_at is None:
            return "new"
        return "warning" if self.parse_warning else "ok"


async def lease_due_feeds(
    session: AsyncSession, owner: str, limit: int, lease_seconds: float, now: datetime
) -> list[FeedRow]:
    """Lease up to `limit` enabled feeds whose poll is due and whose lease is free or expired.

    Leased feeds are returned with `lease_owner=owner` and `lease_until=now+lease_seconds`; the caller
    commits at once, so the HTTP fetch happens outside this short transaction.
    """
    if limit <= 0:
        return []
    due = (
        select(FeedRow.id)
        .where(
            FeedRow.enabled.is_(True),
            or_(FeedRow.next_poll_at.is_(None), FeedRow.next_poll_at <= now),
            or_(FeedRow.lease_until.is_(None), FeedRow.lease_until < now),
        )
        .order_by(FeedRow.next_poll_at.asc().nulls_first(), FeedRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(FeedRow)
        .where(FeedRow.id.in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
        .returning(FeedRow)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    rows = list((await session.scalars(statement)).all())
    rows.sort(key=lambda row: (row.next_poll_at or now, row.id))
    return rows


async def claim_leased_feed(session: AsyncSession, feed_id: int, owner: str) -> FeedRow | None:
    """The feed row, locked for this transaction, if `owner` still holds its lease; None otherwise.

    Guards against a worker whose lease expired mid-fetch writing over the worker that took the feed over.
    """
    statement = (
        select(FeedRow)
        .where(FeedRow.id == feed_id, FeedRow.lease_owner == owner)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


def _release(feed: FeedRow, now: datetime, next_poll_at: datetime | None) -> None:
    feed.lease_owner = None
    feed.lease_until = None
    feed.last_polled_at = now
    feed.next_poll_at = next_poll_at


def _healthy(feed: FeedRow, now: datetime, next_poll_at: datetime, new_url: str | None) -> None:
    """A poll that reached the feed: failures cleared, a permanent redirect kept, lease released."""
    if new_url:
        feed.url = new_url
    feed.last_success_at = now
    feed.consecutive_failures = 0
    feed.last_error = None
    feed.last_error_kind = None
    _release(feed, now, next_poll_at)


async def record_success(
    session: AsyncSession,
    feed: FeedRow,
    now: datetime,
    *,
    next_poll_at: datetime,
    interval_seconds: int,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    parse_warning: str | None,
    new_url: str | None = None,
) -> None:
    """A fetched and parsed feed: health cleared, validators and body hash stored, lease released."""
    feed.etag = etag
    feed.last_modified = last_modified
    feed.body_hash = body_hash
    feed.parse_warning = parse_warning
    feed.current_interval_seconds = interval_seconds
    feed.backlog_loaded = True  # from now on, new entries of this feed may alert
    _healthy(feed, now, next_poll_at, new_url)
    await session.flush()


async def record_not_modified(
    session: AsyncSession,
    feed: FeedRow,
    now: datetime,
    *,
    next_poll_at: datetime,
    etag: str | None = None,
    last_modified: str | None = None,
    new_url: str | None = None,
) -> None:
    """304, or a body identical to the last one: healthy, nothing parsed, lease released."""
    if etag:
        feed.etag = etag
    if last_modified:
        feed.last_modified = last_modified
    _healthy(feed, now, next_poll_at, new_url)
    await session.flush()


async def record_failure(
    session: AsyncSession,
    feed: FeedRow,
    now: datetime,
    *,
    kind: str,
    reason: str,
    next_poll_at: datetime | None,
    disable: bool = False,
) -> None:
    """A failed poll: reason in plain words, failure counted, next attempt scheduled (or feed disabled)."""
    feed.last_error = reason
    feed.last_error_kind = kind[:40]
    feed.last_error_at = now
    feed.consecutive_failures = (feed.consecutive_failures or 0) + 1
    if disable:
        feed.enabled = False
        feed.disabled_reason = reason
    _release(feed, now, next_poll_at)
    await session.flush()


async def renew_leases(
    session: AsyncSession, owner: str, feed_ids: Sequence[int], until: datetime
) -> set[int]:
    """Extend `owner`'s leases on the feeds it is polling now; returns the ids it still holds."""
    # Imported here: it brings structlog (about 30 ms), which `bot.py scan`, a reader of this module, never
    # needs.
    from storage.lease_renewal import extend_leases

    return await extend_leases(session, FeedRow, owner, feed_ids, until)


async def feeds_leased_by(session: AsyncSession, owner: str) -> list[int]:
    """The ids of the feeds `owner` holds a lease on (expired or not)."""
    return list(await session.scalars(select(FeedRow.id).where(FeedRow.lease_owner == owner)))


async def release_lease(session: AsyncSession, feed_id: int, owner: str) -> bool:
    """Give a feed back without recording anything (shutdown); False if the lease was no longer ours."""
    statement = (
        update(FeedRow)
        .where(FeedRow.id == feed_id, FeedRow.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def get_feed(session: AsyncSession, name: str) -> FeedRow | None:
    return (await session.scalars(select(FeedRow).where(FeedRow.name == name))).one_or_none()


async def list_feeds(session: AsyncSession, *, include_disabled: bool = True) -> Sequence[FeedRow]:
    query = select(FeedRow).order_by(FeedRow.name)
    if not include_disabled:
        query = query.where(FeedRow.enabled.is_(True))
    return (await session.scalars(query)).all()


async def feed_languages(session: AsyncSession) -> list[str]:
    """The language codes the feeds are in, lower-cased and sorted (what `lang:` can find)."""
    rows = await session.execute(select(FeedRow.language).where(FeedRow.language.is_not(None)).distinct())
    return sorted({str(code).lower() for code in rows.scalars() if code})


def enable_feed(feed: FeedRow, url: str, now: datetime) -> None:
    """Poll a feed again (an editor added it back): at `url`, from now."""
    feed.enabled, feed.disabled_reason = True, None
    feed.url = feed.configured_url = url
    feed.next_poll_at = now


def disable_feed(feed: FeedRow, reason: str) -> None:
    """Stop polling a feed, saying why; its lease goes with it. Its entries stay stored and searchable."""
    feed.enabled, feed.disabled_reason = False, reason
    feed.lease_owner = feed.lease_until = None


async def purge_feed(session: AsyncSession, feed: FeedRow) -> None:
    """Delete a feed and, through the foreign keys, everything stored from it (cannot be undone)."""
    await session.execute(delete(FeedRow).where(FeedRow.id == feed.id))


def health_of(feed: FeedRow) -> FeedHealth:
    return FeedHealth(
        name=feed.name,
        url=feed.url,
        language=feed.language,
        enabled=feed.enabled,
        disabled_reason=feed.disabled_reason,
        interval_seconds=feed.current_interval_seconds or feed.interval_seconds,
        last_polled_at=feed.last_polled_at,
        last_success_at=feed.last_success_at,
        last_error=feed.last_error,
        last_error_kind=feed.last_error_kind,
        last_error_at=feed.last_error_at,
        consecutive_failures=feed.consecutive_failures or 0,
        parse_warning=feed.parse_warning,
        next_poll_at=feed.next_poll_at,
        backlog_loaded=feed.backlog_loaded,
    )


async def feed_health(session: AsyncSession, *, include_disabled: bool = True) -> list[FeedHealth]:
    """Health of every feed, by name: what `/news feeds` shows."""
    return [health_of(feed) for feed in await list_feeds(session, include_disabled=include_disabled)]
