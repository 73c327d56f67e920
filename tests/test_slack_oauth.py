"""Multi-workspace install: the OAuth flow over loopback HTTP, installations stored in Wirewatch's database,
then commands and alerts in the installed workspace using that workspace's own bot token."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import load_settings
from errors import PermanentDeliveryError
from handlers.news.views import NewsReply
from handlers.slack.runtime import build_slack_runtime
from storage import channels_repo
from storage.db import session_factory
from stories.model import Alert, AlertKind, StoryCluster
from tests.fakes.slack_api import FakeSlack, signed_headers, slash_command_body
from values.chat import Caller, ChannelRef, EditorStatus

SECRET = "oauth-signing-secret"
# slack_sdk itself still uses aiohttp.BasicAuth for oauth.v2.access; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


class RecordingNews:
    catalog = None

    def __init__(self) -> None:
        self.calls: list[tuple[str, Caller, ChannelRef]] = []

    async def handle(self, text: str, caller: Caller, channel: ChannelRef) -> NewsReply:
        self.calls.append((text, caller, channel))
        return NewsReply(kind="help", title="Wirewatch help")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(message_interval=0.0, teams={})
    slack.oauth_codes["code-from-slack"] = "T42"
    slack.add_channel("C42", "desk", team_id="T42")
    slack.add_user("U42", "reporter", team_id="T42", is_admin=True)
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


def story() -> StoryCluster:
    now = datetime.now(UTC)
    return StoryCluster(
        story_id=1,
        title="Border crossing reopens",
        link=None,
        source="Wire",
        summary="",
        language="en",
        topics=("venezuela-colombia-border",),
        matched=(),
        figures=(),
        first_seen=now,
        published=now,
    )


async def test_install_then_command_and_alert_use_the_workspace_token(
    fake: FakeSlack, engine: AsyncEngine
) -> None:
    config = load_settings(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_CLIENT_ID=fake.oauth_client_id,
        SLACK_CLIENT_SECRET=fake.oauth_client_secret,
        SLACK_API_BASE_URL=fake.base_url,
        SLACK_HTTP_PORT=0,
    )
    news = RecordingNews()
    sessions = session_factory(engine)
    runtime = build_slack_runtime(config, news, sessions, http_host="127.0.0.1")
    await runtime.start_listening()
    root = f"http://127.0.0.1:{runtime.http_port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{root}/slack/install", allow_redirects=False) as response:
                page = await response.text()
                cookie = response.headers.get("Set-Cookie", "")
            link = unescape(
                re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page).group(1)
            )  # type: ignore[union-attr]
            query = parse_qs(urlsplit(link).query)
            assert query["client_id"] == [fake.oauth_client_id]
            assert "chat:write" in query["scope"][0].split(",")
            state = query["state"][0]
            # A browser would send the state cookie back; aiohttp will not resend a Secure cookie over http.
            state_cookie = cookie.split(";")[0]
            async with http.get(
                f"{root}/slack/oauth_redirect",
                params={"code": "code-from-slack", "state": state},
                headers={"Cookie": state_cookie},
            ) as response:
                assert response.status == 200, await response.text()

            [exchange] = fake.calls_to("oauth.v2.access")
            assert exchange.ok and exchange.basic_auth == (fake.oauth_client_id, fake.oauth_client_secret)

            body = slash_command_body(
                "help", response_url=fake.response_url(), user_id="U42", channel_id="C42", team_id="T42"
            )
            async with http.post(
                f"{root}/slack/events", data=body, headers=signed_headers(SECRET, body)
            ) as response:
                assert response.status == 200 and "Wirewatch help" in await response.text()
        [(_, caller, channel)] = news.calls
        assert channel == ChannelRef("slack", "C42", "T42")
        assert fake.calls_to("users.info") == []  # `help` needs no role; asked, it uses the install's token
        assert await caller.editor_status() is EditorStatus.YES
        assert fake.calls_to("users.info")[-1].token == "xoxb-team-T42"

        async with sessions() as session, session.begin():
            await channels_repo.ensure_channel(session, channel, datetime.now(UTC))
        posted = await runtime.poster.post(
            "C42", Alert(kind=AlertKind.NEW, story=story()), thread=None, idempotency_key="k"
        )
        assert fake.top_level("C42")[0]["ts"] == posted.message_id
        assert fake.calls_to("chat.postMessage")[-1].token == "xoxb-team-T42"

        with pytest.raises(PermanentDeliveryError, match="no known workspace"):
            await runtime.poster.post(
                "CUNSEEN", Alert(kind=AlertKind.NEW, story=story()), thread=None, idempotency_key="x"
            )
    finally:
        await runtime.stop()

    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= set(tables)


async def test_redirect_without_the_state_cookie_installs_nothing(
    fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    config = load_settings(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_CLIENT_ID=fake.oauth_client_id,
        SLACK_CLIENT_SECRET=fake.oauth_client_secret,
        SLACK_API_BASE_URL=fake.base_url,
        SLACK_HTTP_PORT=0,
    )
    runtime = build_slack_runtime(
        config, RecordingNews(), session_factory(sqlite_engine), http_host="127.0.0.1"
    )
    await runtime.start_listening()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{runtime.http_port}/slack/oauth_redirect"
            async with http.get(url, params={"code": "code-from-slack", "state": "forged"}) as response:
                assert response.status >= 400
        assert fake.calls_to("oauth.v2.access") == []
    finally:
        await runtime.stop()


async def test_an_app_token_is_ignored_with_oauth_and_says_so(
    fake: FakeSlack, sqlite_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """As .env.example and docs/slack.md say: SLACK_APP_TOKEN does nothing in OAuth mode (logged)."""
    caplog.set_level(logging.WARNING, logger="handlers.slack.runtime")
    config = load_settings(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_CLIENT_ID=fake.oauth_client_id,
        SLACK_CLIENT_SECRET=fake.oauth_client_secret,
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_BASE_URL=fake.base_url,
        SLACK_HTTP_PORT=0,
    )
    runtime = build_slack_runtime(
        config, RecordingNews(), session_factory(sqlite_engine), http_host="127.0.0.1"
    )
    await runtime.start_listening()
    try:
        assert runtime.http_port and not fake.calls_to("apps.connections.open")
        assert "SLACK_APP_TOKEN is ignored with OAuth installs" in caplog.text
    finally:
        await runtime.stop()
