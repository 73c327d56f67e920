"""`bot.py feeds list|add|remove|check`: the feeds Wirewatch polls, and how each one is doing.

Every command first syncs FEEDS_FILE into the database, so what it shows matches the file. Each command
imports what it uses when it runs (see `cli/__init__.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

import typer

from errors import FeedError

if TYPE_CHECKING:
    from rich.table import Table
    from sqlalchemy.ext.asyncio import AsyncSession

    from config.settings import Settings
    from feeds.fetch import FeedFetcher
    from storage.feeds_repo import FeedHealth
    from storage.models import FeedRow

feeds_app = typer.Typer(help="Manage the feeds Wirewatch polls.", no_args_is_help=True)

T = TypeVar("T")
_STATUS_STYLE = {"ok": "green", "warning": "yellow", "failing": "red", "disabled": "dim", "new": "cyan"}


def _run_with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from feeds.sources import load_sources, sync_sources
    from storage.db import open_store, session_factory

    async def _run() -> T:
        async with open_store(settings.database_url) as engine:
            sessions = session_factory(engine)
            async with sessions() as session, session.begin():
                await sync_sources(session, load_sources(settings.feeds_file), datetime.now(UTC))
                return await work(session)

    return asyncio.run(_run())


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 90:
        text = f"{seconds:.0f}s"
    elif seconds < 5400:
        text = f"{seconds / 60:.0f} min"
    elif seconds < 172_800:
        text = f"{seconds / 3600:.0f} h"
    else:
        text = f"{seconds / 86_400:.0f} d"
    return f"in {text}" if future else f"{text} ago"


def _next_poll(when: datetime | None, now: datetime) -> str:
    return "due now" if when is None or when <= now else _ago(when, now)


def _health_table(lines: list[FeedHealth], now: datetime) -> Table:
    from rich.table import Table

    table = Table(title="Feeds", show_lines=False)
    for column in ("feed", "lang", "status", "last success", "failures", "next poll", "problem"):
        table.add_column(column, overflow="fold")
    for line in lines:
        problem = line.disabled_reason if not line.enabled else (line.last_error or line.parse_warning or "")
        style = _STATUS_STYLE.get(line.status, "")
        table.add_row(
            line.name,
            line.language,
            f"[{style}]{line.status}[/]" if style else line.status,
            _ago(line.last_success_at, now),
            str(line.consecutive_failures or ""),
            _next_poll(line.next_poll_at, now) if line.enabled else "-",
            problem or "",
        )
    return table


@feeds_app.command("list")
def list_feeds(
    show_disabled: bool = typer.Option(True, "--disabled/--enabled-only", help="Include disabled feeds."),
) -> None:
    """List every feed with its health: last success, failures, next poll, last problem."""
    from rich.console import Console

    from config.settings import load_settings
    from storage import feeds_repo

    settings = load_settings()

    async def work(session: AsyncSession) -> list[FeedHealth]:
        return await feeds_repo.feed_health(session, include_disabled=show_disabled)

    lines = _run_with_session(settings, work)
    console = Console()
    if not lines:
        console.print(f"no feeds: add some to {settings.feeds_file} or with `bot.py feeds add`")
        return
    console.print(_health_table(lines, datetime.now(UTC)))


@feeds_app.command("add")
def add_feed(
    name: str = typer.Argument(..., help="Unique name shown in alerts, e.g. 'El Pitazo'."),
    url: str = typer.Argument(..., help="RSS or Atom feed URL."),
    language: str = typer.Option(..., "--language", "-l", help="ISO 639-1 code of the feed: en, es..."),
    interval: int | None = typer.Option(
        None, "--interval", help="Seconds between polls (default: adaptive)."
    ),
) -> None:
    """Add a feed by hand (kept across restarts; FEEDS_FILE is not edited). Its first poll is silent."""
    from rich.console import Console

    from config.settings import load_settings
    from feeds.sources import ORIGIN_CLI, new_feed_row, validate_source
    from storage import feeds_repo

    settings = load_settings()
    raw: dict[str, object] = {"name": name, "url": url, "language": language}
    if interval is not None:
        raw["interval_seconds"] = interval
    try:
        source = validate_source(raw)
    except ValueError as error:
        _fail(f"cannot add {name!r}: {error}")

    async def work(session: AsyncSession) -> str | None:
        existing = await feeds_repo.get_feed(session, source.name)
        if existing is not None:
            if existing.enabled:
                return f"a feed named {source.name!r} already exists ({existing.url})"
            feeds_repo.enable_feed(existing, source.url, datetime.now(UTC))
            return None
        session.add(new_feed_row(source, datetime.now(UTC), ORIGIN_CLI))
        return None

    problem = _run_with_session(settings, work)
    if problem:
        _fail(problem)
    Console().print(f"added {source.name!r}: its first poll stores the backlog without alerting")


@feeds_app.command("remove")
def remove_feed(
    name: str = typer.Argument(..., help="Name of the feed, as shown by `feeds list`."),
    purge: bool = typer.Option(False, "--purge", help="Also delete its stored entries (cannot be undone)."),
) -> None:
    """Stop polling a feed, even if FEEDS_FILE lists it. Its entries stay searchable unless --purge."""
    from rich.console import Console

    from config.settings import load_settings
    from feeds.sources import REMOVED_BY_EDITOR
    from storage import feeds_repo

    settings = load_settings()

    async def work(session: AsyncSession) -> bool:
        feed = await feeds_repo.get_feed(session, name)
        if feed is None:
            return False
        if purge:
            await feeds_repo.purge_feed(session, feed)
        else:
            feeds_repo.disable_feed(feed, REMOVED_BY_EDITOR)
        return True

    if not _run_with_session(settings, work):
        _fail(f"no feed named {name!r}; `bot.py feeds list` shows the names")
    Console().print(f"{'purged' if purge else 'removed'} {name!r}")


class CheckedFeed(Protocol):
    """A feed as stored (`FeedRow`) or as written in FEEDS_FILE (`FeedSource`): enough to fetch it."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def language(self) -> str: ...


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    entries: int = 0
    newest: datetime | None = None
    seconds: float = 0.0
    http_status: int | None = None
    version: str = ""  # feedparser's name of the format: "rss20", "atom10"...
    last_modified: str | None = None  # the server's Last-Modified header, as sent


async def check_feeds(settings: Settings, feeds: Sequence[CheckedFeed]) -> list[CheckResult]:
    """Fetch and parse each feed now, ignoring cache validators; nothing is stored."""
    from feeds.fetch import FeedFetcher
    from feeds.parse import FeedContext, FeedParser

    parser = FeedParser()
    now = datetime.now(UTC)

    async def check(fetcher: FeedFetcher, feed: CheckedFeed) -> CheckResult:
        try:
            fetched = await fetcher.fetch(feed.url)
            parsed = await parser.parse(
                fetched.body, fetched.parser_headers(), FeedContext(feed.name, feed.language), now
            )
        except FeedError as error:
            return CheckResult(feed.name, False, f"{error.kind}: {error.reason}")
        newest = max((entry.published for entry in parsed.entries if entry.published), default=None)
        detail = parsed.warning or (
            f"moved permanently to {fetched.permanent_url}" if fetched.permanent_url else ""
        )
        return CheckResult(
            feed.name,
            True,
            detail,
            len(parsed.entries),
            newest,
            fetched.elapsed_seconds,
            fetched.status,
            parsed.version,
            fetched.last_modified,
        )

    async with FeedFetcher(settings) as fetcher:
        return list(await asyncio.gather(*(check(fetcher, feed) for feed in feeds)))


@feeds_app.command("check")
def check(
    names: list[str] | None = typer.Argument(None, help="Feeds to check (default: every enabled feed)."),
) -> None:
    """Fetch feeds now and print what came back next to their stored health. Nothing is stored."""
    from rich.console import Console
    from rich.table import Table

    from config.settings import load_settings
    from storage import feeds_repo

    settings = load_settings()

    async def work(session: AsyncSession) -> tuple[list[FeedRow], list[str]]:
        feeds = list(await feeds_repo.list_feeds(session, include_disabled=bool(names)))
        if names:
            known = {feed.name: feed for feed in feeds}
            return [known[n] for n in names if n in known], [n for n in names if n not in known]
        return feeds, []

    feeds, unknown = _run_with_session(settings, work)
    if unknown:
        _fail(f"no feed named {unknown[0]!r}; `bot.py feeds list` shows the names")
    results = {result.name: result for result in asyncio.run(check_feeds(settings, feeds))}
    now = datetime.now(UTC)
    table = Table(title="Feed check (fetched just now)")
    for column in ("feed", "now", "entries", "newest", "took", "stored health", "detail"):
        table.add_column(column, overflow="fold")
    for feed in feeds:
        result = results[feed.name]
        health = feeds_repo.health_of(feed)
        table.add_row(
            feed.name,
            "[green]ok[/]" if result.ok else "[red]failed[/]",
            str(result.entries) if result.ok else "-",
            _ago(result.newest, now) if result.ok else "-",
            f"{result.seconds:.1f}s" if result.ok else "-",
            health.status,
            result.detail,
        )
    Console().print(table)
    if not all(result.ok for result in results.values()):
        raise typer.Exit(code=1)


def _fail(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(message, markup=False, highlight=False)
    raise typer.Exit(code=1)
