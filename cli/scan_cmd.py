"""`bot.py scan`: a dry run of the story pipeline over feeds, for tuning topics before going live.

Each FEED (a URL or a file path) is read in the order given into one store (in-memory SQLite unless --db),
so duplicates are found across FEEDs. `--json` prints one object per new entry on stdout and nothing else:

    {"feed", "id", "guid", "link", "title", "lang", "relevant", "topics", "matched", "story_id",
     "duplicate_of", "update": null | {"of", "changes"}, "summary", "figures": [{"value", "text", "what"}]}
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import typer

from errors import FeedError
from stories.model import Entry, StoryEvent, StoryEventKind

if TYPE_CHECKING:
    from rich.table import Table
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from feeds.fetch import FeedFetcher
    from storage.models import FeedRow
    from stories.pipeline import StoryPipeline

MEMORY_DB = "sqlite:///:memory:"
MAX_FEED_NAME = 200  # feeds.name
TABLE_FIGURES = 4  # what an alert shows


@dataclass(slots=True)
class ScanRow:
    """One line of scan output: an entry and what the pipeline decided about it."""

    feed: str
    event: StoryEvent
    summary: str
    figures: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        entry = self.event.entry
        detection = self.event.detection
        update = None
        if self.event.kind == StoryEventKind.UPDATE:
            # An entry edited in place may be the story's first entry itself: then it revises itself.
            of = self.event.duplicate_of or entry.entry_id
            update = {"of": of, "changes": [c.describe() for c in self.event.changes]}
        return {
            "feed": self.feed,
            "id": entry.entry_id,
            "guid": entry.guid,
            "link": entry.link,
            "title": entry.title,
            "lang": entry.language,
            "relevant": detection.relevant,
            "topics": list(detection.topics),
            "matched": list(detection.matched),
            "story_id": self.event.story.story_id,
            "duplicate_of": self.event.duplicate_of,
            "update": update,
            "match": self.event.match.as_json() if self.event.match is not None else None,
            "near_match": self.event.near_match.as_json() if self.event.near_match is not None else None,
            "summary": self.summary,
            "figures": [
                {"value": _number(item["value"]), "text": item["text"], "what": item["what"]}
                for item in self.figures
            ],
        }


def _number(value: float) -> int | float:
    """1600000.0 -> 1600000: a count reads as an integer in JSON."""
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


def _is_url(feed: str) -> bool:
    return urlsplit(feed).scheme in ("http", "https")


def _read_file(path: Path) -> tuple[bytes, str]:
    return path.read_bytes(), path.resolve().as_uri()


async def _fetch_entries(
    feed: str, fetcher: Callable[[], Awaitable[FeedFetcher]], now: datetime
) -> tuple[list[Entry], str | None]:
    """A FEED URL fetched and parsed (off the event loop), as `_parse_file` gives a file's."""
    from feeds.parse import FeedContext, parse_document

    try:
        result = await (await fetcher()).fetch(feed)
        context = FeedContext(name=feed[:MAX_FEED_NAME], language="")
        parsed = await asyncio.to_thread(parse_document, result.body, result.parser_headers(), context, now)
    except FeedError as error:
        return [], error.reason
    return parsed.entries, None


def _parse_file(feed: str, now: datetime) -> tuple[list[Entry], str | None]:
    """A FEED file read and parsed in a worker process: (entries, None), or ([], why it could not be read).
    Errors travel as text: an exception of ours need not survive pickling."""
    from feeds.parse import FeedContext, parse_document

    try:
        body, location = _read_file(Path(feed))
    except OSError as error:
        return [], f"cannot read {feed} ({error.strerror or error})"
    try:
        context = FeedContext(name=feed[:MAX_FEED_NAME], language="")
        return parse_document(body, {"content-location": location}, context, now).entries, None
    except FeedError as error:
        return [], error.reason


def _parsing_ahead(feeds: list[str], stack: contextlib.AsyncExitStack) -> dict[str, asyncio.Future[Any]]:
    """Several FEED files: all parsed at once in worker processes (one per core), while the pipeline works
    through them in order on this one, so parsing no longer waits for the pipeline nor the pipeline for
    parsing. forkserver, not fork: this process runs threads (aiosqlite) that fork would copy mid-lock."""
    files = [feed for feed in dict.fromkeys(feeds) if not _is_url(feed)]
    if len(files) < 2:
        return {}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = min(len(files), os.cpu_count() or 1)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))
    stack.callback(pool.shutdown, wait=False, cancel_futures=True)
    loop = asyncio.get_running_loop()
    now = datetime.now(UTC)
    return {feed: loop.run_in_executor(pool, _parse_file, feed, now) for feed in files}


async def _feed_row(session: AsyncSession, name: str, url: str, now: datetime) -> FeedRow:
    from storage import feeds_repo
    from storage.models import FeedRow

    row = await feeds_repo.get_feed(session, name)
    if row is None:
        row = FeedRow(name=name, url=url, language="", created_at=now, backlog_loaded=True)
        session.add(row)
        await session.flush()
    return row


async def _scan_feed(
    sessions: async_sessionmaker[AsyncSession],
    pipeline: Callable[[], StoryPipeline],
    feed: str,
    entries: list[Entry],
    now: datetime,
) -> list[ScanRow]:
    from storage import story_reads
    from stories.summarize import summarize

    async with sessions() as session, session.begin():
        row = await _feed_row(session, feed[:MAX_FEED_NAME], feed, now)
        # A feed with no entries has nothing to process: the pipeline (slow to import) waits for one that has.
        events = await pipeline().process(session, row, entries, now, alerting=True) if entries else []
        keys = [event.entry.entry_id for event in events]
        stored = await story_reads.entry_figures(session, row.id, keys)
    rows = []
    for event in events:
        entry = event.entry
        body = entry.content if len(entry.content) > len(entry.summary) else entry.summary
        summary = summarize(body, entry.title, clean=False)
        rows.append(ScanRow(feed, event, summary, list(stored.get(entry.entry_id) or [])))
    return rows


async def run_scan(feeds: list[str], database_url: str, fetch_articles: bool, emit: Any, warn: Any) -> int:
    """Scan FEEDs in order; `emit(row)` for each new entry, `warn(text)` for a feed that failed.

    Returns the number of feeds that could not be read.
    """
    from config.settings import load_settings

    settings = load_settings()
    if fetch_articles:
        settings = settings.model_copy(update={"fetch_articles": True})
    built: list[StoryPipeline] = []

    def pipeline() -> StoryPipeline:
        """The story pipeline and its topics, built for the first feed with entries (slow to import)."""
        if not built:
            from stories.grouping import warm_up
            from stories.pipeline import StoryPipeline
            from stories.topics import load_topics

            built.append(StoryPipeline(load_topics(settings.topics_file), settings))
            warm_up()
            # As `bot.py run` does once started: the modules, topics and models loaded so far live as long
            # as the scan; frozen, the collector stops re-scanning them, which took a tenth of the scan. No
            # full collection first (bot.py run has one): the little garbage start-up left is kept for the
            # scan's few seconds, and collecting it cost about 50 ms.
            gc.freeze()
        return built[0]

    failures = 0
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(gc.unfreeze)  # a scan run again in the same interpreter (tests) freezes afresh
        fetchers: list[FeedFetcher] = []
        stores: list[async_sessionmaker[AsyncSession]] = []

        async def sessions() -> async_sessionmaker[AsyncSession]:
            """The store, opened for the first FEED with entries: a scan of feeds that all fail to read
            creates and migrates nothing (and pays none of the database's imports)."""
            if not stores:
                from storage.db import open_store, session_factory

                throwaway = database_url == MEMORY_DB
                engine = await stack.enter_async_context(open_store(database_url, throwaway=throwaway))
                stores.append(session_factory(engine))
            return stores[0]

        async def fetcher() -> FeedFetcher:
            """The HTTP client, opened for the first FEED that is a URL."""
            if not fetchers:
                from feeds.fetch import FeedFetcher

                fetchers.append(await stack.enter_async_context(FeedFetcher(settings)))
            return fetchers[0]

        ahead = _parsing_ahead(feeds, stack)
        for feed in feeds:
            now = datetime.now(UTC)
            if feed in ahead:
                entries, problem = await ahead[feed]
            elif _is_url(feed):
                entries, problem = await _fetch_entries(feed, fetcher, now)
            else:
                entries, problem = await asyncio.to_thread(_parse_file, feed, now)
            if problem is not None:
                warn(f"{feed}: {problem}")
                failures += 1
                continue
            for row in await _scan_feed(await sessions(), pipeline, feed, entries, now):
                emit(row)
    return failures


_KIND_LABEL = {
    StoryEventKind.NEW: "[bold green]NEW[/]",
    StoryEventKind.UPDATE: "[bold yellow]UPDATE[/]",
    StoryEventKind.DUPLICATE: "[dim]dup[/]",
    StoryEventKind.OFF_BEAT: "[dim]off[/]",
}


def _table(rows: list[ScanRow]) -> Table:
    from rich.table import Table

    table = Table(title="Wirewatch scan", show_lines=False, expand=True)
    table.add_column("story", justify="right", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("lang", no_wrap=True)
    table.add_column("feed / title", ratio=3)
    table.add_column("matched", ratio=1)
    table.add_column("figures", ratio=2)
    for row in rows:
        event = row.event
        figures = "\n".join(f"{item['text']} {item['what']}" for item in row.figures[:TABLE_FIGURES])
        changes = "\n".join(change.describe() for change in event.changes)
        table.add_row(
            str(event.story.story_id),
            _KIND_LABEL[event.kind],
            event.entry.language or "?",
            f"[dim]{Path(row.feed).name or row.feed}[/]\n{event.entry.title}",
            ", ".join(event.detection.matched[:6]),
            "\n".join(part for part in (changes, figures) if part),
        )
    return table


def scan(
    feeds: list[str] = typer.Argument(..., metavar="FEED", help="Feed URLs or file paths, read in order"),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: a throwaway in-memory SQLite)"),
    json_output: bool = typer.Option(False, "--json", help="One JSON object per entry on stdout"),
    fetch_articles: bool = typer.Option(
        False, "--fetch-articles", help="Fetch article pages for on-beat entries with only a teaser"
    ),
) -> None:
    """Run the story pipeline over FEEDs and print what Wirewatch would do with each entry."""
    rows: list[ScanRow] = []

    def emit(row: ScanRow) -> None:
        if json_output:
            sys.stdout.write(json.dumps(row.as_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            rows.append(row)

    def warn(text: str) -> None:
        # rich only for what is printed with it: a --json scan of readable feeds never imports it.
        from rich.console import Console

        Console(stderr=True).print(f"[red]could not read[/] {text}", highlight=False)

    failures = asyncio.run(run_scan(feeds, db or MEMORY_DB, fetch_articles, emit, warn))
    if not json_output:
        from rich.console import Console

        console = Console()
        console.print(_table(rows))
        alerts = sum(row.event.kind in (StoryEventKind.NEW, StoryEventKind.UPDATE) for row in rows)
        stories = len({row.event.story.story_id for row in rows})
        console.print(f"{len(rows)} entries, {stories} stories, {alerts} alerts would be sent.")
    if failures:
        raise typer.Exit(code=1)
