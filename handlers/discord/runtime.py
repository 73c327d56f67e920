"""The Discord runtime: the gateway client that answers `/news`, the REST poster, and their start/stop.

`build_discord_runtime(settings, news, sessions, catalog=)` gives the object `runtime/platforms.py` wires in:
- `start_posting()`: logs the poster's REST client in (no gateway), so any worker role can post alerts;
- `start_listening()`: (gateway/all roles) logs in the bot, syncs the application commands (to
  DISCORD_GUILD_ID at once, else globally, which Discord may take a while to show), subscribes
  DISCORD_ALERT_CHANNEL to the beat, and connects to the gateway in the background;
- `stop()`: closes both clients and puts discord.py's endpoints back.
Building it masks interaction tokens in discord.py's DEBUG logs (`handlers.discord.logs`).
Both starts log the invite URL with exactly the scopes and permissions the bot needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

import discord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import ConfigurationError, Settings
from handlers.discord.commands import DEFER_AFTER_SECONDS, NewsCommands, NewsCommandTree
from handlers.discord.endpoints import announced_gateway, point_discord_at
from handlers.discord.logs import install_token_redaction
from handlers.discord.poster import PLATFORM, DiscordPoster, posting_client
from handlers.news.channel import subscribe_alert_channel
from handlers.news.topics import TopicCatalog, catalog_or_file
from handlers.news.views import NewsAnswerer
from stories.model import Topic
from values.chat import ChannelRef
from values.clock import utc_now

INVITE_SCOPES = ("bot", "applications.commands")
# What posting alerts and replying to them needs, nothing more: see docs/discord.md.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, read_message_history=True
)

log = logging.getLogger(__name__)


def minimal_intents() -> discord.Intents:
    """Slash commands need no intent; GUILDS (not privileged) caches roles so DISCORD_EDITOR_ROLE resolves."""
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES)


class WirewatchDiscordClient(discord.Client):
    """The gateway client: receives interactions and answers them through `NewsCommandTree`."""

    def __init__(self, commands: NewsCommands, *, guild_id: int | None, **options: object) -> None:
        super().__init__(intents=minimal_intents(), **options)  # type: ignore[arg-type]
        self.guild_id = guild_id
        self.tree = NewsCommandTree(self, commands)
        self.synced_commands: list[discord.app_commands.AppCommand] = []

    async def setup_hook(self) -> None:
        """Runs inside `login`: register the commands before any interaction can arrive."""
        try:
            if self.guild_id is not None:
                guild = discord.Object(id=self.guild_id)
                self.tree.copy_global_to(guild=guild)
                self.synced_commands = await self.tree.sync(guild=guild)
            else:
                self.synced_commands = await self.tree.sync()
        except discord.HTTPException as error:
            log.error(
                "could not register the Discord slash commands (%s); invite the bot with the "
                "applications.commands scope: %s",
                error,
                invite_url(self.application_id or 0),
            )
            return
        scope = (
            f"guild {self.guild_id}" if self.guild_id is not None else "globally (may take a while to show)"
        )
        log.info("registered %d Discord commands %s", len(self.synced_commands), scope)


class DiscordRuntime:
    """What `runtime/process.py` starts and stops for Discord (see "Runtime wiring contracts")."""

    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        news: NewsAnswerer,
        sessions: async_sessionmaker[AsyncSession],
        catalog: TopicCatalog,
        *,
        defer_after: float = DEFER_AFTER_SECONDS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if settings.discord_token is None:
            raise ConfigurationError("configuration error: DISCORD_TOKEN: needed to start Discord")
        # At DEBUG discord.py logs the URLs (and gateway payloads) that carry interaction tokens.
        install_token_redaction()
        # Wirewatch never joins voice: discord.py's start-up warnings about voice libraries only mislead.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        self.settings = settings
        self.sessions = sessions
        self.catalog = catalog
        self.clock = clock
        self.commands = NewsCommands(news, catalog, settings.discord_editor_role, defer_after)
        self.poster = DiscordPoster(posting_client(), topic_colours(catalog.topics))
        self.bot: WirewatchDiscordClient | None = None
        self.gateway_task: asyncio.Task[None] | None = None
        self._restores: list[Callable[[], None]] = []
        self._invite_logged = False

    @property
    def _token(self) -> str:
        assert self.settings.discord_token is not None
        return self.settings.discord_token.get_secret_value()

    def _point_endpoints(self) -> None:
        if not self._restores:
            self._restores.append(
                point_discord_at(self.settings.discord_api_base_url, self.settings.discord_gateway_url)
            )

    def _log_invite(self, client: discord.Client) -> None:
        if not self._invite_logged and client.application_id is not None:
            self._invite_logged = True
            log.info("Discord invite URL: %s", invite_url(client.application_id))

    async def start_posting(self) -> None:
        self._point_endpoints()
        await self.poster.client.login(self._token)
        self._log_invite(self.poster.client)

    async def start_listening(self) -> None:
        self._point_endpoints()
        self.bot = WirewatchDiscordClient(self.commands, guild_id=self.settings.discord_guild_id)
        await self.bot.login(self._token)  # syncs the commands in setup_hook
        self._log_invite(self.bot)
        await self.subscribe_alert_channel()
        if not self.settings.discord_gateway_url:
            try:
                self._restores.append(point_discord_at(None, await announced_gateway(self.bot)))
            except discord.GatewayNotFound:
                log.warning("Discord did not announce a gateway; connecting to the default one")
        self.gateway_task = asyncio.create_task(self.bot.connect(reconnect=True), name="discord-gateway")
        self.gateway_task.add_done_callback(_report_gateway_end)

    async def subscribe_alert_channel(self) -> bool:
        """DISCORD_ALERT_CHANNEL gets the beat's alerts; False when unset or already subscribed."""
        channel_id = self.settings.discord_alert_channel
        if channel_id is None:
            return False
        guild_id = self.settings.discord_guild_id
        ref = ChannelRef(PLATFORM, str(channel_id), team_id=str(guild_id) if guild_id else None)
        added = await subscribe_alert_channel(
            self.sessions, ref, self.catalog.beat.name, by="DISCORD_ALERT_CHANNEL", now=self.clock()
        )
        if added:
            log.info("Discord channel %s now receives %s alerts", channel_id, self.catalog.beat.name)
        return added

    async def stop(self) -> None:
        for client in (self.bot, self.poster.client):
            if client is not None and not client.is_closed():
                await client.close()
        if self.gateway_task is not None:
            if not self.gateway_task.done():
                self.gateway_task.cancel()
            await asyncio.gather(self.gateway_task, return_exceptions=True)
        for restore in reversed(self._restores):
            restore()
        self._restores.clear()


def _report_gateway_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the Discord gateway connection ended", exc_info=task.exception())


def topic_colours(topics: Iterable[Topic]) -> dict[str, int]:
    return {topic.name: topic.colour for topic in topics}


def build_discord_runtime(
    settings: Settings,
    news: NewsAnswerer,
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: TopicCatalog | None = None,
) -> DiscordRuntime:
    """The Discord runtime from settings; topics come from TOPICS_FILE unless a catalog is given."""
    return DiscordRuntime(settings, news, sessions, catalog_or_file(catalog, settings.topics_file))
