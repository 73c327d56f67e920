"""Socket Mode: the same `/news` listener reached over the fake's WebSocket instead of HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import ConfigurationError, Settings, load_settings
from handlers.news.views import NewsReply
from handlers.slack.runtime import build_slack_runtime
from storage.db import session_factory
from tests.fakes.slack_api import FakeSlack
from values.chat import Caller, ChannelRef


class EchoNews:
    catalog = None

    async def handle(self, text: str, caller: Caller, channel: ChannelRef) -> NewsReply:
        return NewsReply(kind="search", title=f"Answer to {text} for {caller.user_id}")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(message_interval=0.0)
    slack.add_channel("C1")
    slack.add_user("U1")
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


def socket_settings(fake: FakeSlack, app_token: str) -> Settings:
    return load_settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="unused-in-socket-mode",
        SLACK_APP_TOKEN=app_token,
        SLACK_API_BASE_URL=fake.base_url,
    )


async def test_news_over_socket_mode_is_acked_with_the_answer(
    fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    runtime = build_slack_runtime(
        socket_settings(fake, "xapp-test"), EchoNews(), session_factory(sqlite_engine)
    )
    await runtime.start_listening()
    try:
        assert runtime.http_port is None  # no HTTP endpoint in Socket Mode
        command = {
            "command": "/news",
            "text": "latest",
            "user_id": "U1",
            "user_name": "u1",
            "channel_id": "C1",
            "team_id": "T1",
            "response_url": fake.response_url(),
            "trigger_id": "1.2.3",
            "api_app_id": "A0WIREWATCH",
        }
        ack = await fake.socket_send("slash_commands", command)
    finally:
        await runtime.stop()
    assert ack["payload"]["response_type"] == "ephemeral"
    assert ack["payload"]["text"] == "Answer to latest for U1"
    assert fake.calls_to("apps.connections.open")[0].token == "xapp-test"


async def test_a_refused_app_token_stops_start_up(fake: FakeSlack, sqlite_engine: AsyncEngine) -> None:
    runtime = build_slack_runtime(
        socket_settings(fake, "xapp-revoked"), EchoNews(), session_factory(sqlite_engine)
    )
    with pytest.raises(ConfigurationError, match="SLACK_APP_TOKEN: Slack refused it"):
        await runtime.start_listening()
    await runtime.stop()
