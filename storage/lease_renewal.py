"""Leases that live as long as the work: renewed while a worker holds them, short when it dies.

A claimed outbox row holds its channel's place in line, and a leased feed is not polled by anyone else,
until the lease runs out. A long lease made a killed worker's channels wait minutes; a short one alone
would be lost in the middle of a slow post or fetch. So leases are short (LEASE_SECONDS, 15 s by default)
and every worker renews the ones it is working on every third of that: a live worker keeps its claims, a
dead one loses them within one lease.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)

# (session, owner, ids held, new lease end) -> the ids still held by owner
RenewLeases = Callable[[AsyncSession, str, Sequence[int], datetime], Awaitable[set[int]]]


async def extend_leases(
    session: AsyncSession,
    model: Any,
    owner: str,
    ids: Sequence[int],
    until: datetime,
    *still_held: Any,
) -> set[int]:
    """Move `lease_until` of `owner`'s rows `ids` of `model` (with `still_held` conditions) to `until`;
    returns the ids it still holds.

    By id, not by owner: a restarted worker with the same WORKER_ID must not keep its dead predecessor's
    leases alive.
    """
    if not ids:
        return set()
    result = await session.execute(
        update(model)
        .where(model.id.in_(list(ids)), model.lease_owner == owner, *still_held)
        .values(lease_until=until)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())


class LeaseRenewal:
    """Renews `owner`'s leases on the ids in `held` every `lease / 3` while `keeping()` is entered."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        renew: RenewLeases,
        *,
        owner: str,
        lease: timedelta,
        clock: Callable[[], datetime],
        what: str,
    ) -> None:
        self._sessions = sessions
        self._renew = renew
        self._owner = owner
        self._lease = lease
        self._clock = clock
        self._what = what  # "feed" or "alert", for the log
        self.held: set[int] = set()
        self._keepers = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def every_seconds(self) -> float:
        return self._lease.total_seconds() / 3

    def hold(self, item_id: int) -> None:
        self.held.add(item_id)

    def release(self, item_id: int) -> None:
        self.held.discard(item_id)

    async def renew_now(self) -> None:
        """One renewal of everything held; a database error is logged and the next turn tries again."""
        ids = sorted(self.held)
        if not ids:
            return
        try:
            async with self._sessions() as session, session.begin():
                kept = await self._renew(session, self._owner, ids, self._clock() + self._lease)
        except Exception as error:
            # The lease may run out before the next try; the guards on every write keep a worker that
            # lost it from overwriting the one that took over.
            log.warning("could not renew leases", what=self._what, held=len(ids), error=str(error)[:200])
            return
        lost = [item for item in ids if item not in kept and item in self.held]
        if lost:
            log.warning("leases lost to another worker", what=self._what, ids=lost[:20])

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every_seconds)
            await self.renew_now()

    @contextlib.asynccontextmanager
    async def keeping(self) -> AsyncIterator[None]:
        """Renew in the background for as long as the block runs (re-entrant across concurrent blocks)."""
        self._keepers += 1
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"renew-{self._what}-leases")
        try:
            yield
        finally:
            self._keepers -= 1
            if self._keepers == 0 and self._task is not None:
                task, self._task = self._task, None
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
