"""Delivery health read from the outbox, for `/news feeds` and the sender's metrics sampler: queue sizes and
the dead letters.

Dead letters name a channel, a headline and the platform's error, so `/news feeds` lists only those of the
caller's own platform and workspace/guild (`platform=`, `team_id=`, and the caller's channel); the others are
only counted (`dead_elsewhere`). Without a scope (the metrics sampler) every dead letter is in scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

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
    recent_dead: tuple[DeadLetter, ...]  # the newest dead letters in scope only
    dead_elsewhere: int = 0  # dead letters of other platforms/workspaces: counted, never described

    @property
    def healthy(self) -> bool:
        return self.dead == 0

    @property
    def dead_here(self) -> int:
        return self.dead - self.dead_elsewhere


def _in_scope(platform: str, team_id: str | None, channel_id: str | None) -> ColumnElement[bool]:
    same_team = ChannelRow.team_id.is_(None) if team_id is None else ChannelRow.team_id == team_id
    own_channel = ChannelRow.external_id == channel_id if channel_id is not None else None
    where = same_team if own_channel is None else or_(same_team, own_channel)
    return and_(ChannelRow.platform == platform, where)


async def delivery_status(
    session: AsyncSession,
    now: datetime,
    *,
    platform: str | None = None,
    team_id: str | None = None,
    channel_id: str | None = None,
) -> DeliveryStatus:
    """Queue counts (all channels) and the dead letters; with `platform`, only the dead letters of that
    platform's `team_id` (None: channels without a workspace, e.g. the console) and of the caller's own
    `channel_id` are described, the rest counted in `dead_elsewhere`."""
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
    dead_query = (
        select(OutboxRow, ChannelRow.platform, ChannelRow.external_id, StoryRow.title)
        .join(ChannelRow, ChannelRow.id == OutboxRow.channel_id)
        .outerjoin(StoryRow, StoryRow.id == OutboxRow.story_id)
        .where(OutboxRow.state == "dead")
    )
    dead_total = int(counts.get("dead", 0))
    dead_elsewhere = 0
    if platform is not None:
        scope = _in_scope(platform, team_id, channel_id)
        dead_query = dead_query.where(scope)
        dead_here = (
            await session.execute(
                select(func.count())
                .select_from(OutboxRow)
                .join(ChannelRow, ChannelRow.id == OutboxRow.channel_id)
                .where(OutboxRow.state == "dead", scope)
            )
        ).scalar_one()
        dead_elsewhere = dead_total - int(dead_here)
    dead_rows = await session.execute(dead_query.order_by(OutboxRow.id.desc()).limit(RECENT_DEAD_SHOWN))
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
        dead=dead_total,
        oldest_pending_age=(now - oldest) if oldest is not None else None,
        recent_dead=recent,
        dead_elsewhere=dead_elsewhere,
    )
