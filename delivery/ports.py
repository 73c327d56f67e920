"""What delivery needs from a chat platform. Slack, Discord and the console each implement `ChatPoster`.

Posters raise the `errors.DeliveryError` family so the sender can tell "wait and retry" from "give up".
"""

from __future__ import annotations

from typing import Protocol

from stories.model import Alert, PostedMessage


class ChatPoster(Protocol):
    platform: str  # matches ChannelRow.platform

    async def post(
        self,
        channel: str,
        alert: Alert,
        *,
        thread: PostedMessage | None,
        idempotency_key: str,
    ) -> PostedMessage:
        """Post one alert; `thread` is the first alert of the story for updates.

        `idempotency_key` is stable per outbox row: posters pass it where the platform can dedupe
        (Discord nonce + enforce_nonce, Slack message metadata) and use it to reconcile after a crash.
        """
        ...

    async def edit(self, message: PostedMessage, alert: Alert) -> None:
        """Re-render the story's first alert (`message`) in place from `alert` (an `AlertKind.EDIT`).

        Never posts a new message and never pings. A message or channel that is gone, or a bot that may no
        longer edit there, raises `PermanentDeliveryError`: the sender drops the edit.
        """
        ...

    async def find_posted(
        self, channel: str, idempotency_key: str, *, thread: PostedMessage | None = None
    ) -> PostedMessage | None:
        """After a crash in 'sending': the message already posted with this key, if the platform can tell.

        `thread` is the first alert of the story when the row is an update that goes in its thread (the
        same `thread` `post` gets): a poster that files updates as thread replies looks there first. The
        sender passes it only when there is one, so a poster written without the keyword still serves
        new alerts.
        """
        ...
