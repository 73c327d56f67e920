"""`ChatPoster` for Discord: one embed per alert over REST, no gateway needed, so any worker can post.

Idempotency: every send carries a `nonce` derived from the outbox row's idempotency key, and discord.py sets
`enforce_nonce`, so Discord returns the already-created message instead of posting a second one when a send
is retried after a crash. Discord only remembers nonces for a few minutes; a retry later than that is
caught by `find_posted`, which looks for the key's short `ref` in the footers of the bot's recent messages
(Discord does not return nonces when listing history). What remains: a crash after Discord accepted the
message, a restart more than a few minutes later, and more than `HISTORY_LOOKBACK` newer messages (from
anyone: the bot's are picked out of the channel's last ones) in that channel by then: that alert posts twice.

Errors come back as the `errors.DeliveryError` family: 429 → `RateLimited(retry_after)`; unknown channel
(10003), missing access/permissions (50001/50013), invalid body (400), bad token (401) → permanent; 5xx,
timeouts and connection errors → transient.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping

import aiohttp
import discord

from errors import DeliveryError, PermanentDeliveryError, RateLimited, TransientDeliveryError
from handlers.discord.embeds import alert_embed
from stories.model import Alert, PostedMessage

PLATFORM = "discord"
NONCE_LENGTH = 25  # Discord's maximum
REF_LENGTH = 10
HISTORY_LOOKBACK = 50
# A 429 asking for a wait up to this long is retried by discord.py itself; a longer one goes back to the
# sender as RateLimited at once, so it can serve other channels meanwhile and keeps its pacing.
MAX_INLINE_RATE_LIMIT_WAIT = 1.0
# discord.py's own ceiling for waiting on an exhausted bucket before raising (its minimum is 30 s).
MAX_BUCKET_WAIT = 30.0

log = logging.getLogger(__name__)


def nonce_for(idempotency_key: str) -> str:
    """A stable Discord nonce (≤ 25 characters) for an outbox row's idempotency key."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:NONCE_LENGTH]


def ref_for(idempotency_key: str) -> str:
    """The short reference shown in the footer, so a post can be recognised after the nonce window."""
    return nonce_for(idempotency_key)[:REF_LENGTH]


def _header_retry_after(headers: Mapping[str, str]) -> float | None:
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        try:
            return float(headers[name])
        except (KeyError, ValueError):
            continue
    return None


def rate_limit_trace(max_inline_wait: float = MAX_INLINE_RATE_LIMIT_WAIT) -> aiohttp.TraceConfig:
    """An aiohttp trace that turns a long 429 into `RateLimited` before discord.py sleeps on it.

    discord.py retries every 429 in place (up to 5 times, sleeping `retry_after` each time) and its
    `max_ratelimit_timeout` cannot go below 30 s; an exception raised here leaves the request at once.
    """

    async def on_request_end(
        _session: aiohttp.ClientSession, _context: object, params: aiohttp.TraceRequestEndParams
    ) -> None:
        if params.response.status != 429:
            return
        retry_after = _header_retry_after(params.response.headers)
        if retry_after is not None and retry_after > max_inline_wait:
            raise RateLimited(retry_after, f"Discord rate limit on {params.method} {params.url.path}")

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


def posting_client() -> discord.Client:
    """A REST-only client for posting (never connected to the gateway)."""
    # No intent is needed to post; GUILDS only keeps discord.py from warning about missing state.
    return discord.Client(
        intents=discord.Intents(guilds=True),
        http_trace=rate_limit_trace(),
        max_ratelimit_timeout=MAX_BUCKET_WAIT,
    )


def _retry_after(error: discord.HTTPException) -> float:
    response = error.response
    try:
        header = response.headers.get("Retry-After") if response is not None else None
        if header is not None:
            return float(header)
    except (TypeError, ValueError):
        pass
    return 1.0


def delivery_error(error: BaseException, channel: str) -> Exception:
    """The `errors.DeliveryError` that tells the sender whether to wait, retry or give up."""
    if isinstance(error, DeliveryError):
        return error
    if isinstance(error, discord.RateLimited):
        return RateLimited(error.retry_after, f"Discord rate limit on channel {channel}")
    if isinstance(error, discord.HTTPException):
        status, code = error.status, error.code
        what = f"Discord answered {status} (code {code}) for channel {channel}: {error.text}"
        if status == 429:
            return RateLimited(_retry_after(error), f"Discord rate limit on channel {channel}")
        if status == 404 and code == 10003:
            return PermanentDeliveryError(f"unknown Discord channel {channel}: check DISCORD_ALERT_CHANNEL")
        if status == 403:
            return PermanentDeliveryError(
                f"the bot may not post in Discord channel {channel} (needs View Channel, Send Messages, "
                f"Embed Links, Read Message History): {error.text}"
            )
        if status == 401:
            return PermanentDeliveryError("Discord refused the bot token: check DISCORD_TOKEN")
        if status >= 500:
            return TransientDeliveryError(what)
        return PermanentDeliveryError(what)
    if isinstance(error, discord.LoginFailure):
        return PermanentDeliveryError("Discord refused the bot token: check DISCORD_TOKEN")
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return TransientDeliveryError(f"could not reach Discord for channel {channel}: {error!r}")
    return TransientDeliveryError(f"unexpected error posting to Discord channel {channel}: {error!r}")


class DiscordPoster:
    """Posts alerts with a logged-in `discord.Client` (REST only; `start_posting` logs it in)."""

    platform = PLATFORM

    def __init__(self, client: discord.Client, topic_colours: Mapping[str, int]) -> None:
        self.client = client
        self.topic_colours = dict(topic_colours)

    async def post(
        self,
        channel: str,
        alert: Alert,
        *,
        thread: PostedMessage | None,
        idempotency_key: str,
    ) -> PostedMessage:
        target = self.client.get_partial_messageable(int(channel))
        embed = alert_embed(alert, self.topic_colours, ref=ref_for(idempotency_key))
        reference = None
        if thread is not None:
            # A reply, not a thread channel: it works in every channel type and needs no extra permission.
            # fail_if_not_exists=False: if someone deleted the first alert, the update still posts.
            reference = discord.MessageReference(
                message_id=int(thread.message_id), channel_id=int(channel), fail_if_not_exists=False
            )
        try:
            message = await target.send(
                embed=embed,
                nonce=nonce_for(idempotency_key),
                allowed_mentions=discord.AllowedMentions.none(),
                reference=reference,  # type: ignore[arg-type]
            )
        except DeliveryError:
            raise
        except Exception as error:
            raise delivery_error(error, channel) from error
        return PostedMessage(
            platform=PLATFORM,
            channel=channel,
            message_id=str(message.id),
            thread_id=thread.message_id if thread is not None else None,
        )

    async def edit(self, message: PostedMessage, alert: Alert) -> None:
        """Edit the first alert's embed to the story as it stands (PATCH channels/{id}/messages/{id}), with
        no mentions allowed. Unknown message (10008) or channel (10003) and 403 are permanent: dropped."""
        target = self.client.get_partial_messageable(int(message.channel))
        embed = alert_embed(alert, self.topic_colours, ref=None)
        try:
            await target.get_partial_message(int(message.message_id)).edit(
                embed=embed, allowed_mentions=discord.AllowedMentions.none()
            )
        except DeliveryError:
            raise
        except Exception as error:
            raise delivery_error(error, message.channel) from error

    async def find_posted(
        self, channel: str, idempotency_key: str, *, thread: PostedMessage | None = None
    ) -> PostedMessage | None:
        """The message this bot already posted for `idempotency_key`, among the channel's recent ones.

        Updates are replies in the same channel here, so `thread` (the port's hint) is not needed.
        """
        target = self.client.get_partial_messageable(int(channel))
        marker, nonce = f"ref {ref_for(idempotency_key)}", nonce_for(idempotency_key)
        me = self.client.user
        try:
            async for message in target.history(limit=HISTORY_LOOKBACK):
                if me is not None and message.author.id != me.id:
                    continue
                footers = [embed.footer.text or "" for embed in message.embeds]
                if message.nonce == nonce or any(text.endswith(marker) for text in footers):
                    reference = message.reference
                    return PostedMessage(
                        platform=PLATFORM,
                        channel=channel,
                        message_id=str(message.id),
                        thread_id=str(reference.message_id) if reference and reference.message_id else None,
                    )
        except DeliveryError:
            raise
        except discord.Forbidden:
            # Without Read Message History the bot cannot look; the nonce still covers a quick retry.
            log.warning("cannot read Discord channel %s history to reconcile a retried alert", channel)
            return None
        except Exception as error:
            raise delivery_error(error, channel) from error
        return None
