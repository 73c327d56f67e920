"""The feeds file (FEEDS_FILE): load and validate it, then sync it into the `feeds` table.

A feed missing from the file is disabled, not deleted, so its stored entries stay searchable; a feed an editor
removed with `bot.py feeds remove` stays removed even while it is still listed in the file. Feeds added with
`bot.py feeds add` (origin "cli") are left alone by the sync.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import ConfigurationError
from storage import feeds_repo
from storage.models import FeedRow
from stories.model import FeedSource

ORIGIN_FILE = "file"
ORIGIN_CLI = "cli"
REMOVED_FROM_FILE = "no longer listed in the feeds file"
REMOVED_BY_EDITOR = "removed with `feeds remove`"

_ALLOWED_KEYS = {"name", "url", "language", "interval_seconds"}
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
MAX_NAME_LENGTH = 200


class FeedsFileError(ConfigurationError):
    """A feeds file that cannot be used; the message names the file and the entry."""


def validate_source(raw: dict[str, Any]) -> FeedSource:
    """One `[[feeds]]` table → FeedSource; ValueError with plain words when a field is wrong."""
    unknown = sorted(set(raw) - _ALLOWED_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (allowed: name, url, language, interval_seconds)")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name is missing or empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"name is longer than {MAX_NAME_LENGTH} characters")
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValueError("url is missing or empty")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url must be an http:// or https:// address, got {url!r}")
    language = raw.get("language")
    if not isinstance(language, str):
        raise ValueError("language is missing (an ISO 639-1 code such as 'en' or 'es')")
    # "es-419" and "en_US" are accepted; the primary subtag is what detection and alerts use.
    primary = re.split(r"[-_]", language.strip().lower())[0]
    if not _LANGUAGE.match(primary):
        raise ValueError(f"language must be an ISO 639-1 code such as 'en' or 'es', got {language!r}")
    interval = raw.get("interval_seconds")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int) or interval < 1):
        raise ValueError(f"interval_seconds must be a positive whole number, got {interval!r}")
    return FeedSource(name=name.strip(), url=url.strip(), language=primary, interval_seconds=interval)


def parse_sources(text: str, origin: str = "feeds file") -> list[FeedSource]:
    """Parse the TOML text of a feeds file; FeedsFileError names `origin` and the entry on any problem."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FeedsFileError(f"{origin}: not valid TOML ({error})") from None
    tables = document.get("feeds", [])
    if not isinstance(tables, list):
        raise FeedsFileError(f"{origin}: 'feeds' must be a list of [[feeds]] tables")
    sources: list[FeedSource] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(tables, start=1):
        label = f"entry {number}"
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            label += f" ({raw['name']!r})"
        if not isinstance(raw, dict):
            raise FeedsFileError(f"{origin}: {label}: must be a [[feeds]] table")
        try:
            source = validate_source(raw)
        except ValueError as error:
            raise FeedsFileError(f"{origin}: {label}: {error}") from None
        key = source.name.casefold()
        if key in seen:
            raise FeedsFileError(f"{origin}: {label}: name already used by entry {seen[key]}")
        seen[key] = number
        sources.append(source)
    return sources


def load_sources(path: Path) -> list[FeedSource]:
    """Read and validate a feeds file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FeedsFileError(f"FEEDS_FILE: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise FeedsFileError(f"FEEDS_FILE: {path} cannot be read ({error})") from None
    return parse_sources(text, origin=str(path))


@dataclass(slots=True)
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    enabled: list[str] = field(default_factory=list)
    kept_removed: list[str] = field(default_factory=list)  # still in the file, but removed by an editor


def new_feed_row(source: FeedSource, now: datetime, origin: str) -> FeedRow:
    return FeedRow(
        name=source.name,
        url=source.url,
        configured_url=source.url,
        origin=origin,
        language=source.language,
        interval_seconds=source.interval_seconds,
        enabled=True,
        consecutive_failures=0,
        backlog_loaded=False,
        next_poll_at=now,  # due at once: its first poll stores the backlog silently
        created_at=now,
    )


def _apply_source(row: FeedRow, source: FeedSource) -> bool:
    changed = False
    if row.configured_url != source.url:
        # The file points somewhere new: forget the old cache validators and redirect target.
        row.url = source.url
        row.configured_url = source.url
        row.etag = row.last_modified = row.body_hash = None
        changed = True
    if row.language != source.language:
        row.language = source.language
        changed = True
    if row.interval_seconds != source.interval_seconds:
        row.interval_seconds = source.interval_seconds
        row.current_interval_seconds = None
        changed = True
    return changed


async def sync_sources(session: AsyncSession, sources: list[FeedSource], now: datetime) -> SyncReport:
    """Make the `feeds` table match the file: add new feeds, update changed ones, disable dropped ones.

    Flushes, never commits.
    """
    report = SyncReport()
    rows = {row.name: row for row in await feeds_repo.list_feeds(session)}
    listed = {source.name for source in sources}
    for source in sources:
        row = rows.get(source.name)
        if row is None:
            session.add(new_feed_row(source, now, ORIGIN_FILE))
            report.added.append(source.name)
            continue
        if row.origin != ORIGIN_FILE:
            row.origin = ORIGIN_FILE  # the file now owns a feed first added by hand
        url_changed = row.configured_url != source.url
        if _apply_source(row, source):
            report.changed.append(source.name)
        if not row.enabled and url_changed and row.disabled_reason != REMOVED_BY_EDITOR:
            # A feed disabled by its server (410 Gone) gets another chance at its new address.
            row.disabled_reason = REMOVED_FROM_FILE
        if not row.enabled:
            if row.disabled_reason == REMOVED_BY_EDITOR:
                report.kept_removed.append(source.name)
            elif row.disabled_reason == REMOVED_FROM_FILE:
                row.enabled = True
                row.disabled_reason = None
                row.next_poll_at = now
                report.enabled.append(source.name)
    for name, row in rows.items():
        if name not in listed and row.origin == ORIGIN_FILE and row.enabled:
            row.enabled = False
            row.disabled_reason = REMOVED_FROM_FILE
            row.lease_owner = row.lease_until = None
            report.disabled.append(name)
    await session.flush()
    return report
