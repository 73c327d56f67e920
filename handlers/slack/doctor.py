"""`bot.py doctor`, the Slack part: is the bot token accepted, does it carry the manifest's scopes, and can
the bot read SLACK_ALERT_CHANNEL. Read-only: nothing is posted.

The alert channel is probed with `conversations.history` (limit 1), not `conversations.info`: the manifest
grants `channels:history`/`groups:history` (the delivery sender reads history after a failed post) but not
`channels:read`, so `conversations.info` would answer `missing_scope` on every correctly installed app. A
history read answers exactly what an alert needs: `channel_not_found`, `not_in_channel` or `is_archived`.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from config.settings import Settings
from handlers.slack.clients import api_base_url, make_client
from handlers.slack.runtime import BOT_SCOPES
from values.doctor import CheckStatus, DoctorCheck

TOKEN_FIX = (
    "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) of the installed app (OAuth & Permissions)"
)
REJECTED_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)
INVITE_FIX = "invite the bot: type `/invite @Wirewatch` in that channel"


def granted_scopes(headers: Mapping[str, str]) -> set[str] | None:
    """The scopes Slack says the token carries (`x-oauth-scopes`); None when the header is absent."""
    for name, value in headers.items():
        if name.lower() == "x-oauth-scopes":
            return {scope.strip() for scope in value.split(",") if scope.strip()}
    return None


async def check_slack(settings: Settings) -> list[DoctorCheck]:
    """The Slack lines of the report (Slack is configured): token, scopes, alert channel."""
    if settings.slack_bot_token is None:
        return [
            DoctorCheck(
                "slack",
                CheckStatus.SKIPPED,
                "multi-workspace installs (SLACK_CLIENT_ID): each workspace's token is stored at install "
                "and is not checked here",
            )
        ]
    base_url = api_base_url(settings.slack_api_base_url)
    # No 5xx retries: a diagnosis should answer now, not after the SDK's backoff.
    client = make_client(settings.slack_bot_token.get_secret_value(), base_url, server_error_retries=0)
    try:
        identity, headers = await _check_token(client, base_url)
        if identity.failed:
            return [identity]
        return [identity, _check_scopes(headers), await _check_channel(client, settings)]
    finally:
        await _close(client)


async def _check_token(client: AsyncWebClient, base_url: str) -> tuple[DoctorCheck, Mapping[str, str]]:
    """The token's line, and the headers of auth.test's answer (they carry the granted scopes)."""
    try:
        response = await client.auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        if code in REJECTED_TOKEN_ERRORS:
            return DoctorCheck("slack token", CheckStatus.ERROR, f"token rejected ({code})", TOKEN_FIX), {}
        failed = DoctorCheck(
            "slack token",
            CheckStatus.ERROR,
            f"auth.test failed ({code}, HTTP {error.response.status_code})",
            "check Slack's status page; if it persists, reinstall the app and update SLACK_BOT_TOKEN",
        )
        return failed, {}
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        unreachable = DoctorCheck(
            "slack token",
            CheckStatus.ERROR,
            f"Slack's Web API at {base_url} could not be reached ({type(error).__name__})",
            "check the network, proxy and firewall of this machine, and SLACK_API_BASE_URL if you set it",
        )
        return unreachable, {}
    team = response.get("team") or "?"
    accepted = DoctorCheck(
        "slack token",
        CheckStatus.OK,
        f"accepted: bot user {response.get('user_id')} in workspace {team} ({response.get('team_id')})",
    )
    return accepted, response.headers


def _check_scopes(headers: Mapping[str, str]) -> DoctorCheck:
    granted = granted_scopes(headers)
    if granted is None:
        return DoctorCheck(
            "slack scopes",
            CheckStatus.WARNING,
            "Slack did not say which scopes the token has (no x-oauth-scopes header)",
            "if SLACK_API_BASE_URL points at a proxy, let it pass the x-oauth-scopes header through",
        )
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    if missing:
        return DoctorCheck(
            "slack scopes",
            CheckStatus.ERROR,
            f"missing {', '.join(missing)} (the manifest asks for {', '.join(BOT_SCOPES)})",
            "add them under OAuth & Permissions → Bot Token Scopes (or paste handlers/slack/manifest.yml "
            "again), then reinstall the app to the workspace",
        )
    return DoctorCheck("slack scopes", CheckStatus.OK, f"all {len(BOT_SCOPES)} the manifest asks for")


async def _check_channel(client: AsyncWebClient, settings: Settings) -> DoctorCheck:
    channel = settings.slack_alert_channel
    if not channel:
        return DoctorCheck(
            "slack channel",
            CheckStatus.SKIPPED,
            "no SLACK_ALERT_CHANNEL: editors subscribe channels with `/news subscribe`",
        )
    try:
        await client.conversations_history(channel=channel, limit=1)
    except SlackApiError as error:
        return _channel_problem(channel, str(error.response.get("error", "unknown_error")))
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return DoctorCheck(
            "slack channel",
            CheckStatus.ERROR,
            f"could not ask Slack about {channel} ({type(error).__name__})",
            "check the network and run doctor again",
        )
    return DoctorCheck(
        "slack channel", CheckStatus.OK, f"SLACK_ALERT_CHANNEL {channel} exists, bot is a member"
    )


def _channel_problem(channel: str, code: str) -> DoctorCheck:
    if code == "channel_not_found":
        hint = " (that looks like a name: use the channel ID)" if channel[:1] not in {"C", "G"} else ""
        return DoctorCheck(
            "slack channel",
            CheckStatus.ERROR,
            f"SLACK_ALERT_CHANNEL {channel} not found{hint}: no such channel, or private without the bot",
            "set SLACK_ALERT_CHANNEL to the channel ID (channel details → About, starts with C) and "
            + INVITE_FIX,
        )
    if code == "not_in_channel":
        return DoctorCheck(
            "slack channel", CheckStatus.ERROR, f"the bot is not a member of {channel}", INVITE_FIX
        )
    if code == "is_archived":
        return DoctorCheck(
            "slack channel",
            CheckStatus.ERROR,
            f"{channel} is archived",
            "unarchive it, or set SLACK_ALERT_CHANNEL to a live channel",
        )
    return DoctorCheck(
        "slack channel",
        CheckStatus.ERROR,
        f"cannot read {channel} ({code})",
        "fix the scopes above if any are missing, then " + INVITE_FIX,
    )


async def _close(client: AsyncWebClient) -> None:
    # slack_sdk opens an aiohttp session per call unless one is given: nothing is left to close, but a
    # given session would be ours to close.
    session = getattr(client, "session", None)
    if session is not None and not session.closed:
        await session.close()
