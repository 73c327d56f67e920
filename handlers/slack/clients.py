"""Slack Web API clients: one place that decides base URL, retries and which token a channel uses.

Retries stop where a repeat could double a message: a 5xx, a timeout or a dropped connection after a
`chat.postMessage` may come after Slack stored it, so those are left to the delivery sender, which
retries with backoff and first asks `find_posted` (the idempotency key in message metadata). Posting
methods are retried only on a 429 (Slack accepted nothing) or when the connection could not even be
opened (nothing was sent); reads and edits keep the SDK's retries on server and connection errors.

Single-token mode (SLACK_BOT_TOKEN) uses one client. OAuth mode looks the channel's workspace up in the
`channels` table and that workspace's bot token up in slack_sdk's SQLAlchemy installation store.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from aiohttp import ClientConnectorError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from errors import PermanentDeliveryError
from storage import channels_repo

DEFAULT_API_BASE_URL = "https://slack.com/api/"
# Methods whose repeat is a second message: never re-sent once the request may have reached Slack.
NOT_REPEATABLE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage"})


def api_base_url(configured: str | None) -> str:
    """SLACK_API_BASE_URL with the trailing slash slack_sdk's urljoin needs (integration notes §1.2)."""
    url = (configured or "").strip() or DEFAULT_API_BASE_URL
    return url if url.endswith("/") else url + "/"


def api_method(request: HttpRequest) -> str:
    """The Web API method of a request: the last path segment of its URL (`…/api/chat.postMessage`)."""
    return urlsplit(request.url).path.rstrip("/").rsplit("/", 1)[-1]


def repeatable(request: HttpRequest) -> bool:
    return api_method(request) not in NOT_REPEATABLE_METHODS


class SafeServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """500/503 retried for reads and edits only: the failed post may already be in the channel."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not repeatable(request):
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


class SafeConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """Dropped connections and timeouts retried for reads and edits; a post only when nothing was sent."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not repeatable(request):
            # Could not connect at all (refused, DNS, TLS handshake): the request never left.
            return isinstance(error, ClientConnectorError)
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def retry_handlers(*, rate_limit_retries: int = 1, server_error_retries: int = 1) -> list[AsyncRetryHandler]:
    """429 retry is not in slack_sdk's defaults; one short retry, then the sender's own backoff takes over.

    A 429 means Slack accepted nothing, so it is safe for every method; server and connection errors are
    retried only where a repeat cannot double a message (see the module docstring).
    """
    handlers: list[AsyncRetryHandler] = [SafeConnectionErrorRetryHandler(max_retry_count=1)]
    if rate_limit_retries > 0:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    if server_error_retries > 0:
        handlers.append(SafeServerErrorRetryHandler(max_retry_count=server_error_retries))
    return handlers


def make_client(
    token: str | None, base_url: str, *, rate_limit_retries: int = 1, server_error_retries: int = 1
) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=retry_handlers(
            rate_limit_retries=rate_limit_retries, server_error_retries=server_error_retries
        ),
    )


class ClientSource(Protocol):
    async def for_channel(self, channel: str) -> AsyncWebClient:
        """The client whose token may post to `channel`."""
        ...


class SingleTokenClients:
    """Every channel belongs to the one workspace SLACK_BOT_TOKEN was issued for."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def for_channel(self, channel: str) -> AsyncWebClient:
        return self.client


class InstalledClients:
    """Multi-workspace: the channel's team (stored when it was first seen) picks the installation's token."""

    def __init__(
        self,
        store: AsyncInstallationStore,
        sessions: async_sessionmaker[AsyncSession],
        base_url: str,
        *,
        rate_limit_retries: int = 1,
        server_error_retries: int = 1,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._base_url = base_url
        self._rate_limit_retries = rate_limit_retries
        self._server_error_retries = server_error_retries
        self._clients: dict[str, AsyncWebClient] = {}

    async def team_of(self, channel: str) -> str | None:
        async with self._sessions() as session:
            return await channels_repo.team_of(session, "slack", channel)

    async def for_channel(self, channel: str) -> AsyncWebClient:
        team_id = await self.team_of(channel)
        if team_id is None:
            raise PermanentDeliveryError(f"Slack channel {channel} has no known workspace")
        bot = await self._store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            raise PermanentDeliveryError(f"Wirewatch is not installed in Slack workspace {team_id}")
        client = self._clients.get(bot.bot_token)
        if client is None:
            client = make_client(
                bot.bot_token,
                self._base_url,
                rate_limit_retries=self._rate_limit_retries,
                server_error_retries=self._server_error_retries,
            )
            self._clients[bot.bot_token] = client
        return client
