"""Where discord.py sends REST calls and opens the gateway: Discord's own, or DISCORD_API_BASE_URL /
DISCORD_GATEWAY_URL (an API proxy, or the contract fakes in tests).

discord.py 2.7 reads both from class attributes, so they are per process, not per client:
- REST and webhooks build every URL from `discord.http.Route.BASE` when a `Route` is made;
- `discord.Client.connect` opens `DiscordWebSocket.DEFAULT_GATEWAY` (a plain `Client` never asks
  `GET /gateway/bot`; only `AutoShardedClient` does). After READY it resumes at the `resume_gateway_url`
  Discord announced, so a gateway proxy must rewrite that field too.
When only the API base URL is set, the gateway is the one that API announces at `GET /gateway/bot`,
as Discord itself does. `point_discord_at` returns a function that puts the previous values back.
"""

from __future__ import annotations

from collections.abc import Callable

import discord
import yarl
from discord.gateway import DiscordWebSocket


def point_discord_at(api_base_url: str | None, gateway_url: str | None) -> Callable[[], None]:
    """Send discord.py's REST calls to `api_base_url` and its gateway to `gateway_url` (None: unchanged)."""
    previous_base, previous_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    if api_base_url:
        discord.http.Route.BASE = api_base_url.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def restore() -> None:
        discord.http.Route.BASE = previous_base
        DiscordWebSocket.DEFAULT_GATEWAY = previous_gateway

    return restore


async def announced_gateway(client: discord.Client) -> str:
    """The gateway URL the (possibly redirected) REST API announces for this bot."""
    _shards, url, _limits = await client.http.get_bot_gateway()
    return url
