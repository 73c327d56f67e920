"""Robustness on public corpora: feedparser's own test suite over HTTP, and real news feeds.

The corpus is read-only and lives outside the repository (`tests.conftest.CORPUS`); the tests skip with
the reason when it is absent.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from config.settings import load_settings
from feeds.parse import MAX_KEY_LENGTH, FeedContext, parse_document
from feeds.schedule import FeedPoller, PollOutcome
from feeds.sources import new_feed_row
from storage.db import session_factory
from storage.models import EntryRow, FeedRow
from stories.model import Entry, FeedSource
from tests.conftest import CORPUS
from tests.fakes.feed_server import FeedServer

FEEDPARSER_TESTS = CORPUS / "feedparser-tests"
REAL_FEEDS = CORPUS / "feeds-real"
_TAG = re.compile(r"<(p|div|br|a|img|span|b|i|strong|em)\b[^>]*>", re.IGNORECASE)


def _files(directory: Path, pattern: str = "*") -> list[Path]:
    if not directory.is_dir():
        pytest.skip(f"corpus not found at {directory}")
    return sorted(path for path in directory.rglob(pattern) if path.is_file())


async def store_entries(session: AsyncSession, feed: FeedRow, entries: list[Entry], now: datetime) -> None:
    """A minimal sink that stores each entry as the pipeline would: proves every field fits the schema."""
    for entry in entries:
        session.add(
            EntryRow(
                feed_id=feed.id,
                entry_key=entry.entry_id,
                guid=entry.guid,
                link=entry.link,
                title=entry.title,
                summary=entry.summary,
                content=entry.content,
                published_at=entry.published,
                first_seen_at=entry.first_seen or now,
                language=entry.language,
                author=entry.author,
                categories=list(entry.categories),
            )
        )
    await session.flush()


@pytest.mark.slow
async def test_feedparser_suite_goes_through_fetch_parse_store(sqlite_engine: AsyncEngine) -> None:
    files = _files(FEEDPARSER_TESTS)
    settings = load_settings(
        FETCH_CONCURRENCY=16, FETCH_PER_HOST_CONCURRENCY=16, FETCH_TOTAL_TIMEOUT_SECONDS=20
    )
    sessions = session_factory(sqlite_engine)
    now = datetime.now(UTC)
    async with FeedServer() as server:
        server.serve_directory("/corpus", FEEDPARSER_TESTS)
        urls = server.directory_urls("/corpus", files, FEEDPARSER_TESTS)
        async with sessions() as session, session.begin():
            for number, url in enumerate(urls):
                session.add(new_feed_row(FeedSource(f"corpus {number:04d}", url, "en"), now, "file"))
        poller = FeedPoller(sessions, settings, store_entries, clock=lambda: now)
        try:
            summary = await poller.tick()
        finally:
            await poller.aclose()
    outcomes = Counter(result.outcome for result in summary.results)
    errors = Counter(result.error_kind for result in summary.results if result.error_kind)
    with_entries = sum(1 for result in summary.results if result.entries)
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(EntryRow))
    print(
        f"\nfeedparser corpus: {len(files)} files, {with_entries} yielded entries ({stored} stored), "
        f"outcomes {dict(outcomes)}, errors {dict(errors)}"
    )
    assert len(summary.results) == len(files)  # every file was polled once
    assert "ingest" not in errors  # no unhandled exception in parsing, normalising or storing
    assert outcomes[PollOutcome.FETCHED] + outcomes[PollOutcome.FAILED] == len(files)
    assert set(errors) <= {"not_a_feed", "parse", "empty"}
    assert with_entries > len(files) // 2
    assert stored == summary.entries


@pytest.mark.parametrize(
    "path", _files(REAL_FEEDS, "*.xml") if REAL_FEEDS.is_dir() else [], ids=lambda p: p.stem
)
def test_real_feed_parses_into_sane_entries(path: Path) -> None:
    now = datetime.now(UTC)
    headers = {"content-type": "application/xml", "content-location": "https://outlet.example/feed"}
    parsed = parse_document(path.read_bytes(), headers, FeedContext(path.stem, "en"), now)
    assert parsed.entries, "a real news feed has items"
    ids = [entry.entry_id for entry in parsed.entries]
    assert len(ids) == len(set(ids))
    for entry in parsed.entries:
        assert entry.title.strip() and "<" not in entry.title
        assert entry.entry_id and len(entry.entry_id) <= MAX_KEY_LENGTH
        assert entry.link is None or (
            entry.link.startswith(("http://", "https://")) and "utm_" not in entry.link
        )
        assert entry.link is None or "#" not in entry.link
        assert entry.published is not None and entry.published.tzinfo is not None
        assert entry.published <= now + timedelta(days=1)
        assert entry.language == "en"
        assert not _TAG.search(entry.summary) and not _TAG.search(entry.content)
        assert "&amp;" not in entry.summary and "&#" not in entry.title
