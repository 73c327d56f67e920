"""`bot.py doctor`: check everything a run needs and say, one line each, what is wrong and how to fix it.

Settings; the database (reachable, migrated to the head this code ships); the topic and concept files;
each configured chat platform (`handlers/slack/doctor.py`, `handlers/discord/doctor.py`); every feed,
fetched once with the code `bot.py feeds check` uses. Nothing is written: no migration, no feed sync,
no message.

Exit status 1 when any line is an error: something that stops the bot from doing its job (settings,
database, topic or concept file, a rejected token, a missing scope, an alert channel the bot cannot
use, or not one feed that can be fetched). A feed that fails while others work is a warning, exit 0: the
poller keeps trying it and backs off, and a newsroom would rather the bot start than wait for one
publisher's server (`/news feeds` and `bot.py feeds list` keep showing it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from cli.feeds_cmd import CheckedFeed, CheckResult
    from config.settings import Settings
    from values.doctor import DoctorCheck

# A platform that has not answered by then is as unusable to the bot as one that refused.
PLATFORM_TIMEOUT_SECONDS = 30.0
SYMBOLS = {"ok": ("✔", "green"), "warning": ("!", "yellow"), "error": ("✘", "red"), "skipped": ("–", "dim")}
UNREADABLE_FEED_FIX = (
    "it answers, but not with a readable feed: find the feed's new address or ask its publisher"
)
UNREACHABLE_FEED_FIX = (
    "open the URL from this machine; if the feed moved, update FEEDS_FILE (the bot keeps retrying)"
)
# feedparser's `version` family, as an operator reads it.
_FORMAT_FAMILIES = {"rss": "RSS", "atom": "Atom", "cdf": "CDF"}


def doctor(
    as_json: bool = typer.Option(False, "--json", help="One JSON object instead of lines (for monitoring)."),
) -> None:
    """Check settings, database, topic files, chat tokens and channels, feeds; exit 1 if a run can't work."""
    checks = asyncio.run(run_checks())
    if as_json:
        report = {"ok": not any(check.failed for check in checks), "checks": [asdict(c) for c in checks]}
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_lines(checks)
    if any(check.failed for check in checks):
        raise typer.Exit(code=1)


async def run_checks() -> list[DoctorCheck]:
    """Every line of the report, in the order an operator fixes things: settings first, feeds last."""
    from config.settings import ConfigurationError, load_settings
    from values.doctor import CheckStatus, DoctorCheck

    try:
        settings = load_settings()
    except ConfigurationError as error:
        # Every other check reads settings: stop at the first thing to fix.
        fix = "correct it in .env or the environment (each variable is explained in .env.example)"
        return [DoctorCheck("settings", CheckStatus.ERROR, str(error), fix)]
    checks = [DoctorCheck("settings", CheckStatus.OK, _describe_settings(settings))]
    database = await check_database(settings)
    checks += [database, check_topics(settings), check_concepts()]
    platform_checks, feed_checks = await asyncio.gather(
        check_platforms(settings), check_configured_feeds(settings, store_ready=not database.failed)
    )
    return checks + platform_checks + feed_checks


def _describe_settings(settings: Settings) -> str:
    platforms = []
    if settings.slack_enabled:
        platforms.append("Slack" if settings.slack_bot_token else "Slack (multi-workspace installs)")
    if settings.discord_enabled:
        platforms.append("Discord")
    source = "the environment and .env" if Path(".env").is_file() else "the environment (no .env here)"
    return f"valid, read from {source}; " + (", ".join(platforms) or "console mode (no chat tokens)")


# --- database -----------------------------------------------------------------------------------------


def shown_url(url: str) -> str:
    """DATABASE_URL as it may be printed: the password masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def check_database(settings: Settings) -> DoctorCheck:
    """Reachable, and at the head revision; read-only, so a missing SQLite file is not created."""
    from sqlalchemy.exc import DBAPIError

    from config.settings import ConfigurationError
    from storage.db import create_engine, describe_database_error, is_memory_sqlite, migration_state
    from values.doctor import CheckStatus, DoctorCheck

    url = shown_url(settings.database_url)
    upgrade_fix = "run `bot.py db upgrade` (every `bot.py run` also migrates at start)"
    if _sqlite_file_missing(settings.database_url):
        return DoctorCheck("database", CheckStatus.ERROR, f"{url}: no such file yet", upgrade_fix)
    try:
        engine = create_engine(settings.database_url)
    except ConfigurationError as error:
        return DoctorCheck(
            "database", CheckStatus.ERROR, str(error), "create that folder or correct DATABASE_URL"
        )
    try:
        state = await migration_state(engine)
    except DBAPIError as error:
        return DoctorCheck(
            "database",
            CheckStatus.ERROR,
            f"{url}: {describe_database_error(error)}",
            "check DATABASE_URL (host, port, user, password, database) and that the server is running",
        )
    except OSError as error:
        return DoctorCheck(
            "database", CheckStatus.ERROR, f"{url}: cannot be opened ({error})", "check DATABASE_URL"
        )
    finally:
        await engine.dispose()
    if is_memory_sqlite(settings.database_url):
        return DoctorCheck(
            "database", CheckStatus.OK, f"{url}: in memory, created and migrated at every start"
        )
    if not state.known:
        return DoctorCheck(
            "database",
            CheckStatus.ERROR,
            f"{url}: at revision {state.current}, unknown to this Wirewatch (its head is {state.head})",
            "a newer Wirewatch migrated this store: run that version here, never an older one against it",
        )
    if state.current is None:
        return DoctorCheck(
            "database",
            CheckStatus.ERROR,
            f"{url}: reachable, not migrated (head is {state.head})",
            upgrade_fix,
        )
    if not state.up_to_date:
        return DoctorCheck(
            "database",
            CheckStatus.ERROR,
            f"{url}: reachable, at revision {state.current}, behind head {state.head}",
            upgrade_fix,
        )
    return DoctorCheck("database", CheckStatus.OK, f"{url}: reachable, migrated (head {state.head})")


def _sqlite_file_missing(database_url: str) -> bool:
    """A SQLite file that is not there: opening it would create an empty store, which doctor must not do.
    A missing folder is left to `create_engine`, which names it."""
    from sqlalchemy.engine import make_url

    from storage.db import is_memory_sqlite

    parsed = make_url(database_url)
    if parsed.get_backend_name() != "sqlite" or is_memory_sqlite(database_url):
        return False
    path = Path(parsed.database or "").expanduser()
    return path.parent.is_dir() and not path.exists()


# --- files --------------------------------------------------------------------------------------------


def _shown_path(path: Path) -> str:
    from config.settings import PROJECT_ROOT

    resolved = path.expanduser().resolve()
    return str(resolved.relative_to(PROJECT_ROOT)) if resolved.is_relative_to(PROJECT_ROOT) else str(path)


def check_topics(settings: Settings) -> DoctorCheck:
    from config.settings import ConfigurationError
    from stories.topics import load_topics
    from values.doctor import CheckStatus, DoctorCheck

    try:
        catalog = load_topics(settings.topics_file)
    except ConfigurationError as error:
        return DoctorCheck(
            "topics",
            CheckStatus.ERROR,
            str(error),
            "correct the file (stories/topics.toml explains each key) or point TOPICS_FILE at a good one",
        )
    shown = _shown_path(settings.topics_file)
    subtopics = len(catalog.topics) - 1
    return DoctorCheck(
        "topics", CheckStatus.OK, f"{shown}: beat {catalog.beat.name!r}, {subtopics} sub-topics"
    )


def check_concepts() -> DoctorCheck:
    """stories/concepts.toml is read when story matching is imported; import it the way a run does."""
    import tomllib

    from values.doctor import CheckStatus, DoctorCheck

    try:
        from stories import figure_match
    except (
        OSError,
        UnicodeDecodeError,
        tomllib.TOMLDecodeError,
        KeyError,
        TypeError,
        AttributeError,
    ) as error:
        return DoctorCheck(
            "concepts",
            CheckStatus.ERROR,
            f"stories/concepts.toml cannot be loaded ({type(error).__name__}: {error})",
            "restore it from the release (`git checkout stories/concepts.toml`) and redo your edit",
        )
    shown = _shown_path(figure_match.CONCEPTS_FILE)
    cues = len(figure_match.UPDATE_CUES)
    return DoctorCheck("concepts", CheckStatus.OK, f"{shown}: loads ({cues} update cues)")


# --- chat platforms -----------------------------------------------------------------------------------


async def check_platforms(settings: Settings) -> list[DoctorCheck]:
    # Each adapter is imported only when configured: Slack's and Discord's SDKs cost a second to load.
    from values.doctor import CheckStatus, DoctorCheck

    console_mode = not settings.slack_enabled and not settings.discord_enabled
    checks: list[DoctorCheck] = []
    if settings.slack_enabled:
        from handlers.slack.doctor import check_slack

        checks += await _bounded("slack", check_slack(settings))
    else:
        checks.append(DoctorCheck("slack", CheckStatus.SKIPPED, _not_configured(console_mode)))
    if settings.discord_enabled:
        from handlers.discord.doctor import check_discord

        checks += await _bounded("discord", check_discord(settings))
    else:
        checks.append(DoctorCheck("discord", CheckStatus.SKIPPED, _not_configured(console_mode)))
    return checks


def _not_configured(console_mode: bool) -> str:
    return "not configured (console mode)" if console_mode else "not configured"


async def _bounded(platform: str, checks: Awaitable[list[DoctorCheck]]) -> list[DoctorCheck]:
    from values.doctor import CheckStatus, DoctorCheck

    try:
        async with asyncio.timeout(PLATFORM_TIMEOUT_SECONDS):
            return await checks
    except TimeoutError:
        return [
            DoctorCheck(
                platform,
                CheckStatus.ERROR,
                f"no answer within {PLATFORM_TIMEOUT_SECONDS:g} seconds",
                f"check the network, and {platform.upper()}_API_BASE_URL if you set it",
            )
        ]


# --- feeds --------------------------------------------------------------------------------------------


async def check_configured_feeds(settings: Settings, *, store_ready: bool) -> list[DoctorCheck]:
    """Every feed in FEEDS_FILE, and those added with `bot.py feeds add` when the store can be read."""
    from cli.feeds_cmd import check_feeds
    from config.settings import ConfigurationError
    from feeds.sources import load_sources
    from values.doctor import CheckStatus, DoctorCheck

    try:
        feeds: list[CheckedFeed] = list(load_sources(settings.feeds_file))
    except ConfigurationError as error:
        fix = "correct the file (see feeds/sources.toml for the format) or point FEEDS_FILE at a good one"
        return [DoctorCheck("feeds", CheckStatus.ERROR, str(error), fix)]
    if store_ready:
        listed = {feed.name for feed in feeds}
        feeds += [feed for feed in await _added_by_hand(settings) if feed.name not in listed]
    if not feeds:
        return [
            DoctorCheck(
                "feeds",
                CheckStatus.WARNING,
                f"no feeds in {_shown_path(settings.feeds_file)}: the bot has nothing to poll",
                "add [[feeds]] tables to FEEDS_FILE, or feeds with `bot.py feeds add`",
            )
        ]
    results = await check_feeds(settings, feeds)
    checks = [_feed_line(result) for result in results]
    if not any(result.ok for result in results):
        checks.append(
            DoctorCheck(
                "feeds",
                CheckStatus.ERROR,
                ("the only feed" if len(results) == 1 else f"none of the {len(results)} feeds")
                + " could be fetched: the bot would have nothing to alert on",
                "check this machine's network access (proxy, firewall, DNS) first, then the feed addresses",
            )
        )
    return checks


async def _added_by_hand(settings: Settings) -> Sequence[CheckedFeed]:
    from feeds.sources import ORIGIN_CLI
    from storage import feeds_repo
    from storage.db import open_store, session_factory

    async with (
        open_store(settings.database_url, migrate=False) as engine,
        session_factory(engine)() as session,
    ):
        enabled = await feeds_repo.list_feeds(session, include_disabled=False)
        return [feed for feed in enabled if feed.origin == ORIGIN_CLI]


def feed_format(version: str) -> str:
    """feedparser's version name as people say it: "rss20" → "RSS 2.0", "atom10" → "Atom 1.0"."""
    for prefix, family in _FORMAT_FAMILIES.items():
        if version.startswith(prefix):
            digits = "".join(ch for ch in version[len(prefix) :] if ch.isdigit())
            return f"{family} {digits[0]}.{digits[1:]}" if len(digits) > 1 else family
    return version or "unknown format"


def _feed_line(result: CheckResult) -> DoctorCheck:
    from values.doctor import CheckStatus, DoctorCheck

    name = f"feed {result.name}"
    if not result.ok:
        kind = result.detail.split(":", 1)[0]
        fix = UNREADABLE_FEED_FIX if kind in {"parse", "not_a_feed"} else UNREACHABLE_FEED_FIX
        return DoctorCheck(name, CheckStatus.WARNING, result.detail, fix)
    modified = f"Last-Modified {result.last_modified}" if result.last_modified else "no Last-Modified"
    detail = f"HTTP {result.http_status}, {feed_format(result.version)}, {result.entries} entries, {modified}"
    return DoctorCheck(name, CheckStatus.OK, detail + (f"; {result.detail}" if result.detail else ""))


# --- output -------------------------------------------------------------------------------------------


def _print_lines(checks: list[DoctorCheck]) -> None:
    from rich.console import Console
    from rich.text import Text

    # soft_wrap: one check, one line, however narrow the terminal; a log or grep sees it whole.
    console = Console(highlight=False, soft_wrap=True)
    for check in checks:
        symbol, style = SYMBOLS[check.status.value]
        line = Text.assemble((symbol, style), f" {check.name}: {check.detail}")
        if check.fix:
            line.append(f" — fix: {check.fix}")
        console.print(line)
    errors = sum(check.failed for check in checks)
    warnings = sum(check.status.value == "warning" for check in checks)
    verdict = "ready to run" if not errors else "not ready: fix the ✘ lines"
    console.print(f"{errors} error(s), {warnings} warning(s): {verdict}", markup=False)
