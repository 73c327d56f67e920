"""Story pipeline benchmark (prints, never fails): `python -m bench pipeline`.

1. Throughput on one core: the same feed documents through bare `feeds.parse.parse_document` (feedparser and
   normalisation) and through `StoryPipeline.process` (clean-up, language, detection, figures, summary,
   fingerprint, duplicate lookup, store in SQLite), without and with `gc.freeze()` after start-up (what
   `bot.py run` does); entries/s of each and the pipeline's rate as a multiple of the parsing rate. Each
   round parses, then runs the pipeline, so both see the same machine load; medians over the rounds. The
   entries are the real outlet feeds of `../shared/corpus/feeds-real/` when present, plus generated
   border-beat entries (originals, copies, translations-like rewrites) so every clustering path runs.
2. Duplicate lookup cost per entry with 10,000 and with 1,000,000 stories stored: the store's candidate
   queries (exact link/guid/text hash, LSH bands, figure keys, candidate signatures and stories) for a batch
   of entries, half of them near copies of stored stories, in rounds alternating between the two stores
   (medians). The big store is built by bulk inserts of story, entry and band rows in key order, then the
   real pipeline stores the originals the copies refer to.
"""

from __future__ import annotations

import asyncio
import gc
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config.corpus import corpus_dir
from config.settings import DEFAULT_TOPICS_FILE, load_settings
from feeds.parse import FeedContext, parse_document
from storage import stories_repo
from storage.db import create_engine, session_factory, upgrade_database
from storage.models import FeedRow
from stories.figure_match import what_words
from stories.figures import clear_caches as clear_figure_caches
from stories.fingerprint import BANDS
from stories.folding import fold
from stories.grouping import warm_up
from stories.model import Entry
from stories.pipeline import StoryPipeline
from stories.prepare import Prepared
from stories.topics import load_topics

CORPUS_FEEDS = corpus_dir() / "feeds-real"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GENERATED_ENTRIES = 1500
THROUGHPUT_ROUNDS = 3
TARGET_RATE = 1_000  # entries/s on one core (issue 3)
LOOKUP_SIZES = (10_000, 1_000_000)
LOOKUP_BATCH = 50
LOOKUP_ROUNDS = 15
FIGURE_KEYS_PER_STORY = 3
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"

_PLACES = [
    "Cúcuta",
    "Villa del Rosario",
    "San Antonio del Táchira",
    "Ureña",
    "Arauca",
    "Maicao",
    "Paraguachón",
]
_EN = [
    "{n} Venezuelan migrants crossed the Simon Bolivar bridge into {place} on {day}, Colombia said.",
    "Colombian police seized {n} tonnes of contraband fuel near {place}, officials said on {day}.",
    "About {n} members of Venezuela's armed forces have deserted and crossed into Colombia near {place}.",
    "Aid groups in {place} handed out {n} food parcels to families arriving from Venezuela on {day}.",
]
_ES = [
    "Unos {n} migrantes venezolanos cruzaron el puente Simón Bolívar hacia {place} el {day}, informó "
    "Migración Colombia.",
    "La policía colombiana decomisó {n} litros de combustible de contrabando cerca de {place} el {day}.",
    "Al menos {n} miembros de la Fuerza Armada venezolana desertaron y cruzaron a Colombia por {place}.",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


_WORDS = (
    "officials residents market trucks prices shelter families school hospital road river police "
    "mayor governor council farmers traders workers nurses children water power fuel food medicine "
    "bus route checkpoint permits visas queue morning evening rain storm protest union church "
    "volunteers clinic vaccines border guards soldiers cargo coffee cattle rice sugar flour cement "
    "steel textiles airport port village town ciudad mercado precios familias escuela hospital "
    "carretera policía alcalde gobernador comerciantes trabajadores niños agua combustible comida "
    "medicinas ruta permisos cola mañana tarde lluvia protesta"
)
_VOCABULARY = tuple(_WORDS.split())


def _filler(rng: random.Random) -> str:
    words = rng.sample(_VOCABULARY, 14)
    return " ".join(words).capitalize() + "."


def generated_feed(count: int, seed: int = 7) -> bytes:
    """An RSS document of border-beat entries: every fifth one a copy with a credit line, in EN and ES."""
    rng = random.Random(seed)
    items: list[str] = []
    originals: list[tuple[str, str]] = []
    for index in range(count):
        if originals and index % 5 == 4:
            title, body = rng.choice(originals)
            body = f"{body} This story was first published by a wire agency."
        else:
            templates = _ES if index % 3 == 2 else _EN
            sentences = [
                rng.choice(templates).format(
                    n=f"{rng.randint(2, 400) * 10:,}", place=rng.choice(_PLACES), day=rng.choice(_DAYS)
                ),
                _filler(rng),
                _filler(rng),
                _filler(rng),
            ]
            title = sentences[0].split(", ")[0]  # not inside "1,130"
            body = " ".join(sentences)
            originals.append((title, body))
        link = f"https://bench.example/{index}"
        items.append(
            f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>Sun, 01 Mar 2026 10:{index % 60:02d}:00 GMT</pubDate>"
            f"<description>{escape(body)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>bench</title>'
        "<link>https://bench.example/</link><description>bench</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def documents() -> list[tuple[str, bytes]]:
    found = [(path.stem, path.read_bytes()) for path in sorted(CORPUS_FEEDS.glob("*.xml"))]
    return [*found, ("generated", generated_feed(GENERATED_ENTRIES))]


def parse_all(docs: list[tuple[str, bytes]]) -> list[tuple[str, list[Entry]]]:
    parsed = []
    for name, body in docs:
        context = FeedContext(name=name, language="")
        try:
            parsed.append((name, parse_document(body, {}, context, NOW).entries))
        except Exception:  # a corpus file the parser rejects is not the pipeline's business here
            continue
    return parsed


async def _store_all(
    pipeline: StoryPipeline, parsed: list[tuple[str, list[Entry]]], path: Path, freeze: bool
) -> tuple[float, float, float, dict[str, int]]:
    """Wall and CPU seconds to store every entry once, wall seconds for a second poll, event counts."""
    engine = create_engine(f"sqlite:///{path}")
    await upgrade_database(engine)
    sessions = session_factory(engine)
    kinds: dict[str, int] = {}
    fold.cache_clear()  # both runs start with cold caches
    what_words.cache_clear()
    clear_figure_caches()
    if freeze:
        gc.collect()
        gc.freeze()  # what a long-running worker can do once its models are loaded
    try:
        started, started_cpu = time.perf_counter(), time.process_time()
        for name, entries in parsed:
            async with sessions() as session, session.begin():
                feed = FeedRow(name=name, url=f"https://{name}.example/", language="", created_at=NOW)
                session.add(feed)
                await session.flush()
                for event in await pipeline.process(session, feed, entries, NOW, alerting=True):
                    kinds[event.kind.value] = kinds.get(event.kind.value, 0) + 1
        wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        started = time.perf_counter()
        for name, entries in parsed:  # the next poll: the same items again, nothing new
            async with sessions() as session, session.begin():
                feed = (await session.execute(select(FeedRow).where(FeedRow.name == name))).scalar_one()
                await pipeline.process(session, feed, entries, NOW, alerting=True)
        repoll = time.perf_counter() - started
    finally:
        if freeze:
            gc.unfreeze()
        await engine.dispose()
    return wall, cpu, repoll, kinds


async def pipeline_throughput(console: Console) -> None:
    docs = documents()
    parsed = parse_all(docs)
    total = sum(len(entries) for _, entries in parsed)
    pipeline = StoryPipeline(load_topics(DEFAULT_TOPICS_FILE), load_settings())
    pipeline.prepare(parsed[0][1][0], None, NOW)  # load the language and topic models before timing
    warm_up()  # and the same-story model, its IDF table and the bridge lexicon, as a worker does at start-up
    console.print(
        f"[bold]1. throughput[/] ({total} entries from {len(parsed)} feed documents, one core, "
        f"median of {THROUGHPUT_ROUNDS} rounds; target: story pipeline ≥ {TARGET_RATE:,} entries/s)"
    )
    parse_rates: list[float] = []
    wall_rates: dict[bool, list[float]] = {False: [], True: []}
    cpu_rates: dict[bool, list[float]] = {False: [], True: []}
    repoll_rates: list[float] = []
    kinds: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="wirewatch-bench-") as tmp:
        for round_ in range(THROUGHPUT_ROUNDS):
            for freeze in (False, True):
                # Parsing is timed right before each pipeline pass over the same entries: on a shared machine
                # both then run under the same load, and their ratio means something.
                started = time.perf_counter()
                parse_all(docs)
                parse_rates.append(total / (time.perf_counter() - started))
                path = Path(tmp) / f"r{round_}-{freeze}.db"
                wall, cpu, repoll, kinds = await _store_all(pipeline, parsed, path, freeze)
                wall_rates[freeze].append(total / wall)
                cpu_rates[freeze].append(total / cpu)
                repoll_rates.append(total / repoll)
    parse_rate = statistics.median(parse_rates)
    console.print(f"   bare feed parsing (feedparser + normalise):      {parse_rate:6.0f} entries/s")
    for freeze in (False, True):
        label = "gc.freeze() after start-up (as `bot.py run`)" if freeze else "as is (no gc.freeze())"
        rate = statistics.median(wall_rates[freeze])
        console.print(
            f"   story pipeline, {label + ':':<45} {rate:6.0f} entries/s "
            f"(CPU time: {statistics.median(cpu_rates[freeze]):.0f}/s), "
            f"{rate / parse_rate:.2f}× the parsing rate, {'meets' if rate >= TARGET_RATE else 'misses'} "
            f"{TARGET_RATE:,}/s"
        )
    console.print(f"   events (each round): {kinds}")
    repoll_rate = statistics.median(repoll_rates)
    console.print(f"   the same feeds polled again (all entries known): {repoll_rate:8.0f} entries/s")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(SQLITE_TIME)


def _bulk_rows(size: int, rng: random.Random) -> Iterator[tuple[str, list[tuple[object, ...]]]]:
    """Story, entry and band rows for `size` synthetic stories, spread over two years."""
    chunk = 50_000
    for start in range(1, size + 1, chunk):
        stop = min(start + chunk, size + 1)
        stories, entries = [], []
        for story_id in range(start, stop):
            seen = _stamp(NOW - timedelta(minutes=story_id % (2 * 365 * 24 * 60)))
            link = f"https://old.example/{story_id}"
            stories.append((story_id, f"story {story_id}", link, "old", "", "en", 0, "[]", "[]", "[]", 1, 1,
                            story_id, seen, seen, seen))  # fmt: skip
            entries.append((story_id, 1, f"e{story_id:09d}", link, link, f"story {story_id}", "", "", seen,
                            seen, "en", "[]", f"{rng.getrandbits(256):064x}", story_id, 0, "[]", "[]",
                            "[]"))  # fmt: skip
        yield "stories", stories
        yield "entries", entries


def build_store(path: Path, size: int, console: Console) -> None:
    """Bulk-load `size` stories with their entry and band rows (indexes built after the load)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
        "AND tbl_name IN ('stories', 'entries', 'story_bands')"
    ).fetchall()
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    rng = random.Random(size)
    bands_per_story = BANDS + FIGURE_KEYS_PER_STORY
    with Progress(
        TextColumn("   {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task(f"{size:,} stories", total=size * 3)
        for table, rows in _bulk_rows(size, rng):
            marks = ",".join("?" * len(rows[0]))
            columns = (
                "id, title, link, source, summary, language, relevant, topics, matched, figures, revision, "
                "source_count, first_entry_id, first_seen_at, published_at, updated_at"
                if table == "stories"
                else "id, feed_id, entry_key, guid, link, title, summary, content, published_at, "
                "first_seen_at, language, categories, text_hash, story_id, relevant, topics, matched, figures"
            )
            connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
            progress.advance(task, len(rows))
        # Band rows in key order: the primary key index then grows at its end instead of splitting pages.
        generator = np.random.default_rng(size)
        keys = generator.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size * bands_per_story)
        owners = np.repeat(np.arange(1, size + 1, dtype=np.int64), bands_per_story)
        order = np.argsort(keys, kind="stable")
        keys, owners = keys[order], owners[order]
        step = 500_000
        for start in range(0, len(keys), step):
            part_owners = owners[start : start + step].tolist()
            connection.executemany(
                "INSERT INTO story_bands (band_key, story_id, entry_id) VALUES (?, ?, ?)",
                zip(keys[start : start + step].tolist(), part_owners, part_owners, strict=True),
            )
            progress.advance(task, len(part_owners) // bands_per_story)
        progress.update(task, description="indexes")
        for _, sql in indexes:
            connection.execute(sql)
        progress.advance(task, size)
    connection.commit()
    connection.close()


def lookup_entries(count: int, prefix: str, seed: int) -> list[Entry]:
    rng = random.Random(seed)
    entries = []
    for index in range(count):
        sentences = [
            rng.choice(_EN).format(
                n=f"{rng.randint(12, 90_000):,}", place=rng.choice(_PLACES), day=rng.choice(_DAYS)
            )
            for _ in range(4)
        ]
        entries.append(
            Entry(
                entry_id=f"{prefix}{index}",
                feed_name="new",
                title=sentences[0].split(",")[0],
                link=f"https://new.example/{prefix}{index}",
                guid=f"https://new.example/{prefix}{index}",
                summary=" ".join(sentences),
                published=NOW,
                first_seen=NOW,
            )
        )
    return entries


async def timed_lookup(engine: AsyncEngine, prepared: list[Prepared]) -> float:
    """Seconds per entry for the store's candidate queries, all batches of `prepared` once."""
    async with session_factory(engine)() as session:
        started = time.perf_counter()
        for start in range(0, len(prepared), LOOKUP_BATCH):
            batch = prepared[start : start + LOOKUP_BATCH]
            await stories_repo.find_exact_copies(
                session,
                [item.entry.link for item in batch if item.entry.link],
                [item.entry.guid for item in batch if item.entry.guid],
                [item.print.text_hash for item in batch],
            )
            hits = await stories_repo.find_band_hits(
                session, [band for item in batch for band in item.print.bands]
            )
            figures = await stories_repo.find_stories_by_figures(
                session,
                [key for item in batch for key in item.print.figure_keys],
                NOW - timedelta(days=4),
                NOW + timedelta(days=4),
            )
            await stories_repo.load_signatures(session, [entry_id for _, _, entry_id in hits])
            await stories_repo.load_stories(
                session, {story for _, story, _ in hits} | {story for _, story, _ in figures}
            )
        return (time.perf_counter() - started) / len(prepared)


async def lookup_cost(console: Console) -> None:
    console.print(
        f"[bold]2. duplicate lookup per entry[/] (batches of {LOOKUP_BATCH}, median of {LOOKUP_ROUNDS})"
    )
    pipeline = StoryPipeline(load_topics(DEFAULT_TOPICS_FILE), load_settings())
    originals = lookup_entries(100, "orig", seed=1)
    copies = [
        Entry(
            entry_id=f"copy{index}",
            feed_name="copies",
            title=f"Republished: {entry.title}",
            link=f"https://copies.example/{index}",
            summary=entry.summary + " This story was first published by a wire agency.",
            published=NOW,
            first_seen=NOW,
        )
        for index, entry in enumerate(originals)
    ]
    queries = [
        pipeline.prepare(entry, "en", NOW) for entry in [*copies, *lookup_entries(100, "fresh", seed=2)]
    ]
    with tempfile.TemporaryDirectory(prefix="wirewatch-bench-") as tmp:
        engines: dict[int, AsyncEngine] = {}
        for size in LOOKUP_SIZES:
            path = Path(tmp) / f"stories-{size}.db"
            engine = create_engine(f"sqlite:///{path}")
            await upgrade_database(engine)
            async with session_factory(engine)() as session, session.begin():
                session.add(
                    FeedRow(id=1, name="old", url="https://old.example/", language="en", created_at=NOW)
                )
            await engine.dispose()
            started = time.perf_counter()
            await asyncio.to_thread(build_store, path, size, console)
            console.print(f"   store of {size:,} stories built in {time.perf_counter() - started:.0f}s")
            engine = create_engine(f"sqlite:///{path}")
            async with session_factory(engine)() as session, session.begin():
                feed = FeedRow(name="orig", url="https://orig.example/", language="en", created_at=NOW)
                session.add(feed)
                await session.flush()
                await pipeline.process(session, feed, originals, NOW, alerting=True)
            engines[size] = engine
        # Rounds alternate between the stores, so load from other processes weighs on both alike.
        samples: dict[int, list[float]] = {size: [] for size in LOOKUP_SIZES}
        try:
            for _ in range(LOOKUP_ROUNDS):
                for size, engine in engines.items():
                    samples[size].append(await timed_lookup(engine, queries))
        finally:
            for engine in engines.values():
                await engine.dispose()
    results = {size: statistics.median(values) for size, values in samples.items()}
    for size, value in results.items():
        console.print(f"   {size:>9,} stories: {value * 1e6:5.0f} µs per entry")
    small, large = LOOKUP_SIZES
    console.print(f"   ratio {large:,} / {small:,}: {results[large] / results[small]:.2f} (target ≤ 1.5)")


def run() -> None:
    console = Console()
    asyncio.run(pipeline_throughput(console))
    asyncio.run(lookup_cost(console))


if __name__ == "__main__":
    run()
