"""Feed health: how a failure is classed, when to try again, and how often a healthy feed is polled.

All the arithmetic of the schedule lives here so `feeds.schedule` and `storage.feeds_repo` only move values.
"""

from __future__ import annotations

import enum
import random
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from config.settings import Settings

# Failures back off from POLL_MIN_SECONDS, doubling, up to this ceiling (or POLL_MAX_SECONDS if larger).
BACKOFF_CEILING_SECONDS = 6 * 3600
BACKOFF_JITTER = 0.2  # ±20 %: feeds that failed together do not retry together
INTERVAL_JITTER = 0.1  # ±10 % on healthy polls, for the same reason
MIN_RETRY_AFTER_SECONDS = 1.0
# Publication gaps are measured over the newest entries only: a feed's rhythm changes over the years.
RECENT_ENTRIES = 20
# Poll a few times per typical gap between two publications, so a new item waits about a third of it.
POLLS_PER_GAP = 3


class FailureClass(enum.StrEnum):
    THROTTLED = "throttled"  # 429/503: the server said when to come back
    TRANSIENT = "transient"  # timeouts, connection drops, DNS hiccups, 5xx: likely to pass
    BROKEN = "broken"  # 4xx, HTML instead of a feed, unreadable XML, too large, TLS: needs a human
    GONE = "gone"  # 410: the feed is disabled


_CLASSES = {
    "rate_limited": FailureClass.THROTTLED,
    "unavailable": FailureClass.THROTTLED,
    "timeout": FailureClass.TRANSIENT,
    "connection": FailureClass.TRANSIENT,
    "dns": FailureClass.TRANSIENT,
    "empty": FailureClass.TRANSIENT,
    "ingest": FailureClass.TRANSIENT,
    "gone": FailureClass.GONE,
}


def classify(kind: str) -> FailureClass:
    """The failure class of a FeedError kind; 5xx are transient, other HTTP errors need a human."""
    if kind in _CLASSES:
        return _CLASSES[kind]
    if kind.startswith("http_5"):
        return FailureClass.TRANSIENT
    return FailureClass.BROKEN


def clamp(seconds: float, settings: Settings) -> int:
    return int(min(max(seconds, settings.poll_min_seconds), settings.poll_max_seconds))


def base_interval(configured: int | None, settings: Settings) -> int:
    """The interval a feed starts with: its own interval_seconds, else POLL_INTERVAL_SECONDS, clamped."""
    return clamp(configured or settings.poll_interval_seconds, settings)


def publication_interval(published: Iterable[datetime | None], settings: Settings) -> int | None:
    """The adaptive interval from how often the feed really publishes; None when there is too little data.

    The median gap between the newest entries, divided by POLLS_PER_GAP, clamped to
    POLL_MIN_SECONDS..POLL_MAX_SECONDS.
    """
    times = sorted({when for when in published if when is not None}, reverse=True)[:RECENT_ENTRIES]
    if len(times) < 3:
        return None
    gaps = [(newer - older).total_seconds() for newer, older in pairwise(times)]
    gaps = [gap for gap in gaps if gap > 0]
    if not gaps:
        return None
    return clamp(statistics.median(gaps) / POLLS_PER_GAP, settings)


def jittered(seconds: float, spread: float, rng: random.Random | None = None) -> float:
    generator = rng or random
    return seconds * (1 + generator.uniform(-spread, spread))


def backoff_seconds(failures: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter after `failures` consecutive failures (1 = the first)."""
    ceiling = max(BACKOFF_CEILING_SECONDS, settings.poll_max_seconds)
    exponent = min(max(failures, 1) - 1, 30)
    delay = min(settings.poll_min_seconds * 2**exponent, ceiling)
    return min(jittered(delay, BACKOFF_JITTER, rng), ceiling)


@dataclass(frozen=True, slots=True)
class FailurePlan:
    failure_class: FailureClass
    next_poll_at: datetime | None  # None: the feed is disabled
    disable: bool


def plan_after_failure(
    kind: str,
    retry_after: float | None,
    failures: int,
    now: datetime,
    settings: Settings,
    rng: random.Random | None = None,
) -> FailurePlan:
    """When to try again after a failure: Retry-After if the server gave one, else exponential backoff."""
    failure_class = classify(kind)
    if failure_class is FailureClass.GONE:
        return FailurePlan(failure_class, None, disable=True)
    if retry_after is not None:
        wait = max(retry_after, MIN_RETRY_AFTER_SECONDS)
        # A server's Retry-After wins, but it never makes us poll sooner than our own backoff would allow
        # for a feed that keeps failing.
        if failures > 1:
            wait = max(wait, backoff_seconds(failures - 1, settings, rng))
    else:
        wait = backoff_seconds(failures, settings, rng)
    return FailurePlan(failure_class, now + timedelta(seconds=wait), disable=False)


def next_poll_after_success(now: datetime, interval: int, rng: random.Random | None = None) -> datetime:
    return now + timedelta(seconds=jittered(interval, INTERVAL_JITTER, rng))
