"""Feed polling benchmark (prints, never fails): `python -m bench feeds`.

1. 200 feeds × 50 entries served on loopback; one full poll cycle (lease, fetch, parse, normalise, store
   every entry in SQLite): entries/s, with feedparser in the default thread pool and in a process pool.
2. The same bytes through bare `feedparser.parse`: the ratio whole-cycle / bare parse.
3. feedparser against fastfeedparser on the same bytes, and whether a fastfeedparser fast path would give
   identical normalised entries on the corpus (the condition for adopting one).
4. A second cycle where every feed answers 304: time per feed.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastfeedparser
import feedparser

from config.corpus import corpus_dir
from config.settings import Settings, load_settings
from feeds.html_text import html_to_text
from feeds.links import canonical_link
from feeds.parse import FeedContext, FeedParser, entry_key, parse_document
from feeds.schedule import FeedPoller, PollOutcome
from feeds.sources import new_feed_row
from storage.db import create_engine, session_factory, upgrade_database
from storage.models import EntryRow, FeedRow
from stories.model import Entry, FeedSource
from tests.fakes.feed_server import FeedItem, FeedServer, rss_document

FEEDS = 200
ENTRIES = 50
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CORPUS = corpus_dir()

_PARAGRAPH = (
    "<p>Cientos de migrantes cruzaron el puente Simón Bolívar entre San Antonio del Táchira y Cúcuta "
    "este martes, según la Defensoría del Pueblo. <a href='https://example.org/x?utm_source=rss'>Más</a></p>"
    "<p>Las autoridades colombianas reportaron 1.200 ingresos &amp; 300 salidas.</p>"
)


def feed_bytes(number: int) -> bytes:
    items = [
        FeedItem(
            title=f"Frontera {number}-{n}: reabren paso en Cúcuta & Táchira",
            link=f"https://outlet{number % 20}.example/news/{number}/{n}?utm_source=rss&utm_medium=feed",
            guid=f"feed{number}-item{n}",
            summary=_PARAGRAPH,
            published=NOW - timedelta(minutes=17 * n + number),
            author="Redacción",
            categories=("Frontera", "Migración"),
        )
        for n in range(ENTRIES)
    ]
    return rss_document(f"Outlet {number}", items, language="es")


async def store_entries(session: Any, feed: FeedRow, entries: list[Entry], now: datetime) -> None:
    session.add_all(
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
        for entry in entries
    )
    await session.flush()


def _settings() -> Settings:
    return load_settings(
        FETCH_CONCURRENCY=20,
        FETCH_PER_HOST_CONCURRENCY=20,
        POLL_MIN_SECONDS=60,
        POLL_MAX_SECONDS=3600,
        LEASE_SECONDS=600,
    )


async def _cycle(bodies: list[bytes], executor: Executor | None) -> tuple[float, int, float, int]:
    """(seconds for the full cycle, entries stored, seconds for the 304 cycle, feeds answering 304)."""
    settings = _settings()
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
        await upgrade_database(engine)
        sessions = session_factory(engine)
        clock = {"now": NOW}
        try:
            async with FeedServer() as server:
                async with sessions() as session, session.begin():
                    for number, body in enumerate(bodies):
                        url = server.feed(f"/feed{number}.xml", body)
                        session.add(new_feed_row(FeedSource(f"outlet {number}", url, "es"), NOW, "file"))
                poller = FeedPoller(
                    sessions, settings, store_entries, parser=FeedParser(executor), clock=lambda: clock["now"]
                )
                try:
                    started = time.perf_counter()
                    first = await poller.tick()
                    full = time.perf_counter() - started
                    clock["now"] = NOW + timedelta(days=1)  # everything due again
                    started = time.perf_counter()
                    second = await poller.tick()
                    cached = time.perf_counter() - started
                finally:
                    await poller.aclose()
        finally:
            await engine.dispose()
    return full, first.entries, cached, second.count(PollOutcome.NOT_MODIFIED)


def _timed(function: Callable[[bytes], Any], bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        function(body)
    return time.perf_counter() - started


def _fast_normalise(body: bytes, context: FeedContext) -> list[tuple[Any, ...]]:
    """What a fastfeedparser fast path would produce, reduced to the fields compared."""
    document = fastfeedparser.parse(body)
    rows = []
    for item in document.get("entries", []):
        link = canonical_link(item.get("link"))
        title = " ".join(html_to_text(item.get("title")).split())
        published = item.get("published")
        when = datetime.fromisoformat(published).astimezone(UTC) if published else NOW
        guid = (item.get("id") or "").strip() or None
        summary = html_to_text(item.get("description"))
        rows.append((entry_key(guid, link, title, when), title, link, when, summary))
    return rows


def _reference(body: bytes, context: FeedContext) -> list[tuple[Any, ...]]:
    parsed = parse_document(body, {"content-type": "application/xml"}, context, NOW)
    return [(e.entry_id, e.title, e.link, e.published, e.summary) for e in parsed.entries]


def _fast_path_agreement(paths: list[Path]) -> tuple[int, int, int]:
    """(documents compared, identical, fastfeedparser raised) over corpus documents feedparser reads."""
    context = FeedContext("corpus", "en")
    compared = identical = raised = 0
    for path in paths:
        body = path.read_bytes()
        try:
            reference = _reference(body, context)
        except Exception:
            continue  # feedparser rejects it too: no entries to compare
        compared += 1
        try:
            fast = _fast_normalise(body, context)
        except Exception:
            raised += 1
            continue
        identical += fast == reference
    return compared, identical, raised


def run() -> None:
    bodies = [feed_bytes(number) for number in range(FEEDS)]
    total_entries = FEEDS * ENTRIES
    megabytes = sum(map(len, bodies)) / 1e6
    print(f"{FEEDS} feeds × {ENTRIES} entries, {megabytes:.1f} MB of RSS on loopback, SQLite store")

    bare = _timed(lambda body: feedparser.parse(body), bodies)
    fast = _timed(lambda body: fastfeedparser.parse(body), bodies)
    print(f"bare feedparser.parse:  {bare:6.2f} s  ({bare / total_entries * 1e6:6.0f} µs/entry)")
    print(
        f"bare fastfeedparser:    {fast:6.2f} s  ({fast / total_entries * 1e6:6.0f} µs/entry)"
        f"  → feedparser is {bare / fast:.0f}× slower"
    )

    for label, executor in (
        ("thread pool", None),
        (f"process pool ×{os.cpu_count()}", ProcessPoolExecutor()),
    ):
        try:
            full, stored, cached, not_modified = asyncio.run(_cycle(bodies, executor))
        finally:
            if executor is not None:
                executor.shutdown()
        print(
            f"full poll cycle, parse in {label}: {full:6.2f} s, {stored} entries stored, "
            f"{stored / full:,.0f} entries/s; whole cycle / bare feedparser = {full / bare:.2f}"
        )
        print(
            f"  304 cycle: {cached:.2f} s for {FEEDS} feeds ({not_modified} answered 304), "
            f"{cached / FEEDS * 1000:.1f} ms per feed"
        )

    corpus = sorted((CORPUS / "feeds-real").glob("*.xml"))
    if corpus:
        real_bare = statistics.fmean(_timed(lambda b: feedparser.parse(b), [p.read_bytes()]) for p in corpus)
        real_fast = statistics.fmean(
            _timed(lambda b: fastfeedparser.parse(b), [p.read_bytes()]) for p in corpus
        )
        print(
            f"real feeds ({len(corpus)}): feedparser {real_bare * 1000:.1f} ms/feed, fastfeedparser "
            f"{real_fast * 1000:.2f} ms/feed"
        )
        suite = sorted(p for p in (CORPUS / "feedparser-tests").rglob("*") if p.is_file())
        compared, identical, raised = _fast_path_agreement(corpus + suite)
        print(
            f"fast-path check on {compared} corpus documents feedparser reads: identical normalised entries "
            f"for {identical}, fastfeedparser raised on {raised} → "
            + ("fast path viable" if identical == compared else "fast path NOT adopted (not identical)")
        )


if __name__ == "__main__":
    run()
