"""How fast the sender may post: per-channel spacing, a global budget, and retry delays.

Slack allows about one message per second per channel and Discord has per-route buckets plus a global
limit; pacing ourselves keeps 429s rare, and `RateLimited.retry_after` pauses a channel when one comes.
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


class ChannelPacer:
    """At most one message per `interval` seconds to each channel; a 429 pauses that channel."""

    def __init__(
        self, interval: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next_allowed: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def delay_for(self, channel: str) -> float:
        return max(0.0, self._next_allowed.get(channel, 0.0) - self._clock())

    async def wait_turn(self, channel: str) -> None:
        """Wait until the channel may receive a message, then reserve the slot."""
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            delay = self.delay_for(channel)
            if delay > 0:
                await self._sleep(delay)
            self._next_allowed[channel] = self._clock() + self._interval

    def pause(self, channel: str, seconds: float) -> None:
        """The platform said "retry after": nothing goes to this channel before then."""
        until = self._clock() + seconds
        self._next_allowed[channel] = max(self._next_allowed.get(channel, 0.0), until)


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
