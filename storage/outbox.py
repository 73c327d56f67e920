"""The transactional outbox: alerts are rows written with the story change that caused them.

Writing (`enqueue_alerts`, `enqueue_notice`) happens inside the caller's transaction, so a story and its
alerts commit together. Reading is claiming: `claim_due` leases rows with `SELECT … FOR UPDATE SKIP LOCKED`
(PostgreSQL; SQLite's single writer makes the same UPDATE atomic), one row per channel at a time so each
channel sees its alerts in order, and only once the channel's pace allows (`hold_channel`, shared by every
worker). A sender renews the leases of the rows it is working on (`renew_leases`).
States: pending → sending → sent, or dead after too many failures.

When another outlet or language joins a story, each channel that got the story's first alert gets one
`edit` row (`AlertKind.EDIT`): the first alert re-rendered in place. One is pending per story and channel at
a time: a join while it waits adds its source to that row's payload instead of a second row, and a new row
waits until a minute after the last edit (EDIT_INTERVAL), so a burst of joins is one edit. An edit renders
the story as it is when sent, and waits behind the channel's earlier rows like every row (so behind its
first alert); an edit waiting out its minute holds nobody else up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from observability import metrics
from storage import channels_repo
from storage.lease_renewal import extend_leases
from storage.models import ChannelRow, EntryRow, FeedRow, OutboxRow
from storage.story_records import change_to_json, changes_from_json
from stories.model import AlertKind, AlertSource, FigureChange, NearMatch, StoryEvent, StoryEventKind

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
DEAD = "dead"
OPEN_STATES = (PENDING, SENDING)  # rows that still hold their channel's place in line

_ALERTED_EVENTS = {StoryEventKind.NEW: AlertKind.NEW, StoryEventKind.UPDATE: AlertKind.UPDATE}
# A story joined by another report: an update (figures changed) or a copy (nothing new but its source).
_JOIN_EVENTS = (StoryEventKind.UPDATE, StoryEventKind.DUPLICATE)
# At most one edit of an alert per story, channel and this long: a burst of joins is one edit.
EDIT_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """An outbox row leased to one sender, with what it needs to post it."""

    id: int
    story_id: int | None
    channel_id: int
    kind: str
    revision: int
    payload: dict[str, Any]
    attempts: int  # including the attempt this claim starts
    platform: str
    channel: str  # the platform's channel id
    published_at: datetime | None
    created_at: datetime
    channel_language: str = "any"  # `/news language`: the language the channel's alerts are written in

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.id)


def idempotency_key(outbox_id: int) -> str:
    """Stable per outbox row; short enough for a Discord nonce (25 characters)."""
    return f"wwo-{outbox_id}"


def changes_to_payload(changes: Sequence[FigureChange]) -> list[dict[str, Any]]:
    return [change_to_json(change) for change in changes]


def changes_from_payload(payload: dict[str, Any]) -> tuple[FigureChange, ...]:
    return changes_from_json(payload.get("changes"))


def joined_to_payload(source: AlertSource) -> dict[str, str | None]:
    return {"name": source.name, "language": source.language, "link": source.link}


def joined_from_payload(payload: dict[str, Any]) -> tuple[AlertSource, ...]:
    """The reports an edit row was queued for (tolerant: a malformed item is skipped)."""
    items = payload.get("joined")
    if not isinstance(items, list):
        return ()
    return tuple(
        AlertSource(str(item["name"]), item.get("language"), item.get("link"))
        for item in items
        if isinstance(item, dict) and item.get("name")
    )


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxRow)


def _alert_reference_time(event: StoryEvent, now: datetime) -> datetime:
    """How old the news is: the entry's publication time, else when we first saw it."""
    entry = event.entry
    return entry.published or entry.first_seen or event.story.published or event.story.first_seen or now


async def enqueue_alerts(
    session: AsyncSession, events: list[StoryEvent], now: datetime, max_age: timedelta
) -> int:
    """Queue one row per subscribed, unmuted channel for each NEW/UPDATE of a relevant, recent story.

    Muted channels get no row; their mute counts the skipped story instead. Returns the rows inserted.
    Flushes, never commits: this runs inside the ingest transaction.
    """
    inserted = 0
    for event in events:
        kind = _ALERTED_EVENTS.get(event.kind)
        story = event.story
        if not story.relevant or now - _alert_reference_time(event, now) > max_age:
            continue
        if event.kind in _JOIN_EVENTS and event.match is not None:
            inserted += await _enqueue_edits(session, event, now)
        if kind is None:
            continue
        payload: dict[str, Any] = {}
        if kind is AlertKind.UPDATE:
            payload["changes"] = changes_to_payload(event.changes)
        elif event.near_match is not None:
            payload["near_match"] = event.near_match.as_json()
        for target in await channels_repo.alert_targets(session, story.topics, now):
            if target.muted_by_topic is not None:
                await channels_repo.count_skipped(session, target.channel.id, target.muted_by_topic)
                metrics.ALERTS_SKIPPED_MUTED.inc()
                continue
            row_kind, row_payload = kind, payload
            if kind is AlertKind.UPDATE and not await _first_alert_queued(
                session, story.story_id, target.channel.id
            ):
                # This channel never got the story (it came in a feed's backlog, or arrived while the
                # channel was muted or unsubscribed): an update with no thread to go in is news here,
                # so it is posted as the story's first alert, showing the current figures.
                row_kind, row_payload = AlertKind.NEW, {}
            statement = (
                _insert(session)
                .values(
                    story_id=story.story_id,
                    channel_id=target.channel.id,
                    kind=row_kind.value,
                    revision=story.revision,
                    payload=row_payload,
                    state=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    published_at=story.published or event.entry.published,
                )
                .on_conflict_do_nothing(index_elements=["story_id", "channel_id", "kind", "revision"])
                .returning(OutboxRow.id)
            )
            if (await session.execute(statement)).first() is not None:
                inserted += 1
                metrics.ALERTS_ENQUEUED.labels(kind=row_kind.value).inc()
    await session.flush()
    return inserted


async def _enqueue_edits(session: AsyncSession, event: StoryEvent, now: datetime) -> int:
    """An edit of the story's first alert in every channel that got one, when the entry that joined brings
    an outlet or a language the story did not have. Returns the rows inserted (a coalesced join adds none)."""
    entry, story_id = event.entry, event.story.story_id
    others = (
        await session.execute(
            select(FeedRow.name, EntryRow.language)
            .join(FeedRow, FeedRow.id == EntryRow.feed_id)
            .where(
                EntryRow.story_id == story_id,
                ~and_(FeedRow.name == entry.feed_name, EntryRow.entry_key == entry.entry_id),
            )
        )
    ).all()
    if (entry.feed_name, entry.language) in {(name, language) for name, language in others}:
        return 0  # an outlet again in a language it already told the story in: the alert would read the same
    joined = joined_to_payload(AlertSource(entry.feed_name, entry.language, entry.link))
    inserted = 0
    for target in await channels_repo.alert_targets(session, event.story.topics, now):
        if target.muted_by_topic is not None:
            continue  # a muted channel is told what it skipped when the mute ends, not edited meanwhile
        if await _enqueue_edit(session, story_id, target.channel.id, joined, now):
            inserted += 1
    return inserted


async def _enqueue_edit(
    session: AsyncSession, story_id: int, channel_id: int, joined: dict[str, Any], now: datetime
) -> bool:
    """Queue (or join the pending) edit of the story's first alert in one channel; True when inserted."""
    if not await _first_alert_queued(session, story_id, channel_id):
        return False  # the story was never alerted here: there is no message to edit
    edits = (
        await session.execute(
            select(OutboxRow.id, OutboxRow.state, OutboxRow.payload, OutboxRow.revision, OutboxRow.sent_at)
            .where(
                OutboxRow.story_id == story_id,
                OutboxRow.channel_id == channel_id,
                OutboxRow.kind == AlertKind.EDIT.value,
            )
            .order_by(OutboxRow.id)
        )
    ).all()
    for edit in edits:
        if edit.state != PENDING:
            continue
        payload = dict(edit.payload or {})
        payload["joined"] = [*(payload.get("joined") or []), joined]
        coalesced = await session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == edit.id, OutboxRow.state == PENDING)
            .values(payload=payload)
            .execution_options(synchronize_session=False)
        )
        if coalesced.rowcount:  # type: ignore[attr-defined]
            return False  # not claimed meanwhile: that edit will show this source too
    # The next edit waits a minute after the last one sent, or after one being sent now.
    due = now
    for edit in edits:
        if edit.state == SENT and edit.sent_at is not None:
            due = max(due, edit.sent_at + EDIT_INTERVAL)
        elif edit.state == SENDING:
            due = max(due, now + EDIT_INTERVAL)
    statement = (
        _insert(session)
        .values(
            story_id=story_id,
            channel_id=channel_id,
            kind=AlertKind.EDIT.value,
            revision=max((edit.revision for edit in edits), default=0) + 1,
            payload={"joined": [joined]},
            state=PENDING,
            attempts=0,
            next_attempt_at=due,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["story_id", "channel_id", "kind", "revision"])
        .returning(OutboxRow.id)
    )
    if (await session.execute(statement)).first() is None:
        return False
    metrics.ALERTS_ENQUEUED.labels(kind=AlertKind.EDIT.value).inc()
    return True


def _first_alert(story_id: int, channel_id: int, *columns: Any) -> Select[Any]:
    """`columns` of the story's first (NEW) alert row in a channel: the row edits and updates refer to."""
    return (
        select(*columns)
        .where(
            OutboxRow.story_id == story_id,
            OutboxRow.channel_id == channel_id,
            OutboxRow.kind == AlertKind.NEW.value,
        )
        .order_by(OutboxRow.id)
        .limit(1)
    )


async def first_alert_near_match(session: AsyncSession, story_id: int, channel_id: int) -> NearMatch | None:
    """The story named in a story's first alert in a channel as the one it may be (`NearMatch`): an edit
    re-renders that alert and must keep saying so."""
    payload = (await session.execute(_first_alert(story_id, channel_id, OutboxRow.payload))).scalar()
    return NearMatch.from_json(payload.get("near_match")) if isinstance(payload, dict) else None


async def _first_alert_queued(session: AsyncSession, story_id: int, channel_id: int) -> bool:
    return (await session.execute(_first_alert(story_id, channel_id, OutboxRow.id))).first() is not None


async def enqueue_notice(session: AsyncSession, channel_id: int, text: str, now: datetime) -> int:
    """Queue a plain-text notice (e.g. "mute ended") to one channel; it keeps the channel's order."""
    row = OutboxRow(
        story_id=None,
        channel_id=channel_id,
        kind=AlertKind.NOTICE.value,
        revision=1,
        payload={"notice": text},
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    metrics.ALERTS_ENQUEUED.labels(kind=AlertKind.NOTICE.value).inc()
    return row.id


def _claimable(now: datetime, platforms: Sequence[str]) -> Any:
    """Due rows that are first in their channel's line, on a platform this sender can post to."""
    earlier = aliased(OutboxRow)
    blocked_by_earlier = exists().where(
        earlier.channel_id == OutboxRow.channel_id,
        earlier.id < OutboxRow.id,
        earlier.state.in_(OPEN_STATES),
        # An edit waiting out its minute must not hold up the channel's new alerts behind it.
        earlier.kind != AlertKind.EDIT.value,
    )
    due = or_(
        and_(OutboxRow.state == PENDING, OutboxRow.next_attempt_at <= now),
        # A sender that died mid-send: its lease ran out, the row is taken over (and reconciled first).
        and_(OutboxRow.state == SENDING, OutboxRow.lease_until < now),
    )
    # The channel's pacing lives in its row so that every worker keeps to one rate per channel.
    channel_ready = or_(ChannelRow.next_post_at.is_(None), ChannelRow.next_post_at <= now)
    on_my_ready_channels = OutboxRow.channel_id.in_(
        select(ChannelRow.id).where(ChannelRow.platform.in_(list(platforms)), channel_ready)
    )
    return and_(due, on_my_ready_channels, ~blocked_by_earlier)


async def claim_due(
    session: AsyncSession,
    owner: str,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    platforms: Sequence[str],
    exclude_channels: Sequence[int] = (),
) -> list[ClaimedRow]:
    """Lease up to `limit` rows (at most one per channel) to `owner`; the caller commits at once.

    Each claim counts as an attempt, so a row whose sender keeps crashing still reaches the dead letter.
    """
    if limit <= 0 or not platforms:
        return []
    condition = _claimable(now, platforms)
    if exclude_channels:
        condition = and_(condition, OutboxRow.channel_id.not_in(list(exclude_channels)))
    candidates = (
        select(OutboxRow.id)
        .where(condition)
        .order_by(OutboxRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(OutboxRow)
        .where(OutboxRow.id.in_(candidates.scalar_subquery()))
        .values(
            state=SENDING,
            lease_owner=owner,
            lease_until=now + lease,
            attempts=OutboxRow.attempts + 1,
        )
        .returning(OutboxRow.id)
        .execution_options(synchronize_session=False)
    )
    ids = list((await session.execute(statement)).scalars())
    if not ids:
        return []
    rows = await session.execute(
        select(OutboxRow, ChannelRow)
        .join(ChannelRow, ChannelRow.id == OutboxRow.channel_id)
        .where(OutboxRow.id.in_(ids))
        .order_by(OutboxRow.id)
        .execution_options(populate_existing=True)
    )
    return [
        ClaimedRow(
            id=row.id,
            story_id=row.story_id,
            channel_id=row.channel_id,
            kind=row.kind,
            revision=row.revision,
            payload=dict(row.payload or {}),
            attempts=row.attempts,
            platform=channel.platform,
            channel=channel.external_id,
            published_at=row.published_at,
            created_at=row.created_at,
            channel_language=channel.language,
        )
        for row, channel in rows
    ]


async def renew_leases(
    session: AsyncSession, owner: str, row_ids: Sequence[int], until: datetime
) -> set[int]:
    """Extend `owner`'s leases on the rows it is still sending; returns the ids it still holds."""
    return await extend_leases(session, OutboxRow, owner, row_ids, until, OutboxRow.state == SENDING)


async def hold_channel(session: AsyncSession, channel_id: int, until: datetime) -> None:
    """Nothing more goes to the channel before `until` (never brought forward: a Retry-After stands)."""
    await session.execute(
        update(ChannelRow)
        .where(
            ChannelRow.id == channel_id,
            or_(ChannelRow.next_post_at.is_(None), ChannelRow.next_post_at < until),
        )
        .values(next_post_at=until)
        .execution_options(synchronize_session=False)
    )


def _mine(row_id: int, owner: str) -> Any:
    # A sender whose lease expired and was taken over must not overwrite the new owner's outcome.
    return and_(OutboxRow.id == row_id, OutboxRow.lease_owner == owner, OutboxRow.state == SENDING)


async def mark_sent(
    session: AsyncSession, row_id: int, owner: str, message_id: str, thread_id: str | None, now: datetime
) -> bool:
    result = await session.execute(
        update(OutboxRow)
        .where(_mine(row_id, owner))
        .values(
            state=SENT,
            message_id=message_id,
            thread_id=thread_id,
            sent_at=now,
            lease_owner=None,
            lease_until=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_retry(
    session: AsyncSession,
    row_id: int,
    owner: str,
    error: str,
    retry_at: datetime,
    *,
    count_attempt: bool = True,
) -> bool:
    """Back to pending until `retry_at`; a rate limit does not use up one of the row's attempts."""
    values: dict[str, Any] = {
        "state": PENDING,
        "next_attempt_at": retry_at,
        "last_error": error,
        "lease_owner": None,
        "lease_until": None,
    }
    if not count_attempt:
        values["attempts"] = OutboxRow.attempts - 1
    result = await session.execute(
        update(OutboxRow)
        .where(_mine(row_id, owner))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_dead(session: AsyncSession, row_id: int, owner: str, error: str) -> bool:
    result = await session.execute(
        update(OutboxRow)
        .where(_mine(row_id, owner))
        .values(state=DEAD, last_error=error, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def first_alert_in_channel(
    session: AsyncSession, story_id: int, channel_id: int
) -> tuple[str, str | None] | None:
    """(message id, thread id) of the story's sent NEW alert in that channel: updates reply under it."""
    query = _first_alert(story_id, channel_id, OutboxRow.message_id, OutboxRow.thread_id)
    row = (await session.execute(query.where(OutboxRow.state == SENT))).first()
    if row is None or row.message_id is None:
        return None
    return row.message_id, row.thread_id
