"""`bot.py doctor`, the Discord part: is DISCORD_TOKEN accepted, and can the bot see DISCORD_ALERT_CHANNEL
(in DISCORD_GUILD_ID when that is set). REST only: no gateway connection, nothing is posted.

Seeing the channel (`GET /channels/{id}` answering 200) proves the bot is in its server and may view it;
whether it may also send there is decided by role overwrites and shows at the first alert.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import discord

from config.settings import Settings
from handlers.discord.endpoints import point_discord_at
from values.doctor import CheckStatus, DoctorCheck

TOKEN_FIX = "set DISCORD_TOKEN to the bot's token (Developer Portal → your app → Bot → Reset Token)"
CHANNEL_ID_FIX = (
    "set DISCORD_ALERT_CHANNEL to the channel's ID (with Developer Mode on: right-click it → Copy Channel ID)"
)


async def check_discord(settings: Settings) -> list[DoctorCheck]:
    """The Discord lines of the report (DISCORD_TOKEN is set): token, alert channel."""
    assert settings.discord_token is not None, "only called when Discord is configured"
    restore = point_discord_at(settings.discord_api_base_url, None)
    client = discord.Client(intents=discord.Intents.none())
    try:
        identity = await _check_token(client, settings.discord_token.get_secret_value())
        if identity.failed:
            return [identity]
        return [identity, await _check_channel(client, settings)]
    finally:
        await client.close()
        restore()


async def _check_token(client: discord.Client, token: str) -> DoctorCheck:
    try:
        await client.login(token)
    except discord.LoginFailure:
        return DoctorCheck("discord token", CheckStatus.ERROR, "token rejected (401 Unauthorized)", TOKEN_FIX)
    except discord.HTTPException as error:
        return DoctorCheck(
            "discord token",
            CheckStatus.ERROR,
            f"login failed (HTTP {error.status}: {error.text or 'no detail'})",
            "check Discord's status page and run doctor again; if it persists, " + TOKEN_FIX,
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return DoctorCheck(
            "discord token",
            CheckStatus.ERROR,
            f"Discord's API at {discord.http.Route.BASE} could not be reached ({type(error).__name__})",
            "check the network, proxy and firewall of this machine, and DISCORD_API_BASE_URL if you set it",
        )
    user = client.user
    who = f"{user.name} ({user.id})" if user is not None else "the bot"
    return DoctorCheck("discord token", CheckStatus.OK, f"accepted: logged in as {who}")


async def _check_channel(client: discord.Client, settings: Settings) -> DoctorCheck:
    channel_id = settings.discord_alert_channel
    if channel_id is None:
        return DoctorCheck(
            "discord channel",
            CheckStatus.SKIPPED,
            "no DISCORD_ALERT_CHANNEL: editors subscribe channels with `/news subscribe`",
        )
    try:
        channel: dict[str, Any] = dict(await client.http.get_channel(channel_id))
    except discord.NotFound:
        return DoctorCheck(
            "discord channel",
            CheckStatus.ERROR,
            f"DISCORD_ALERT_CHANNEL {channel_id} is unknown to Discord (Unknown Channel)",
            CHANNEL_ID_FIX + ", and invite the bot to that server",
        )
    except discord.Forbidden:
        return DoctorCheck(
            "discord channel",
            CheckStatus.ERROR,
            f"the bot cannot see channel {channel_id} (Missing Access)",
            "give the bot's role View Channel and Send Messages in that channel, or invite it to that server",
        )
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as error:
        return DoctorCheck(
            "discord channel",
            CheckStatus.ERROR,
            f"could not ask Discord about channel {channel_id} ({type(error).__name__})",
            "check the network and run doctor again",
        )
    guild = channel.get("guild_id")
    wanted = settings.discord_guild_id
    name = f"#{channel.get('name')}" if channel.get("name") else str(channel_id)
    if wanted is not None and str(guild) != str(wanted):
        where = f"server {guild}" if guild else "a direct message, not a server"
        return DoctorCheck(
            "discord channel",
            CheckStatus.ERROR,
            f"{name} ({channel_id}) is in {where}, not DISCORD_GUILD_ID {wanted}",
            "set DISCORD_GUILD_ID to the server the channel is in, or pick a channel of that server",
        )
    server = f" in server {guild}" if guild else ""
    return DoctorCheck(
        "discord channel", CheckStatus.OK, f"{name} ({channel_id}){server}: the bot can see it"
    )
