"""Delivery health for `/news feeds` and the metrics sampler: queue sizes and the dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelRow, OutboxRow, StoryRow

RECENT_DEAD_SHOWN = 5


@dataclass(frozen=True, slots=True)
class DeadLetter:
    outbox_id: int
    platform: str
    channel: str
    kind: str
    title: str | None  # the story's headline; None for notices
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    pending: int
    sending: int
    sent: int
    dead: int
    oldest_pending_age: timedelta | None
    recent_dead: tuple[DeadLetter, ...]

    @property
    def healthy(self) -> bool:
        return self.dead == 0


async def delivery_status(session: AsyncSession, now: datetime) -> DeliveryStatus:
    grouped = await session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))
    counts: dict[str, int] = {state: int(n) for state, n in grouped}
    oldest = (
        await session.execute(
            select(OutboxRow.created_at)
            .where(OutboxRow.state == "pending")
            .order_by(OutboxRow.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    dead_rows = await session.execute(
        select(OutboxRow, ChannelRow.platform, ChannelRow.external_id, StoryRow.title)
        .join(ChannelRow, ChannelRow.id == OutboxRow.channel_id)
        .outerjoin(StoryRow, StoryRow.id == OutboxRow.story_id)
        .where(OutboxRow.state == "dead")
        .order_by(OutboxRow.id.desc())
        .limit(RECENT_DEAD_SHOWN)
    )
    recent = tuple(
        DeadLetter(
            outbox_id=row.id,
            platform=platform,
            channel=channel,
            kind=row.kind,
            title=title,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
        )
        for row, platform, channel, title in dead_rows
    )
    return DeliveryStatus(
        pending=int(counts.get("pending", 0)),
        sending=int(counts.get("sending", 0)),
        sent=int(counts.get("sent", 0)),
        dead=int(counts.get("dead", 0)),
        oldest_pending_age=(now - oldest) if oldest is not None else None,
        recent_dead=recent,
    )
