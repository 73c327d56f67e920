"""The clock every layer defaults to: aware UTC, like every time Wirewatch stores or compares."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
