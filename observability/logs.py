"""Structured logging: structlog over the standard library, JSON when not on a terminal, secrets scrubbed.

Every library that logs through `logging` (aiohttp, APScheduler, slack_bolt, discord.py) goes through the
same renderer, so one process writes one format. Secrets never reach the output: values under secret-looking
keys are replaced, and token or password shapes inside any message are masked.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "<redacted>"
_SECRET_KEY = re.compile(r"token|secret|password|passwd|authorization|api_key|cookie", re.IGNORECASE)
_SECRET_VALUES = (
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+"), REDACTED),  # Slack bot/user tokens
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), REDACTED),  # Slack app-level tokens
    (re.compile(r"(?i)\b(Bot|Bearer)\s+[A-Za-z0-9._~+/=-]{16,}"), r"\1 " + REDACTED),
    (re.compile(r"\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}"), REDACTED),  # Discord
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+@"), r"\1" + REDACTED + "@"),  # passwords in database URLs
)


def scrub_text(text: str) -> str:
    for pattern, replacement in _SECRET_VALUES:
        text = pattern.sub(replacement, text)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v) for v in value)
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the last line of defence, whatever a caller passed in."""
    for key in list(event_dict):
        value = event_dict[key]
        if _SECRET_KEY.search(key) and value is not None:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(value)
    return event_dict


def wants_json(log_format: str, stream: TextIO) -> bool:
    fmt = log_format.lower()
    if fmt == "json":
        return True
    if fmt == "console":
        return False
    return not (hasattr(stream, "isatty") and stream.isatty())


def configure_logging(level: str = "INFO", log_format: str = "auto", stream: TextIO | None = None) -> None:
    """Set up structlog and the standard library's root logger (idempotent: safe to call twice)."""
    out = stream or sys.stderr
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any
    if wants_json(log_format, out):
        renderer = structlog.processors.JSONRenderer()
    else:
        # The console renderer would otherwise format `exc_info` itself, after `redact_secrets` ran (and, with
        # Rich, print every frame's local variables and wrap long lines, splitting tokens): so it gets the
        # traceback as the already scrubbed plain text of `exception`, like the JSON renderer.
        renderer = structlog.dev.ConsoleRenderer(colors=hasattr(out, "isatty") and out.isatty())
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # In every format exceptions become text here, before `redact_secrets`: tracebacks are scrubbed.
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_wirewatch", False):
            root.removeHandler(old)
    handler._wirewatch = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Chatty libraries: their INFO lines are noise next to ours. APScheduler warns "skipped: maximum number
    # of running instances reached" whenever a poll tick outlasts the tick interval, which is by design here.
    # Alembic, imported only to migrate, announces each of its plugins at INFO.
    for name in ("apscheduler.executors", "aiohttp.access", "alembic.runtime.plugins"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("apscheduler.scheduler").setLevel(max(logging.ERROR, root.level))
