"""Whether the database can be used right now, as this process sees it, and the outages it came through.

The engine reports to the watch (SQLAlchemy events): a statement or connection that fails because the
server is unreachable, restarting, or the SQLite file is locked or read-only starts an outage; the next
successful write ends it. `/healthz` reads `health()` (503 while the store is down), the process records
each ended outage in `store_outages` (`record_ended`) so `/news feeds` can tell reporters that polling and
delivery paused, and one log line marks each start and end instead of a traceback per failed query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import event, select
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import StoreOutageRow
from values.clock import utc_now

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StoreOutage:
    started_at: datetime
    ended_at: datetime
    error: str
    worker_id: str = ""

    @property
    def duration(self) -> timedelta:
        return self.ended_at - self.started_at


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return (text[0] if text else type(original).__name__)[:300]


class StoreWatch:
    """Attach to an engine with `attach(engine)`; read `down_since`, `health()`; drain `ended`."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self.down_since: datetime | None = None
        self.last_error: str | None = None
        self.ended: list[StoreOutage] = []  # ended outages not yet recorded in the store

    def attach(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "handle_error", self._on_error)
        event.listen(engine.sync_engine, "after_cursor_execute", self._on_executed)

    # --- engine events (run in the engine's thread or greenlet: keep them tiny) ------------------------

    def _on_error(self, context: ExceptionContext) -> None:
        error = context.sqlalchemy_exception or context.original_exception
        if context.is_disconnect or isinstance(error, OperationalError) or _is_connect_failure(context):
            self.store_failed(context.original_exception)

    def _on_executed(
        self, _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        # A read can succeed while writes still fail (a locked or read-only SQLite file), so only a write
        # ends an outage.
        if (
            self.down_since is not None
            and context is not None
            and (context.isinsert or context.isupdate or context.isdelete)
        ):
            self.store_back()

    # --- state -----------------------------------------------------------------------------------------

    def store_failed(self, error: BaseException) -> None:
        self.last_error = _first_line(error)
        if self.down_since is None:
            self.down_since = self._clock()
            log.error("database unusable; polling and delivery pause and retry", error=self.last_error)

    def store_back(self) -> None:
        if self.down_since is None:
            return
        outage = StoreOutage(self.down_since, self._clock(), self.last_error or "unknown error")
        self.down_since = None
        self.ended.append(outage)
        log.warning(
            "database usable again; polling and delivery resume",
            down_seconds=round(outage.duration.total_seconds(), 1),
            error=outage.error,
        )

    def health(self) -> tuple[bool, str]:
        if self.down_since is None:
            return True, "ok"
        since = (self._clock() - self.down_since).total_seconds()
        return False, f"unusable for {since:.0f}s: {self.last_error}"

    async def record_ended(self, sessions: async_sessionmaker[AsyncSession], worker_id: str) -> int:
        """Write the ended outages to `store_outages`; kept for the next try if the store fails again."""
        if not self.ended:
            return 0
        pending = list(self.ended)
        async with sessions() as session, session.begin():
            for outage in pending:
                session.add(
                    StoreOutageRow(
                        worker_id=worker_id,
                        started_at=outage.started_at,
                        ended_at=outage.ended_at,
                        error=outage.error,
                    )
                )
        del self.ended[: len(pending)]
        return len(pending)


def _is_connect_failure(context: ExceptionContext) -> bool:
    # A refused or dropped connection while connecting (the server restarting) arrives as a DBAPIError
    # whose original is the driver's OperationalError.
    return (
        isinstance(context.sqlalchemy_exception, DBAPIError)
        and type(context.original_exception).__name__ == "OperationalError"
    )


async def recent_outages(session: AsyncSession, since: datetime, limit: int = 5) -> list[StoreOutage]:
    """Outages that ended after `since`, newest first (several workers may report the same one)."""
    rows = await session.scalars(
        select(StoreOutageRow)
        .where(StoreOutageRow.ended_at >= since)
        .order_by(StoreOutageRow.ended_at.desc())
        .limit(limit)
    )
    return [StoreOutage(r.started_at, r.ended_at, r.error, r.worker_id) for r in rows]
