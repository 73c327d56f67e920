"""Durations and times as reporters type them: `7d`, `2h`, `90m`, `1w`, `18:00`, `2019-02-23`.

Every function returns None for input it cannot read; callers turn that into a helpful reply.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

_DURATION = re.compile(r"^\s*(\d{1,6})\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|wk|weeks?)\s*$", re.I)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3])(?::([0-5]\d))?\s*$")
_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")

# Anything longer is a typo, and a timedelta that large would overflow date arithmetic.
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str) -> timedelta | None:
    """`7d` → 7 days; None when unreadable, zero or longer than ten years."""
    match = _DURATION.match(text)
    if match is None:
        return None
    amount, unit = int(match.group(1)), match.group(2).lower()
    key = "m" if unit.startswith("m") else unit[0]
    duration = timedelta(seconds=amount * _UNIT_SECONDS[key])
    if duration <= timedelta(0) or duration > MAX_DURATION:
        return None
    return duration


def parse_date(text: str) -> date | None:
    """`2019-02-23` → that date; None when it is not a real calendar date."""
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def parse_since(text: str, now: datetime) -> datetime | None:
    """`since:` values: a duration back from now, or a date (midnight UTC)."""
    duration = parse_duration(text)
    if duration is not None:
        return now - duration
    day = parse_date(text)
    if day is not None:
        return datetime.combine(day, time(0, 0), tzinfo=UTC)
    return None


def next_clock_time(text: str, now: datetime) -> datetime | None:
    """`18:00` (UTC) → the next time the clock shows it: today, or tomorrow when it has passed."""
    match = _CLOCK.match(text)
    if match is None:
        return None
    wanted = time(int(match.group(1)), int(match.group(2) or 0))
    candidate = datetime.combine(now.astimezone(UTC).date(), wanted, tzinfo=UTC)
    if candidate <= now:
        candidate += timedelta(days=1)
    return candidate


def describe_duration(duration: timedelta) -> str:
    """A short human form: `2 h`, `3 days`, `45 min`."""
    seconds = int(duration.total_seconds())
    if seconds >= 2 * 86_400:
        return f"{round(seconds / 86_400)} days"
    if seconds >= 3600:
        hours = seconds / 3600
        return f"{hours:.0f} h" if hours == int(hours) else f"{hours:.1f} h"
    return f"{max(1, round(seconds / 60))} min"


def describe_ago(moment: datetime | None, now: datetime) -> str:
    """`5 min ago`, `3 h ago`, `in 4 min`; "never" for None."""
    if moment is None:
        return "never"
    delta = now - moment
    if delta < timedelta(0):
        return f"in {describe_duration(-delta)}"
    if delta < timedelta(minutes=1):
        return "just now"
    return f"{describe_duration(delta)} ago"
