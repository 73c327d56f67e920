"""Interaction and webhook tokens are masked in discord.py's DEBUG records (`handlers.discord.logs`).

The records here are built the way discord.py 2.7 writes them (`discord/http.py`, `discord/webhook/async_.py`,
`discord/gateway.py`); the end-to-end check with the real client is in `test_discord_gateway.py`."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from handlers.discord.logs import DISCORD_LOGGERS, TOKEN_FILTER, install_token_redaction, redact_tokens

TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpzZWNyZXQ"
INTERACTION_ID = 1234567890123456789
APPLICATION_ID = 555000000000000555
BASE = "https://discord.com/api/v10"


@pytest.fixture(autouse=True)
def filters_as_they_were() -> Iterator[None]:
    """Leave the loggers as found, so the end-to-end test proves the runtime installs the filter itself."""
    installed = {name: TOKEN_FILTER in logging.getLogger(name).filters for name in DISCORD_LOGGERS}
    yield
    for name, was in installed.items():
        if not was:
            logging.getLogger(name).removeFilter(TOKEN_FILTER)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    install_token_redaction()
    caplog.set_level(logging.DEBUG, logger="discord")
    yield caplog


def test_http_debug_record_masks_the_interaction_token(debug_logs: pytest.LogCaptureFixture) -> None:
    url = f"{BASE}/interactions/{INTERACTION_ID}/{TOKEN}/callback"
    logging.getLogger("discord.http").debug("%s %s with %s has returned %s", "POST", url, None, 204)
    [record] = debug_logs.records
    assert TOKEN not in record.getMessage()
    assert f"/interactions/{INTERACTION_ID}/<redacted>/callback" in record.getMessage()
    assert TOKEN not in debug_logs.text


def test_webhook_debug_records_mask_the_follow_up_token(debug_logs: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("discord.webhook.async_")
    fmt = "Webhook ID %s with %s %s has returned status code %s"
    log.debug(fmt, APPLICATION_ID, "POST", f"{BASE}/webhooks/{APPLICATION_ID}/{TOKEN}?wait=1", 200)
    log.debug(
        fmt, APPLICATION_ID, "PATCH", f"{BASE}/webhooks/{APPLICATION_ID}/{TOKEN}/messages/@original", 200
    )
    messages = [r.getMessage() for r in debug_logs.records]
    assert messages[0].endswith(
        f"POST {BASE}/webhooks/{APPLICATION_ID}/<redacted>?wait=1 has returned status code 200"
    )
    assert f"/webhooks/{APPLICATION_ID}/<redacted>/messages/@original" in messages[1]
    assert TOKEN not in debug_logs.text


def test_gateway_event_record_masks_the_token_in_interaction_create(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    event = {"op": 0, "t": "INTERACTION_CREATE", "d": {"id": str(INTERACTION_ID), "token": TOKEN, "type": 2}}
    logging.getLogger("discord.gateway").debug("For Shard ID %s: WebSocket Event: %s", None, event)
    [record] = debug_logs.records
    assert "'token': '<redacted>'" in record.getMessage()
    assert str(INTERACTION_ID) in record.getMessage()
    assert TOKEN not in debug_logs.text


def test_other_records_are_left_alone_and_installing_twice_adds_one_filter() -> None:
    install_token_redaction()
    install_token_redaction()
    for name in DISCORD_LOGGERS:
        assert logging.getLogger(name).filters.count(TOKEN_FILTER) == 1
    plain = "POST https://discord.com/api/v10/channels/42/messages with None has returned 200"
    assert redact_tokens(plain) == plain
    record = logging.LogRecord("discord.http", logging.DEBUG, __file__, 1, "%s %s", ("GET", plain), None)
    assert TOKEN_FILTER.filter(record) is True
    assert (record.msg, record.args) == ("%s %s", ("GET", plain))
