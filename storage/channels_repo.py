"""Channels, their topic subscriptions and mutes: who gets which alerts.

Used by the `/news` command layer (editors change it; adapters subscribe their alert channel through it)
and by delivery (which reads it when it writes outbox rows). A mute on a topic silences every story carrying
that topic in that one channel. A channel also has the language its alerts are written in (`set_language`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelRow, MuteRow, SubscriptionRow
from values.chat import ChannelRef

# The languages a channel can ask its alerts in: the beat's two. ANY_LANGUAGE keeps the story's first words.
ALERT_LANGUAGES: tuple[str, ...] = ("en", "es")
ANY_LANGUAGE = "any"


@dataclass(frozen=True, slots=True)
class AlertTarget:
    channel: ChannelRow
    muted_by_topic: str | None  # the topic whose mute silences this story here, if any


@dataclass(frozen=True, slots=True)
class EndedMute:
    channel: ChannelRow
    topic: str
    skipped_count: int
    muted_at: datetime | None = None  # when the mute began: the notice points to a digest covering it


async def find_channel(session: AsyncSession, ref: ChannelRef) -> ChannelRow | None:
    """The channel's stored row; None for a channel no command or alert has touched yet."""
    query = select(ChannelRow).where(
        ChannelRow.platform == ref.platform, ChannelRow.external_id == ref.external_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def team_of(session: AsyncSession, platform: str, external_id: str) -> str | None:
    """The workspace/server a channel was first seen in; None when unknown or recorded without one."""
    query = select(ChannelRow.team_id).where(
        ChannelRow.platform == platform, ChannelRow.external_id == external_id
    )
    return (await session.execute(query)).scalars().first()


async def ensure_channel(session: AsyncSession, ref: ChannelRef, now: datetime) -> ChannelRow:
    """The channel row for a platform channel, created on first sight (race-safe)."""
    query = select(ChannelRow).where(
        ChannelRow.platform == ref.platform, ChannelRow.external_id == ref.external_id
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is not None:
        return row
    row = ChannelRow(platform=ref.platform, external_id=ref.external_id, team_id=ref.team_id, created_at=now)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another worker created it between our select and insert.
        return (await session.execute(query)).scalar_one()
    return row


async def set_language(session: AsyncSession, channel_id: int, language: str) -> None:
    """The language alerts in this channel are written in: one of ALERT_LANGUAGES, or ANY_LANGUAGE."""
    if language not in (*ALERT_LANGUAGES, ANY_LANGUAGE):
        raise ValueError(f"not an alert language: {language!r}")
    await session.execute(update(ChannelRow).where(ChannelRow.id == channel_id).values(language=language))


async def subscriptions(session: AsyncSession, channel_id: int) -> list[str]:
    query = select(SubscriptionRow.topic).where(SubscriptionRow.channel_id == channel_id)
    return sorted((await session.execute(query)).scalars())


async def subscribe(
    session: AsyncSession, channel_id: int, topic: str, by: str | None, now: datetime
) -> bool:
    """Subscribe; False when it already was."""
    if topic in await subscriptions(session, channel_id):
        return False
    session.add(SubscriptionRow(channel_id=channel_id, topic=topic, created_by=by, created_at=now))
    await session.flush()
    return True


async def unsubscribe(session: AsyncSession, channel_id: int, topic: str) -> bool:
    """Unsubscribe; False when it was not subscribed."""
    result = await session.execute(
        delete(SubscriptionRow).where(
            SubscriptionRow.channel_id == channel_id, SubscriptionRow.topic == topic
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def active_mutes(session: AsyncSession, channel_id: int, now: datetime) -> list[MuteRow]:
    query = select(MuteRow).where(MuteRow.channel_id == channel_id).order_by(MuteRow.topic)
    return [m for m in (await session.execute(query)).scalars() if m.until is None or m.until > now]


async def mute(
    session: AsyncSession, channel_id: int, topic: str, until: datetime | None, by: str | None, now: datetime
) -> MuteRow:
    """Mute (or extend/shorten an existing mute of) a topic in one channel."""
    query = select(MuteRow).where(MuteRow.channel_id == channel_id, MuteRow.topic == topic)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        row = MuteRow(
            channel_id=channel_id, topic=topic, until=until, muted_by=by, muted_at=now, skipped_count=0
        )
        session.add(row)
    else:
        row.until, row.muted_by = until, by
    await session.flush()
    return row


async def unmute(session: AsyncSession, channel_id: int, topic: str) -> MuteRow | None:
    """Remove a mute; returns it (with its skipped count) or None when the topic was not muted."""
    query = select(MuteRow).where(MuteRow.channel_id == channel_id, MuteRow.topic == topic)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is not None:
        await session.delete(row)
        await session.flush()
    return row


async def end_expired_mutes(session: AsyncSession, now: datetime) -> list[EndedMute]:
    """Delete mutes whose time is up and report them, so each channel hears how much it skipped."""
    query = (
        select(MuteRow, ChannelRow)
        .join(ChannelRow, ChannelRow.id == MuteRow.channel_id)
        .where(MuteRow.until.is_not(None), MuteRow.until <= now)
        .with_for_update(skip_locked=True, of=MuteRow)
    )
    ended = [
        EndedMute(channel, mute.topic, mute.skipped_count, mute.muted_at)
        for mute, channel in await session.execute(query)
    ]
    for item in ended:
        await session.execute(
            delete(MuteRow).where(MuteRow.channel_id == item.channel.id, MuteRow.topic == item.topic)
        )
    return ended


async def alert_targets(session: AsyncSession, topics: Sequence[str], now: datetime) -> list[AlertTarget]:
    """Channels subscribed to any of a story's topics, each with the mute (if any) that silences it."""
    if not topics:
        return []
    subscribed = (
        select(ChannelRow)
        .join(SubscriptionRow, SubscriptionRow.channel_id == ChannelRow.id)
        .where(SubscriptionRow.topic.in_(list(topics)))
        .distinct()
        .order_by(ChannelRow.id)
    )
    channels = list((await session.execute(subscribed)).scalars())
    if not channels:
        return []
    mutes_query = select(MuteRow).where(
        MuteRow.channel_id.in_([c.id for c in channels]), MuteRow.topic.in_(list(topics))
    )
    muted: dict[int, str] = {}
    for row in (await session.execute(mutes_query)).scalars():
        if row.until is None or row.until > now:
            muted.setdefault(row.channel_id, row.topic)
    return [AlertTarget(channel=c, muted_by_topic=muted.get(c.id)) for c in channels]


async def count_skipped(session: AsyncSession, channel_id: int, topic: str) -> None:
    """A story was not sent because of this mute: the channel is told the total when the mute ends."""
    await session.execute(
        update(MuteRow)
        .where(MuteRow.channel_id == channel_id, MuteRow.topic == topic)
        .values(skipped_count=MuteRow.skipped_count + 1)
    )
