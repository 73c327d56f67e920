"""The chat platforms this process talks to, built from settings through each adapter's runtime contract.

Slack when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set, Discord when DISCORD_TOKEN is set, and the
console when neither is: alerts print to the terminal and `/news` lines are read from stdin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from delivery.ports import ChatPoster

if TYPE_CHECKING:
    from handlers.news.topics import TopicCatalog
    from handlers.news.views import NewsAnswerer


class PlatformRuntime(Protocol):
    """What `handlers/{console,slack,discord}/runtime.py` return (see docs/architecture.md)."""

    platform: str
    poster: ChatPoster

    async def start_posting(self) -> None: ...

    async def start_listening(self) -> None: ...

    async def stop(self) -> None: ...


def configured_platforms(settings: Settings) -> list[str]:
    platforms = []
    if settings.slack_enabled:
        platforms.append("slack")
    if settings.discord_enabled:
        platforms.append("discord")
    return platforms or ["console"]


def build_platform_runtimes(
    settings: Settings,
    news: NewsAnswerer,
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: TopicCatalog,
    stdin: bool,
) -> list[PlatformRuntime]:
    """One runtime per configured platform, each answering `/news` through `news` with the topics of
    `catalog`; adapters are imported only when configured (discord.py and Bolt are slow to import)."""
    runtimes: list[PlatformRuntime] = []
    for platform in configured_platforms(settings):
        if platform == "slack":
            from handlers.slack.runtime import build_slack_runtime

            runtimes.append(build_slack_runtime(settings, news, sessions, catalog=catalog))
        elif platform == "discord":
            from handlers.discord.runtime import build_discord_runtime

            runtimes.append(build_discord_runtime(settings, news, sessions, catalog=catalog))
        else:
            from handlers.console.runtime import build_console_runtime

            runtimes.append(build_console_runtime(settings, news, sessions, catalog=catalog, stdin=stdin))
    return runtimes
