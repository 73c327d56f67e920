"""Keeps interaction and webhook tokens out of discord.py's log records.

With LOG_LEVEL=DEBUG discord.py logs every request URL, and the URLs of interaction answers carry the
interaction's token: `/interactions/{id}/{token}/callback` and `/webhooks/{application_id}/{token}` (its
follow-ups and edits). Its gateway logs each event received, and INTERACTION_CREATE carries the same
token as `'token': '…'`. Anyone holding one can answer as the bot in that channel for 15 minutes.

`install_token_redaction()` puts a `logging.Filter` on the loggers that write them. A filter on a logger
only sees records created on that very logger (not its children's), so each module logger is named.
The record's message is rendered, masked and stored back, before any handler formats it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "<redacted>"
# The loggers of the discord.py modules that log request URLs or gateway payloads.
DISCORD_LOGGERS = ("discord.http", "discord.webhook.async_", "discord.webhook.sync", "discord.gateway")
_URL_TOKEN = re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/?#\s'\"<>]+")
_PAYLOAD_TOKEN = re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+""")


def redact_tokens(text: str) -> str:
    """`text` with the token segment of interaction/webhook URLs and `'token': …` values masked."""
    text = _URL_TOKEN.sub(r"\1" + REDACTED, text)
    return _PAYLOAD_TOKEN.sub(r"\1" + REDACTED, text)


class TokenRedactingFilter(logging.Filter):
    """Masks interaction and webhook tokens in a record's message; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's problem to report, not ours
            return True
        masked = redact_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


TOKEN_FILTER = TokenRedactingFilter()


def install_token_redaction(names: tuple[str, ...] = DISCORD_LOGGERS) -> None:
    """Add the filter to each logger once (idempotent: every runtime calls it)."""
    for name in names:
        logger = logging.getLogger(name)
        if TOKEN_FILTER not in logger.filters:
            logger.addFilter(TOKEN_FILTER)
