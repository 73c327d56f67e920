"""Replay the bundled sample feeds through a real `bot.py run` on loopback, then ask it a few questions.

Phase 1 of `sample_feeds.toml` is served first: the bot's first poll of each feed stores that backlog
silently, as it would on a newsroom's first day. As soon as every feed has been polled once, the server
switches to phase 2 (new stories, a translation, a re-publication with new figures and an off-beat story
with a mention-injection headline) and the bot alerts on what is new and on the beat. No network is needed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from tests.fakes.feed_server import FeedItem, FeedServer, rss_document

SAMPLES = Path(__file__).resolve().parent / "sample_feeds.toml"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUN_SECONDS = 25.0
console = Console()


@dataclass(frozen=True, slots=True)
class SampleFeed:
    slug: str
    name: str
    language: str
    title: str


def load_samples(now: datetime) -> tuple[list[SampleFeed], dict[tuple[str, int], list[FeedItem]]]:
    data = tomllib.loads(SAMPLES.read_text(encoding="utf-8"))
    feeds = [SampleFeed(f["slug"], f["name"], f["language"], f["title"]) for f in data["feeds"]]
    items: dict[tuple[str, int], list[FeedItem]] = {}
    for item in data["items"]:
        feed_item = FeedItem(
            title=item["title"],
            link=item["link"],
            summary=item["summary"],
            published=now - timedelta(minutes=item["minutes_ago"]),
        )
        items.setdefault((item["feed"], item["phase"]), []).append(feed_item)
    return feeds, items


def feed_document(feed: SampleFeed, items: dict[tuple[str, int], list[FeedItem]], phase: int) -> bytes:
    # A feed lists its newest items first, and keeps the older ones.
    shown = [i for p in range(phase, 0, -1) for i in items.get((feed.slug, p), [])]
    return rss_document(feed.title, shown, language=feed.language)


async def run_bot(env: dict[str, str], *args: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(PROJECT_ROOT / "bot.py"), *args, env=env, cwd=PROJECT_ROOT
    )
    return await process.wait()


async def advance_when_polled(
    server: FeedServer, feeds: list[SampleFeed], items: dict, deadline: float
) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        if all(server.hits(f"/{f.slug}.xml") >= 1 for f in feeds):
            for feed in feeds:
                server.feed(f"/{feed.slug}.xml", feed_document(feed, items, phase=2))
            console.print(
                "[bold cyan]demo:[/] every feed polled once (backlog stored silently); new stories published"
            )
            return
        await asyncio.sleep(0.2)


async def main() -> int:
    now = datetime.now(UTC)
    feeds, items = load_samples(now)
    with tempfile.TemporaryDirectory(prefix="wirewatch-demo-") as workdir:
        async with FeedServer() as server:
            lines = []
            for feed in feeds:
                url = server.feed(f"/{feed.slug}.xml", feed_document(feed, items, phase=1))
                lines += [
                    "[[feeds]]",
                    f'name = "{feed.name}"',
                    f'url = "{url}"',
                    f'language = "{feed.language}"',
                    "",
                ]
            feeds_file = Path(workdir) / "feeds.toml"
            feeds_file.write_text("\n".join(lines), encoding="utf-8")
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
                "DATABASE_URL": f"sqlite:///{Path(workdir) / 'demo.db'}",
                "FEEDS_FILE": str(feeds_file),
                "POLL_INTERVAL_SECONDS": "2",
                "POLL_MIN_SECONDS": "1",
                "POLL_MAX_SECONDS": "5",
                "SCHEDULER_TICK_SECONDS": "0.5",
                "DELIVERY_CHANNEL_INTERVAL_SECONDS": "0.2",
                "LOG_LEVEL": "WARNING",
                "LOG_FORMAT": "console",
            }
            console.rule("Wirewatch demo: sample feeds on " + server.base_url)
            loop = asyncio.get_running_loop()
            advancing = asyncio.create_task(
                advance_when_polled(server, feeds, items, loop.time() + RUN_SECONDS)
            )
            code = await run_bot(env, "run", "--role", "all", "--for-seconds", str(RUN_SECONDS), "--no-stdin")
            advancing.cancel()
        if code != 0:
            console.print(f"[red]the bot exited with status {code}[/]")
            return code
        for question in ("/news deserters", "/news figures deserters", "/news feeds"):
            console.rule(f"bot.py ask {question!r}")
            code = await run_bot(env, "ask", question)
            if code != 0:
                return code
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
