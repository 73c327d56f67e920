"""How fast the sender may post: a per-process budget, and retry delays.

Slack allows about one message per second per channel and Discord has per-route buckets plus a global
limit. The per-channel pace is shared by every worker, so it lives in the database (`channels.next_post_at`,
kept by `storage.outbox`); this module holds what is per process.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 15 * 60.0


def backoff_delay(attempts: int, rng: random.Random, *, base: float = BACKOFF_BASE_SECONDS) -> float:
    """Exponential backoff with jitter after `attempts` failed tries (1 → about `base` seconds).

    Half fixed, half random ("equal jitter"): retries from many rows that failed together spread out,
    yet none comes back sooner than half its step.
    """
    step = min(BACKOFF_CAP_SECONDS, base * 2 ** max(0, attempts - 1))
    return step / 2 + rng.uniform(0, step / 2)


class GlobalBudget:
    """At most `per_second` messages per second across all channels of this process (evenly spaced)."""

    def __init__(
        self, per_second: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._spacing = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._spacing
        if slot > now:
            await self._sleep(slot - now)
