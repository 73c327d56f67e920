"""`ChatPoster` for Slack: posts rendered alerts, threads updates, reconciles after a crash.

Slack errors are mapped onto the delivery error tree so the sender can decide: a 429 becomes
`RateLimited(retry_after)` at once (the sender keeps per-channel order and waits), 5xx/timeouts become
`TransientDeliveryError`, and anything Slack will never accept (unknown channel, not a member, revoked
token, invalid payload) becomes `PermanentDeliveryError` for the dead-letter state.

Each message carries its outbox idempotency key in Slack message metadata, so after a crash between
"posted" and "marked sent", or a 5xx/timeout that came after Slack stored the message (the clients never
re-send a post themselves, see `clients`), `find_posted` finds it instead of posting twice: in the
update's thread when the sender passes it, then in `conversations.history` and the newest alert threads.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from rapidfuzz import fuzz
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from errors import DeliveryError, PermanentDeliveryError, RateLimited, TransientDeliveryError
from handlers.slack.blocks import render_alert
from handlers.slack.clients import ClientSource
from stories.model import Alert, AlertKind, PostedMessage

log = logging.getLogger(__name__)

EVENT_TYPE = "wirewatch_alert"
METADATA_TITLE_CHARS = 300
# Below this similarity (0-100) a new headline is a different headline, worth editing the first alert for.
HEADLINE_SIMILARITY_THRESHOLD = 80
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"}
)
RATE_LIMIT_ERRORS = frozenset({"ratelimited", "rate_limited", "message_limit_exceeded"})
DEFAULT_RETRY_AFTER = 1.0


def delivery_error(error: Exception) -> DeliveryError:
    """The delivery-error reading of a failed Slack call."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        code = str(error.response.get("error") or "unknown_error")
        if status == 429 or code in RATE_LIMIT_ERRORS:
            return RateLimited(_retry_after(error.response.headers), f"Slack rate limit ({code})")
        if status >= 500 or code in TRANSIENT_ERRORS:
            return TransientDeliveryError(f"Slack is failing ({status} {code}); will retry")
        return PermanentDeliveryError(f"Slack refused the message: {code}")
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | ConnectionError):
        return TransientDeliveryError(f"Slack could not be reached: {type(error).__name__}")
    return TransientDeliveryError(f"unexpected Slack client failure: {type(error).__name__}")


def _retry_after(headers: Any) -> float:
    values = {str(k).lower(): v for k, v in dict(headers or {}).items()}
    raw = values.get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return max(float(raw), 0.0) if raw is not None else DEFAULT_RETRY_AFTER
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


def _error_code(error: SlackApiError) -> str:
    return str(error.response.get("error") or "")


def alert_metadata(alert: Alert, idempotency_key: str) -> dict[str, Any]:
    story = alert.story
    return {
        "event_type": EVENT_TYPE,
        "event_payload": {
            "idempotency_key": idempotency_key,
            "kind": str(alert.kind),
            "story_id": story.story_id if story is not None else 0,
            "title": story.title[:METADATA_TITLE_CHARS] if story is not None else "",
        },
    }


def _key_of(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return None
    return (metadata.get("event_payload") or {}).get("idempotency_key")


def headline_changed(old: str, new: str) -> bool:
    """True when the headline is materially different, not just re-punctuated or re-cased."""
    if not old or not new:
        return False
    return fuzz.token_sort_ratio(old.casefold(), new.casefold()) < HEADLINE_SIMILARITY_THRESHOLD


class SlackPoster:
    """Posts alerts to Slack channels; see the module docstring for the error contract."""

    platform = "slack"

    def __init__(
        self,
        clients: ClientSource,
        *,
        reconcile_window: timedelta = timedelta(days=2),
        reconcile_pages: int = 5,
        reconcile_threads: int = 30,
        history_page_size: int = 200,
    ) -> None:
        self._clients = clients
        self._reconcile_window = reconcile_window
        self._reconcile_pages = reconcile_pages
        self._reconcile_threads = reconcile_threads
        self._history_page_size = history_page_size

    async def _call(self, client: AsyncWebClient, method: str, **kwargs: Any) -> Any:
        # The SDK's typed methods, so parameters are encoded exactly as the SDK would for each method.
        call = getattr(client, method.replace(".", "_"))
        try:
            return await call(**kwargs)
        except (TimeoutError, SlackApiError, aiohttp.ClientError, ConnectionError) as error:
            raise delivery_error(error) from error

    async def _client(self, channel: str) -> AsyncWebClient:
        return await self._clients.for_channel(channel)

    async def post(
        self, channel: str, alert: Alert, *, thread: PostedMessage | None, idempotency_key: str
    ) -> PostedMessage:
        client = await self._client(channel)
        message = render_alert(alert)
        in_thread = thread is not None and alert.kind is AlertKind.UPDATE
        request: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "blocks": message.blocks,
            "metadata": alert_metadata(alert, idempotency_key),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if in_thread:
            assert thread is not None
            request["thread_ts"] = thread.message_id
        try:
            response = await self._post_with_fallback(client, request)
        except PermanentDeliveryError as error:
            if in_thread and "thread_not_found" in str(error):
                # The first alert was deleted by someone in the channel: post the update on its own.
                request.pop("thread_ts")
                response = await self._post_with_fallback(client, request)
                in_thread = False
            else:
                raise
        posted = PostedMessage(
            platform=self.platform,
            channel=channel,
            message_id=str(response["ts"]),
            thread_id=thread.message_id if in_thread and thread is not None else None,
        )
        if in_thread and thread is not None and alert.story is not None:
            await self._refresh_original(client, channel, thread.message_id, alert)
        return posted

    async def _post_with_fallback(self, client: AsyncWebClient, request: dict[str, Any]) -> Any:
        try:
            return await self._call(client, "chat.postMessage", **request)
        except PermanentDeliveryError as error:
            if not isinstance(error.__cause__, SlackApiError) or _error_code(error.__cause__) not in {
                "invalid_blocks",
                "msg_blocks_too_long",
            }:
                raise
            # Slack has limits it does not document (e.g. total block size): the plain text still informs.
            log.warning(
                "slack rejected the alert blocks (%s); posting text only", _error_code(error.__cause__)
            )
            text_only = {k: v for k, v in request.items() if k != "blocks"}
            return await self._call(client, "chat.postMessage", **text_only)

    async def _refresh_original(self, client: AsyncWebClient, channel: str, ts: str, alert: Alert) -> None:
        """Best effort: edit the first alert when the story's headline changed materially."""
        story = alert.story
        assert story is not None
        try:
            history = await self._call(
                client,
                "conversations.history",
                channel=channel,
                latest=ts,
                oldest=ts,
                inclusive=True,
                limit=1,
                include_all_metadata=True,
            )
            messages = history.get("messages") or []
            if not messages:
                return
            payload = dict((messages[0].get("metadata") or {}).get("event_payload") or {})
            if not headline_changed(str(payload.get("title") or ""), story.title):
                return
            payload["title"] = story.title[:METADATA_TITLE_CHARS]
            edited = render_alert(Alert(kind=AlertKind.NEW, story=story, sources=alert.sources), edited=True)
            await self._call(
                client,
                "chat.update",
                channel=channel,
                ts=ts,
                text=edited.text,
                blocks=edited.blocks,
                metadata={"event_type": EVENT_TYPE, "event_payload": payload},
            )
        except DeliveryError as error:
            # The update itself is posted; a failed edit of the original must not make the sender re-post it.
            log.warning("could not edit the original Slack alert %s in %s: %s", ts, channel, error)

    async def edit(self, message: PostedMessage, alert: Alert) -> None:
        """`chat.update` of the first alert to the story as it stands (sources, languages, the channel's
        language). Escaped like every alert and sent without `link_names`, so it cannot ping. Its metadata
        is left as it is: it still carries the first alert's idempotency key, which reconciliation reads.
        Gone messages and channels (`message_not_found`, `channel_not_found`, `not_in_channel`,
        `cant_update_message`) are permanent, like every refusal."""
        client = await self._client(message.channel)
        rendered = render_alert(alert)
        await self._call(
            client,
            "chat.update",
            channel=message.channel,
            ts=message.message_id,
            text=rendered.text,
            blocks=rendered.blocks,
        )

    async def find_posted(
        self, channel: str, idempotency_key: str, *, thread: PostedMessage | None = None
    ) -> PostedMessage | None:
        """The message posted with `idempotency_key`: in `thread` first (an update), then the channel.

        Without `thread`, replies are searched only in the newest `reconcile_threads` alert threads.
        """
        client = await self._client(channel)
        if thread is not None:
            found = await self._find_in_thread(client, channel, thread.message_id, idempotency_key)
            if found is not None:
                return found
        oldest = (datetime.now(UTC) - self._reconcile_window).timestamp()
        threads: list[str] = []
        cursor: str | None = None
        for _ in range(self._reconcile_pages):
            params: dict[str, Any] = {
                "channel": channel,
                "oldest": f"{oldest:.6f}",
                "limit": self._history_page_size,
                "include_all_metadata": True,
            }
            if cursor:
                params["cursor"] = cursor
            page = await self._call(client, "conversations.history", **params)
            for message in page.get("messages") or []:
                if _key_of(message) == idempotency_key:
                    return PostedMessage(self.platform, channel, str(message["ts"]))
                if message.get("reply_count") and _key_of(message) is not None:
                    threads.append(str(message["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                break
        # Updates are thread replies, which conversations.history does not list: look in our alerts' threads.
        searched = {thread.message_id} if thread is not None else set()
        for thread_ts in [ts for ts in threads if ts not in searched][: self._reconcile_threads]:
            found = await self._find_in_thread(client, channel, thread_ts, idempotency_key)
            if found is not None:
                return found
        return None

    async def _find_in_thread(
        self, client: AsyncWebClient, channel: str, thread_ts: str, idempotency_key: str
    ) -> PostedMessage | None:
        try:
            replies = await self._call(
                client, "conversations.replies", channel=channel, ts=thread_ts, include_all_metadata=True
            )
        except PermanentDeliveryError as error:
            if "thread_not_found" in str(error):
                return None  # the first alert was deleted: the update, if posted, went out on its own
            raise
        for message in (replies.get("messages") or [])[1:]:
            if _key_of(message) == idempotency_key:
                return PostedMessage(self.platform, channel, str(message["ts"]), thread_id=thread_ts)
        return None
