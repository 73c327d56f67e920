"""Parse fetched feed bytes with feedparser and normalise every item into `stories.model.Entry`.

feedparser is the parser of record: it tolerates broken XML, sanitises HTML and normalises dates. It is
CPU-bound and holds the GIL, so `FeedParser.parse` runs it in an executor, never on the event loop that
also carries the Discord gateway's heartbeat.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import multiprocessing
import re
from collections.abc import Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import struct_time
from typing import Any

import feedparser

from errors import FeedError
from feeds.html_text import html_to_text
from feeds.links import canonical_link
from stories.cleanup import clean_text
from stories.model import Entry

MAX_KEY_LENGTH = 500  # entries.entry_key is String(512)
MAX_CATEGORIES = 20
UNTITLED = "(untitled)"
# A date further ahead than this is a feed bug (time zone or year typo); first-seen time is used instead.
FUTURE_TOLERANCE = timedelta(days=1)
_LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{2,3}(?:[-_].*)?$")


@dataclass(frozen=True, slots=True)
class FeedContext:
    """What the parser needs to know about the feed: its configured name and language."""

    name: str
    language: str


@dataclass(slots=True)
class ParsedFeed:
    entries: list[Entry]
    title: str = ""
    version: str = ""
    warning: str | None = None  # bozo feed that still yielded entries: noted in feed health
    skipped: int = 0  # items dropped as duplicates within the same document


def entry_key(guid: str | None, link: str | None, title: str, published: datetime | None) -> str:
    """Stable id: the guid, else the canonical link, else a hash of title and date."""
    for candidate in (guid, link):
        if candidate:
            if len(candidate) <= MAX_KEY_LENGTH:
                return candidate
            return "sha256:" + hashlib.sha256(candidate.encode("utf-8")).hexdigest()
    stamp = published.isoformat() if published else ""
    return "sha256:" + hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()


def struct_to_utc(value: struct_time | None) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_times."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def primary_language(tag: str | None) -> str | None:
    if not tag or not _LANGUAGE_TAG.match(tag.strip()):
        return None
    return re.split(r"[-_]", tag.strip().lower())[0]


def _published(item: Mapping[str, Any], now: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: feedparser's own get() maps a missing updated_parsed to published_parsed, with a warning.
        when = struct_to_utc(dict.get(item, key))  # type: ignore[arg-type]
        if when is not None and when <= now + FUTURE_TOLERANCE:
            return when
    return now  # the rule: no usable date means "published when we first saw it"


def _entry_language(item: Mapping[str, Any], feed_declared: str | None, configured: str) -> str:
    # feedparser copies the feed's xml:lang onto every element, so only a language that differs from the
    # feed's own declaration was really set on the entry. Feed-level declarations are not trusted over the
    # configured language: CMS defaults ("en-US" on Spanish sites) are common.
    explicit = primary_language(item.get("language"))
    if explicit:
        return explicit
    for key in ("title_detail", "summary_detail"):
        detail = item.get(key)
        declared = primary_language(detail.get("language")) if detail else None
        if declared and declared != feed_declared:
            return declared
    return configured


def _content(item: Mapping[str, Any]) -> str:
    parts = item.get("content") or []
    best = ""
    for part in parts:
        value = part.get("value") or ""
        if len(value) > len(best):
            best = value
    return html_to_text(best)


def _categories(item: Mapping[str, Any]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in item.get("tags") or []:
        term = clean_text(tag.get("term") or tag.get("label") or "")
        if term and term.casefold() not in {k.casefold() for k in seen}:
            seen[term] = None
        if len(seen) >= MAX_CATEGORIES:
            break
    return tuple(seen)


def _title(item: Mapping[str, Any], summary: str, link: str | None) -> str:
    title = html_to_text(item.get("title"))
    if title:
        return " ".join(title.split())
    if summary:
        first_line = summary.split("\n", 1)[0]
        return first_line if len(first_line) <= 120 else first_line[:117].rstrip() + "..."
    return link or UNTITLED


def normalise_entry(
    item: Mapping[str, Any], context: FeedContext, feed_language: str | None, now: datetime
) -> Entry:
    """One feedparser item → Entry (clean text, canonical link, UTC date, language, author, categories)."""
    guid = (item.get("id") or item.get("guid") or "").strip() or None
    link = canonical_link(item.get("link"))
    if link is None:
        # Some feeds only have an alternate <link rel=...>; take the first http(s) one.
        for candidate in item.get("links") or []:
            link = canonical_link(candidate.get("href"))
            if link:
                break
    summary = html_to_text(item.get("summary"))
    content = _content(item)
    if content == summary:
        content = ""
    title = _title(item, summary, link)
    published = _published(item, now)
    # "jane@example.com (Jane Doe)" → feedparser's author_detail keeps the name apart from the address.
    detail = item.get("author_detail") or {}
    author = clean_text(detail.get("name") or item.get("author") or "") or None
    return Entry(
        entry_id=entry_key(guid, link, title, published),
        feed_name=context.name,
        title=title,
        link=link,
        guid=guid,
        summary=summary,
        content=content,
        published=published,
        first_seen=now,
        language=_entry_language(item, feed_language, context.language),
        author=author,
        categories=_categories(item),
    )


def describe_bozo(exception: BaseException | None) -> str:
    if exception is None:
        return "the feed is malformed"
    text = " ".join(str(exception).split())
    name = type(exception).__name__
    return f"the feed is malformed ({name}: {text[:200]})" if text else f"the feed is malformed ({name})"


def parse_document(
    body: bytes, headers: Mapping[str, str], context: FeedContext, now: datetime
) -> ParsedFeed:
    """Parse and normalise, synchronously: call it through `FeedParser.parse` (an executor)."""
    try:
        document = feedparser.parse(body, response_headers=dict(headers))
    except Exception as error:  # feedparser is tolerant, but a parser bug must not kill the poll
        raise FeedError("parse", f"the feed could not be read ({type(error).__name__})") from None
    items = document.get("entries") or []
    version = document.get("version") or ""
    bozo = bool(document.get("bozo"))
    if not items:
        if bozo:
            raise FeedError("parse", describe_bozo(document.get("bozo_exception")) + " and has no items")
        if not version:
            raise FeedError("not_a_feed", "the address does not return an RSS or Atom feed")
    feed_meta = document.get("feed") or {}
    feed_language = primary_language(feed_meta.get("language"))
    entries: list[Entry] = []
    seen: set[str] = set()
    skipped = 0
    for item in items:
        entry = normalise_entry(item, context, feed_language, now)
        if entry.entry_id in seen:
            skipped += 1
            continue
        seen.add(entry.entry_id)
        entries.append(entry)
    warning = describe_bozo(document.get("bozo_exception")) if bozo else None
    return ParsedFeed(
        entries=entries,
        title=clean_text(feed_meta.get("title") or ""),
        version=version,
        warning=warning,
        skipped=skipped,
    )


class FeedParser:
    """Runs `parse_document` off the event loop.

    Args:
        executor: a thread or process pool; None uses the loop's default thread pool. A process pool
            scales with cores (feedparser holds the GIL); the results are plain picklable dataclasses.
    """

    def __init__(self, executor: Executor | None = None, *, owns_executor: bool = False) -> None:
        self._executor = executor
        self._owns_executor = owns_executor

    @classmethod
    def with_process_pool(cls, workers: int | None = None) -> FeedParser:
        """Parse in worker processes: frees the event loop's GIL and uses every core.

        forkserver, not fork: the parent runs threads (aiosqlite, the default executor) that fork would copy
        mid-lock.
        """
        context = multiprocessing.get_context("forkserver")
        return cls(ProcessPoolExecutor(max_workers=workers, mp_context=context), owns_executor=True)

    def close(self) -> None:
        if self._owns_executor and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def parse(
        self, body: bytes, headers: Mapping[str, str], context: FeedContext, now: datetime
    ) -> ParsedFeed:
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(
            self._executor, _parse_in_worker, body, dict(headers), context, now
        )
        if isinstance(outcome, ParsedFeed):
            return outcome
        kind, reason = outcome
        raise FeedError(kind, reason)


def _parse_in_worker(
    body: bytes, headers: dict[str, str], context: FeedContext, now: datetime
) -> ParsedFeed | tuple[str, str]:
    # FeedError takes keyword arguments and does not survive pickling back from a process pool, so a
    # worker reports failure as a plain (kind, reason) pair.
    try:
        return parse_document(body, headers, context, now)
    except FeedError as error:
        return (error.kind, error.reason)
