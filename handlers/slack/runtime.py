"""The Slack runtime: Bolt `AsyncApp` over HTTP (or Socket Mode), the alert poster, optional OAuth.

Modes, from settings:
- single workspace (default): SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET; HTTP endpoint `/slack/events` on
  SLACK_HTTP_PORT, or Socket Mode when SLACK_APP_TOKEN is also set;
- multi-workspace: SLACK_CLIENT_ID + SLACK_CLIENT_SECRET add `/slack/install` and `/slack/oauth_redirect`;
  installations live in slack_sdk's SQLAlchemy store (`slack_*` tables) on Wirewatch's own database.
Every SDK client gets SLACK_API_BASE_URL (GovSlack, a proxy, or the test fake).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.settings import ConfigurationError, Settings
from handlers.news.channel import subscribe_alert_channel
from handlers.news.topics import TopicCatalog, catalog_or_file
from handlers.news.views import NewsAnswerer
from handlers.slack.clients import (
    ClientSource,
    InstalledClients,
    SingleTokenClients,
    api_base_url,
    make_client,
)
from handlers.slack.editors import LOOKUP_SECONDS, EditorList, EditorPolicy
from handlers.slack.listeners import DEFAULT_ACK_BUDGET, SlackListeners
from handlers.slack.poster import RATE_LIMIT_ERRORS, TRANSIENT_ERRORS, SlackPoster
from values.chat import ChannelRef
from values.clock import utc_now

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
BOT_SCOPES = (
    "commands",
    "chat:write",
    "files:write",
    "users:read",
    "usergroups:read",
    "channels:history",
    "groups:history",
)
OAUTH_STATE_SECONDS = 600
GOVSLACK_AUTHORIZE_URL = "https://slack-gov.com/oauth/v2/authorize"


class SlackRuntime:
    """See "Runtime wiring contracts" in docs/architecture.md."""

    platform = "slack"

    def __init__(
        self,
        settings: Settings,
        news: NewsAnswerer,
        sessions: async_sessionmaker[AsyncSession],
        *,
        catalog: TopicCatalog | None = None,
        http_host: str = "0.0.0.0",
        ack_budget: float = DEFAULT_ACK_BUDGET,
        rate_limit_retries: int = 1,
        server_error_retries: int = 1,
        role_lookup_seconds: float = LOOKUP_SECONDS,
    ) -> None:
        if settings.slack_signing_secret is None:
            raise ConfigurationError("configuration error: SLACK_SIGNING_SECRET: required for the Slack app")
        self._settings = settings
        self._news = news
        self._sessions = sessions
        self._catalog = catalog
        self._http_host = http_host
        self._ack_budget = ack_budget
        self._role_lookup_seconds = role_lookup_seconds
        self._base_url = api_base_url(settings.slack_api_base_url)
        self._retries = {
            "rate_limit_retries": rate_limit_retries,
            "server_error_retries": server_error_retries,
        }
        self._oauth = bool(settings.slack_client_id and settings.slack_client_secret)
        self._installations: AsyncSQLAlchemyInstallationStore | None = None
        self._states: AsyncSQLAlchemyOAuthStateStore | None = None
        self._bot_client: AsyncWebClient | None = None
        clients: ClientSource
        if self._oauth:
            engine = _engine_of(sessions)
            assert settings.slack_client_id is not None
            self._installations = AsyncSQLAlchemyInstallationStore(
                client_id=settings.slack_client_id, engine=engine
            )
            self._states = AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=OAUTH_STATE_SECONDS, engine=engine
            )
            clients = InstalledClients(self._installations, sessions, self._base_url, **self._retries)
        else:
            if settings.slack_bot_token is None:
                raise ConfigurationError(
                    "configuration error: SLACK_BOT_TOKEN: required unless "
                    "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set"
                )
            self._bot_client = make_client(
                settings.slack_bot_token.get_secret_value(), self._base_url, **self._retries
            )
            clients = SingleTokenClients(self._bot_client)
        self.poster = SlackPoster(clients)
        self.team_id: str | None = None
        self.app: AsyncApp | None = None
        self.http_port: int | None = None
        self._posting = False
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None

    # --- posting ------------------------------------------------------------------------------------------

    async def start_posting(self) -> None:
        """Check the token (single workspace) or create the installation tables (OAuth)."""
        if self._posting:
            return
        if self._oauth:
            assert self._installations is not None and self._states is not None
            await _create_tables(self._installations, self._states)
        else:
            assert self._bot_client is not None
            try:
                identity = await self._bot_client.auth_test()
            except SlackApiError as error:
                code = error.response.get("error")
                if error.response.status_code < 500 and code not in TRANSIENT_ERRORS | RATE_LIMIT_ERRORS:
                    raise ConfigurationError(
                        f"configuration error: SLACK_BOT_TOKEN: Slack refused it ({code})"
                    ) from None
                # Slack having a bad minute must not keep the poller and the other platforms down.
                log.warning("slack: could not check the bot token now (%s); carrying on", code)
            except (aiohttp.ClientError, TimeoutError) as error:
                log.warning("slack: Slack unreachable at start (%s); carrying on", type(error).__name__)
            else:
                self.team_id = identity.get("team_id")
                log.info("slack: posting as %s in workspace %s", identity.get("user"), self.team_id)
        self._posting = True

    # --- listening ----------------------------------------------------------------------------------------

    def build_app(self) -> AsyncApp:
        settings = self._settings
        assert settings.slack_signing_secret is not None
        secret = settings.slack_signing_secret.get_secret_value()
        if self._oauth:
            assert settings.slack_client_id and settings.slack_client_secret
            app = AsyncApp(
                signing_secret=secret,
                client=make_client(None, self._base_url, **self._retries),
                oauth_settings=AsyncOAuthSettings(
                    client_id=settings.slack_client_id,
                    client_secret=settings.slack_client_secret.get_secret_value(),
                    scopes=list(BOT_SCOPES),
                    installation_store=self._installations,
                    state_store=self._states,
                    authorization_url=_authorization_url(self._base_url),
                    install_path=INSTALL_PATH,
                    redirect_uri_path=REDIRECT_PATH,
                ),
            )
        else:
            assert self._bot_client is not None
            app = AsyncApp(signing_secret=secret, client=self._bot_client)
        editors = EditorPolicy(
            EditorList.parse(settings.slack_editor_ids), lookup_seconds=self._role_lookup_seconds
        )
        SlackListeners(self._news, editors, ack_budget=self._ack_budget).register(app)
        return app

    async def start_listening(self) -> None:
        await self.start_posting()
        await self.subscribe_alert_channel()
        self.app = self.build_app()
        if self._settings.slack_app_token is not None and self._oauth:
            log.warning("slack: SLACK_APP_TOKEN is ignored with OAuth installs; serving the HTTP endpoint")
        if self._settings.slack_app_token is not None and not self._oauth:
            app_token = self._settings.slack_app_token.get_secret_value()
            self._socket = AsyncSocketModeHandler(self.app, app_token)
            # The SDK retries a refused app token forever; ask once ourselves so start-up fails with one line.
            self._socket.client.wss_uri = await self._socket_url(app_token)
            await self._socket.connect_async()
            log.info("slack: connected in Socket Mode")
            return
        self._runner = web.AppRunner(self.app.web_app(path=EVENTS_PATH), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._http_host, self._settings.slack_http_port)
        await site.start()
        server = site._server
        assert server is not None
        self.http_port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("slack: listening on %s:%s%s", self._http_host, self.http_port, EVENTS_PATH)

    async def _socket_url(self, app_token: str) -> str:
        assert self._bot_client is not None
        try:
            response = await self._bot_client.apps_connections_open(app_token=app_token)
        except SlackApiError as error:
            code = error.response.get("error")
            raise ConfigurationError(
                f"configuration error: SLACK_APP_TOKEN: Slack refused it ({code})"
            ) from None
        return str(response["url"])

    async def subscribe_alert_channel(self) -> None:
        """SLACK_ALERT_CHANNEL gets the beat from the start; other channels use `/news subscribe`."""
        channel = self._settings.slack_alert_channel
        if not channel:
            return
        if self._oauth:
            log.warning(
                "slack: SLACK_ALERT_CHANNEL is ignored with OAuth installs; use /news subscribe there"
            )
            return
        topic = catalog_or_file(self._catalog, self._settings.topics_file).beat.name
        added = await subscribe_alert_channel(
            self._sessions,
            ChannelRef("slack", channel, self.team_id),
            topic,
            by="SLACK_ALERT_CHANNEL",
            now=utc_now(),
        )
        if added:
            log.info("slack: subscribed %s to %s", channel, topic)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _authorization_url(base_url: str) -> str | None:
    """GovSlack installs authorize on slack-gov.com; None keeps Bolt's slack.com default."""
    host = urlsplit(base_url).hostname or ""
    return GOVSLACK_AUTHORIZE_URL if host == "slack-gov.com" or host.endswith(".slack-gov.com") else None


def _engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        raise ConfigurationError("configuration error: DATABASE_URL: OAuth installs need the async engine")
    return engine


async def _create_tables(
    installations: AsyncSQLAlchemyInstallationStore, states: AsyncSQLAlchemyOAuthStateStore
) -> None:
    """The SDK's own tables (`slack_*`, outside Alembic on purpose); create-if-missing is idempotent."""
    for store in (installations, states):
        try:
            await store.create_tables()
        except Exception as error:  # another worker created them between the check and the create
            log.info("slack: installation tables already being created elsewhere (%s)", type(error).__name__)


def build_slack_runtime(
    settings: Settings, news: NewsAnswerer, sessions: async_sessionmaker[AsyncSession], **options: Any
) -> SlackRuntime:
    """The Slack runtime for `bot.py run`: `catalog=` is the topic catalog (TOPICS_FILE's when not given);
    the other keyword options are for tests (host, ack budget, retries, role lookup bound)."""
    return SlackRuntime(settings, news, sessions, **options)
