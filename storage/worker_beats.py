"""The `worker_beats` table: which workers are alive, what role they run, and when their scheduler and
delivery loop last turned (written every few seconds by each process; read by operators and the scale-out
tests). Each function runs its own short transactions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import SchedulerBeatRow


async def record_beats(
    sessions: async_sessionmaker[AsyncSession],
    worker_id: str,
    role: str,
    now: datetime,
    *,
    scheduler_beat_at: datetime | None,
    sender_beat_at: datetime | None,
) -> None:
    values = {"role": role, "scheduler_beat_at": scheduler_beat_at, "sender_beat_at": sender_beat_at}
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(SchedulerBeatRow).where(SchedulerBeatRow.worker_id == worker_id).values(**values)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return
    try:
        async with sessions() as session, session.begin():
            session.add(SchedulerBeatRow(worker_id=worker_id, started_at=now, **values))
    except IntegrityError:
        pass  # inserted by our own previous beat racing this one: the next update lands


async def forget_worker(sessions: async_sessionmaker[AsyncSession], worker_id: str) -> None:
    """A cleanly stopped worker leaves the table, so what remains is alive or crashed."""
    async with sessions() as session, session.begin():
        await session.execute(delete(SchedulerBeatRow).where(SchedulerBeatRow.worker_id == worker_id))
