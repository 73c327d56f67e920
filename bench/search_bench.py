"""Search latency on 1,000,000 synthetic entries (SQLite FTS5), against a LIKE scan of the same data.

`python -m bench search` prints p50/p95 of `/news venezuela` and of a phrase + `since:` query through the
same code path `/news` uses (`storage.search.search_stories`), and the ratio to a LIKE scan that answers the
same question. Targets: p95 < 50 ms, at least 50x faster than the scan. It prints; it never fails.

SEARCH_BENCH_ENTRIES overrides the size (e.g. 100000 for a quick look).
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import insert

from handlers.news.query import parse_news_query
from storage.db import create_engine, session_factory, upgrade_database
from storage.models import EntryRow, FeedRow, StoryRow
from storage.search import search_stories

ENTRIES = int(os.environ.get("SEARCH_BENCH_ENTRIES", "1000000"))
ENTRIES_PER_STORY = 3
FEEDS = 50
BATCH = 20_000
RUNS = 40
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
TARGET_P95_MS = 50.0
TARGET_RATIO = 50.0

# A news vocabulary in both languages; "venezuela" and the phrase are planted at known rates below.
WORDS = (  # noqa: SIM905 - a paragraph of words reads better than a 100-item list
    "government minister president border crossing bridge migrants refugees army soldiers police "
    "election vote congress court judge economy inflation oil prices market trade exports imports "
    "health hospital school teachers strike protest march weather rain floods drought harvest coffee "
    "football league match coach players festival music cinema tourism airport flights port cargo "
    "gobierno ministro presidente frontera cruce paso migrantes refugiados ejército soldados policía "
    "elecciones congreso tribunal economía inflación petróleo precios mercado comercio salud hospital "
    "escuela maestros huelga protesta lluvia inundaciones sequía cosecha café fútbol partido festival "
    "Bogotá Caracas Medellín Maracaibo Cúcuta Barranquilla Cartagena Valencia Mérida Táchira Zulia"
).split()
VENEZUELA_RATE = 0.05  # one entry in twenty mentions Venezuela
PHRASE = "puente internacional"
PHRASE_RATE = 0.01


def _stamp(moment: datetime) -> str:
    # The text form SQLAlchemy's SQLite DateTime stores (naive UTC), for the raw LIKE scan.
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sentence(rng: random.Random, size: int) -> str:
    return " ".join(rng.choices(WORDS, k=size))


def _entry_rows(rng: random.Random, start: int, count: int) -> list[dict[str, object]]:
    rows = []
    for index in range(start, start + count):
        title = _sentence(rng, rng.randint(6, 11))
        summary = _sentence(rng, rng.randint(25, 45))
        if rng.random() < VENEZUELA_RATE:
            title = f"Venezuela {title}" if rng.random() < 0.5 else title
            summary = f"{summary} venezuela"
        if rng.random() < PHRASE_RATE:
            summary = f"{summary} {PHRASE} {_sentence(rng, 3)}"
        # Entries arrive roughly in publication order, over two years up to NOW.
        published = NOW - SPAN + SPAN * (index / ENTRIES) + timedelta(minutes=rng.randint(-90, 0))
        rows.append(
            {
                "id": index,
                "feed_id": 1 + index % FEEDS,
                "entry_key": f"k{index}",
                "link": f"https://news.example/{index}",
                "title": title,
                "summary": summary,
                "content": "",
                "published_at": published,
                "first_seen_at": published,
                "language": "es" if index % 3 == 0 else "en",
                "categories": [],
                "story_id": index // ENTRIES_PER_STORY + 1,
                "relevant": True,
                "topics": [],
                "matched": [],
                "figures": [],
            }
        )
    return rows


def build(path: Path) -> None:
    """Migrate a fresh SQLite file, then bulk-insert feeds, stories and entries (FTS via the triggers)."""

    async def migrate() -> None:
        engine = create_engine(f"sqlite:///{path}")
        await upgrade_database(engine)
        await engine.dispose()

    asyncio.run(migrate())
    rng = random.Random(20261120)
    # Synchronous Core executemany through the models' tables: the schema's defaults apply, and it is
    # the fastest bulk path SQLAlchemy has on SQLite.
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    created = NOW - SPAN
    stories = ENTRIES // ENTRIES_PER_STORY + 1
    with engine.begin() as db:
        db.exec_driver_sql("PRAGMA synchronous=OFF")
        db.execute(
            insert(FeedRow),
            [
                {
                    "id": i,
                    "name": f"Feed {i}",
                    "url": f"http://127.0.0.1/{i}.xml",
                    "language": "en",
                    "enabled": True,
                    "consecutive_failures": 0,
                    "backlog_loaded": True,
                    "created_at": created,
                }
                for i in range(1, FEEDS + 1)
            ],
        )
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as progress:
        task = progress.add_task("stories", total=stories)
        for start in range(1, stories + 1, BATCH):
            count = min(BATCH, stories + 1 - start)
            story_rows = [
                {
                    "id": i,
                    "title": "story",
                    "source": "Feed 1",
                    "summary": "",
                    "relevant": True,
                    "topics": ["venezuela-colombia-border"],
                    "matched": [],
                    "figures": [],
                    "revision": 1,
                    "source_count": ENTRIES_PER_STORY,
                    "first_seen_at": created,
                    "updated_at": created,
                }
                for i in range(start, start + count)
            ]
            with engine.begin() as db:
                db.execute(insert(StoryRow), story_rows)
            progress.advance(task, count)
        # Indexing row by row through the insert trigger is the slow part of a bulk load; one FTS5
        # 'rebuild' afterwards gives the same index, then the migration's trigger is put back as it was.
        with engine.begin() as db:
            trigger = db.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'entries_fts_ai'"
            ).scalar_one()
            db.exec_driver_sql("DROP TRIGGER entries_fts_ai")
        task = progress.add_task("entries", total=ENTRIES)
        for start in range(1, ENTRIES + 1, BATCH):
            count = min(BATCH, ENTRIES + 1 - start)
            with engine.begin() as db:
                db.execute(insert(EntryRow), _entry_rows(rng, start, count))
            progress.advance(task, count)
        task = progress.add_task("full-text index", total=None)
        with engine.begin() as db:
            db.exec_driver_sql("INSERT INTO entries_fts(entries_fts) VALUES ('rebuild')")
            db.exec_driver_sql(trigger)
        progress.update(task, total=1, completed=1)
    engine.dispose()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _time(run: Callable[[], object], runs: int) -> list[float]:
    run()  # warm the page cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(path: Path) -> None:
    queries = {
        "/news venezuela": ("venezuela", "%venezuela%", None),
        f'/news "{PHRASE}" since:30d': (f'"{PHRASE}" since:30d', f"%{PHRASE}%", NOW - timedelta(days=30)),
    }
    loop = asyncio.new_event_loop()
    engine = create_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)

    async def search(text: str) -> int:
        async with sessions() as session:
            return len(await search_stories(session, parse_news_query(text, NOW), NOW, limit=10))

    scan_db = sqlite3.connect(path)

    def like_scan(pattern: str, since: datetime | None) -> int:
        # What a search without the index must do: read every row (LIKE is case-insensitive for ASCII only).
        sql = "SELECT id, title FROM entries WHERE (title LIKE ? OR summary LIKE ? OR content LIKE ?)"
        params: list[object] = [pattern, pattern, pattern]
        if since is not None:
            sql += " AND coalesce(published_at, first_seen_at) >= ?"
            params.append(_stamp(since))
        return len(scan_db.execute(sql, params).fetchall())

    print(f"{ENTRIES:,} entries in {path.stat().st_size / 1e6:,.0f} MB (plus WAL); {RUNS} runs per query")
    for label, (text, pattern, since) in queries.items():
        hits = loop.run_until_complete(search(text))
        fts = _time(lambda t=text: loop.run_until_complete(search(t)), RUNS)
        matches = like_scan(pattern, since)
        scan = _time(lambda p=pattern, s=since: like_scan(p, s), max(3, RUNS // 8))
        p50, p95 = _percentiles(fts)
        scan_p50, _ = _percentiles(scan)
        ratio = scan_p50 / p50 if p50 else float("inf")
        verdict = "meets" if p95 < TARGET_P95_MS and ratio >= TARGET_RATIO else "MISSES"
        print(
            f"{label:<45} FTS p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({hits} stories shown) | "
            f"LIKE scan p50 {scan_p50:8.1f} ms ({matches:,} rows) | {ratio:6.0f}x faster | {verdict} target"
        )
    scan_db.close()
    loop.run_until_complete(engine.dispose())
    loop.close()


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="wirewatch-search-bench-") as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        build(path)
        print(f"built in {time.perf_counter() - started:.0f} s")
        measure(path)


if __name__ == "__main__":
    run()
