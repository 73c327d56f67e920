"""Wirewatch's error tree: each branch carries a message fit to show a human.

WirewatchError
├── ConfigurationError   bad settings: one line naming the variable (`config.settings` raises it)
├── FeedError            a feed could not be fetched or parsed; `kind` classifies it for feed health
├── DeliveryError        a chat platform refused or failed a message
│   ├── RateLimited          429: wait `retry_after` seconds, then retry
│   ├── TransientDeliveryError  timeout / 5xx / connection: retry with backoff
│   └── PermanentDeliveryError  unknown channel, no permission, invalid payload: dead-letter
└── CommandError         a `/news` line that cannot be answered: `reply` says how to fix it

`describe(error)` is how any exception reads in a log line or a dead letter: `TypeName: message`.
"""

from __future__ import annotations


class WirewatchError(Exception):
    """Base of every error Wirewatch raises on purpose."""


class ConfigurationError(WirewatchError):
    """Bad configuration: the message names the variable and is shown to the operator as one line."""


class FeedError(WirewatchError):
    def __init__(self, kind: str, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.kind = kind  # "timeout", "http_404", "too_large", "not_a_feed", "dns", "tls", "gone"...
        self.reason = reason  # plain words for `/news feeds`
        self.retry_after = retry_after


class DeliveryError(WirewatchError):
    pass


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(f"{message} (retry after {retry_after:.1f}s)")
        self.retry_after = retry_after


class TransientDeliveryError(DeliveryError):
    pass


class PermanentDeliveryError(DeliveryError):
    pass


class CommandError(WirewatchError):
    def __init__(self, reply: str, *, example: str | None = None) -> None:
        super().__init__(reply)
        self.reply = reply
        self.example = example


def describe(error: BaseException) -> str:
    """`TypeName: message`, or the type's name alone when the error has no message."""
    text = str(error).strip()
    name = type(error).__name__
    return f"{name}: {text}" if text else name
