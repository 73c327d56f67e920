"""The Slack app with the real command layer (`handlers/news.NewsService`) and the real topic catalogue:
signed requests in, mutes and subscriptions in the database, rendered answers out.

SQLite only: the command layer's own tests cover both engines, and the OAuth and delivery tests here run
the Slack side on PostgreSQL too."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from charts.figure_chart import FigureChart, FigureSeries
from config.settings import DEFAULT_TOPICS_FILE, load_settings
from handlers.news.service import NewsService
from handlers.news.views import NewsReply
from handlers.slack.blocks import ACTION_MUTE_TOPIC, ACTION_SHARE
from handlers.slack.listeners import WORKING_TEXT
from handlers.slack.runtime import SlackRuntime, build_slack_runtime
from handlers.slack.uploads import upload_chart
from storage.db import session_factory
from storage.models import ChannelRow, MuteRow
from stories.topics import load_topics
from tests.fakes.slack_api import (
    OUTAGES,
    FakeSlack,
    Outage,
    block_actions_body,
    signed_headers,
    slash_command_body,
)
from tests.test_news_fixtures import seed_newsroom

SECRET = "real-service-secret"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(message_interval=0.0)
    slack.add_channel("C1", "border-desk")
    slack.add_user("U1", "reporter")
    slack.add_user("UADMIN", "admin", is_admin=True)
    slack.add_user("UGROUP", "desk-editor")
    slack.usergroups["SEDITORS"] = ["UGROUP"]
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


@pytest.fixture
async def runtime(fake: FakeSlack, sqlite_engine: AsyncEngine) -> AsyncIterator[SlackRuntime]:
    config = load_settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_BASE_URL=fake.base_url,
        SLACK_HTTP_PORT=0,
        SLACK_ALERT_CHANNEL="C1",
        SLACK_EDITOR_IDS="SEDITORS",
    )
    sessions = session_factory(sqlite_engine)
    news = NewsService(sessions, load_topics(DEFAULT_TOPICS_FILE))
    # The production ack budget; a role lookup bound well past a retried call, short enough for tests.
    running = build_slack_runtime(config, news, sessions, http_host="127.0.0.1", role_lookup_seconds=2.5)
    await running.start_listening()
    try:
        yield running
    finally:
        await running.stop()


async def post(runtime: SlackRuntime, body: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{runtime.http_port}/slack/events",
            data=body,
            headers=signed_headers(SECRET, body),
        ) as response,
    ):
        assert response.status == 200
        text = await response.text()
    return json.loads(text) if text else {}


async def command(runtime: SlackRuntime, fake: FakeSlack, text: str, user: str = "U1") -> dict[str, Any]:
    return await post(runtime, slash_command_body(text, response_url=fake.response_url(), user_id=user))


async def test_topics_shows_the_alert_channel_subscribed_to_the_beat(
    runtime: SlackRuntime, fake: FakeSlack
) -> None:
    answer = await command(runtime, fake, "topics")
    assert answer["response_type"] == "ephemeral"
    assert "venezuela-colombia-border" in json.dumps(answer["blocks"])


async def test_reporters_are_refused_editor_commands_by_the_command_layer(
    runtime: SlackRuntime, fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    answer = await command(runtime, fake, "mute migration-refugees for 2h")
    assert answer["response_type"] == "ephemeral" and "editor" in json.dumps(answer).lower()
    async with session_factory(sqlite_engine)() as session:
        assert (await session.execute(select(MuteRow))).first() is None


async def test_admin_mutes_a_topic_with_the_alert_button(
    runtime: SlackRuntime, fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    await post(
        runtime,
        block_actions_body(
            ACTION_MUTE_TOPIC, "migration-refugees", response_url=fake.response_url(), user_id="UADMIN"
        ),
    )
    for _ in range(500):
        if fake.responses:
            break
        await asyncio.sleep(0.01)
    [answer] = fake.responses
    assert answer["response_type"] == "ephemeral" and not answer.get("replace_original")
    async with session_factory(sqlite_engine)() as session:
        rows = (
            await session.execute(
                select(ChannelRow.external_id, MuteRow.topic, MuteRow.muted_by).join(
                    MuteRow, MuteRow.channel_id == ChannelRow.id
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [("C1", "migration-refugees", "UADMIN")]


async def test_help_is_answered_inside_the_ack(runtime: SlackRuntime, fake: FakeSlack) -> None:
    answer = await command(runtime, fake, "help")
    assert answer["blocks"][0]["type"] == "header"
    assert fake.responses == []


DOCS = Path(__file__).resolve().parent.parent / "docs" / "slack.md"


async def answer_of(runtime: SlackRuntime, fake: FakeSlack, text: str, user: str) -> dict[str, Any]:
    """The answer: the ack itself, or (slow answer) what followed through response_url."""
    before = len(fake.responses)
    answer = await command(runtime, fake, text, user=user)
    if answer.get("text") != WORKING_TEXT:
        return answer
    for _ in range(1000):
        if len(fake.responses) > before:
            break
        await asyncio.sleep(0.01)
    return fake.responses[before]


async def test_docs_name_exactly_the_news_answers_posted_in_the_channel(
    runtime: SlackRuntime, fake: FakeSlack
) -> None:
    """docs/slack.md tells the newsroom which `/news` answers everyone in the channel sees."""
    lines = [
        "help",
        "topics",
        "latest",
        "venezuela since:7d",
        "figures deserters",
        "feeds",
        "digest 24h",
        "subscribe migration-refugees",
        "mute migration-refugees for 2h",
        "unmute migration-refugees",
        "unsubscribe migration-refugees",
        "language es",
    ]
    in_channel = set()
    for line in lines:
        answer = await answer_of(runtime, fake, line, user="UADMIN")
        if answer["response_type"] == "in_channel":
            assert ACTION_SHARE not in json.dumps(answer.get("blocks")), line
            in_channel.add(line.split()[0])
        else:
            assert ACTION_SHARE in json.dumps(answer.get("blocks")), line
    bullets = [" ".join(bullet.split()) for bullet in DOCS.read_text().split("\n- ")]
    documented = next(bullet for bullet in bullets if "in the channel for everyone" in bullet)
    assert set(re.findall(r"`/news (\w+)`", documented)) == in_channel


# --- Slack failing to tell a role (issue 12) ------------------------------------------------------------

ROLE_UNKNOWN = "could not check your role with Slack"
ROLE_METHODS = ("users.info", "usergroups.users.list")


async def mutes(engine: AsyncEngine) -> list[str]:
    async with session_factory(engine)() as session:
        return list((await session.execute(select(MuteRow.topic))).scalars())


async def timed_answer(runtime: SlackRuntime, fake: FakeSlack, text: str, user: str) -> dict[str, Any]:
    """The answer to `/news text`, after checking Slack got its HTTP 200 inside its 3 seconds."""
    started = time.monotonic()
    acked = await command(runtime, fake, text, user=user)  # `post` asserts the HTTP 200
    assert time.monotonic() - started < 3.0, "Slack gives up on an acknowledgement after 3 s"
    if acked.get("text") != WORKING_TEXT:
        return acked
    before = len(fake.responses)
    for _ in range(1500):  # a ceiling for a loaded machine, not a timing assertion
        if len(fake.responses) > before:
            break
        await asyncio.sleep(0.01)
    return fake.responses[before]


@pytest.mark.parametrize("outage", OUTAGES)
async def test_a_search_never_asks_slack_for_a_role_so_an_outage_cannot_touch_it(
    runtime: SlackRuntime, fake: FakeSlack, outage: Outage
) -> None:
    for method in ROLE_METHODS:
        fake.break_method(method, outage)
    for user in ("U1", "UADMIN", "UGROUP"):
        answer = await timed_answer(runtime, fake, "cucuta", user)
        assert answer["response_type"] == "ephemeral"
        assert "cucuta" in answer["text"].lower() and ROLE_UNKNOWN not in json.dumps(answer)
        assert ACTION_SHARE in json.dumps(answer["blocks"])  # an answer to a search, not an error line
    assert [call.method for call in fake.calls if call.method in ROLE_METHODS] == []


@pytest.mark.parametrize("outage", OUTAGES)
async def test_an_editor_command_during_a_users_info_outage_asks_to_try_again_and_changes_nothing(
    runtime: SlackRuntime, fake: FakeSlack, sqlite_engine: AsyncEngine, outage: Outage
) -> None:
    fake.break_method("users.info", outage)
    answer = await timed_answer(runtime, fake, "mute migration-refugees for 2h", "UADMIN")
    assert answer["response_type"] == "ephemeral" and ROLE_UNKNOWN in answer["text"]
    assert "only editors" not in json.dumps(answer).lower()
    assert await mutes(sqlite_engine) == []
    assert fake.calls_to("users.info")  # it was asked, and failed
    # Slack back: the failure was not cached, the admin is asked again and the mute applies.
    fake.mend_method("users.info")
    answer = await timed_answer(runtime, fake, "mute migration-refugees for 2h", "UADMIN")
    assert ROLE_UNKNOWN not in json.dumps(answer) and answer["response_type"] == "in_channel"
    assert await mutes(sqlite_engine) == ["migration-refugees"]
    assert fake.calls_to("users.info")[-1].ok


@pytest.mark.parametrize("outage", ["server_error", "html_body"])
async def test_a_failed_user_group_lookup_is_a_try_again_too(
    runtime: SlackRuntime, fake: FakeSlack, sqlite_engine: AsyncEngine, outage: Outage
) -> None:
    """UGROUP is an editor through SLACK_EDITOR_IDS' user group, which Slack cannot list just now."""
    fake.break_method("usergroups.users.list", outage)
    answer = await timed_answer(runtime, fake, "subscribe migration-refugees", "UGROUP")
    assert ROLE_UNKNOWN in answer["text"]
    fake.mend_method("usergroups.users.list")
    answer = await timed_answer(runtime, fake, "mute migration-refugees", "UGROUP")
    assert ROLE_UNKNOWN not in json.dumps(answer)
    assert await mutes(sqlite_engine) == ["migration-refugees"]


@pytest.mark.parametrize("outage", ["server_error", "garbled_json"])
async def test_the_mute_button_during_an_outage_asks_to_try_again(
    runtime: SlackRuntime, fake: FakeSlack, sqlite_engine: AsyncEngine, outage: Outage
) -> None:
    fake.break_method("users.info", outage)
    body = block_actions_body(
        ACTION_MUTE_TOPIC, "migration-refugees", response_url=fake.response_url(), user_id="UADMIN"
    )
    await post(runtime, body)
    for _ in range(1500):
        if fake.responses:
            break
        await asyncio.sleep(0.01)
    [answer] = fake.responses
    assert answer["response_type"] == "ephemeral" and ROLE_UNKNOWN in answer["text"]
    assert await mutes(sqlite_engine) == []


async def test_a_second_editor_command_within_the_cache_time_asks_slack_once(
    runtime: SlackRuntime, fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    await timed_answer(runtime, fake, "mute migration-refugees for 2h", "UADMIN")
    await timed_answer(runtime, fake, "unmute migration-refugees", "UADMIN")
    await timed_answer(runtime, fake, "mute humanitarian-aid", "UADMIN")
    assert len(fake.calls_to("users.info")) == 1
    assert await mutes(sqlite_engine) == ["humanitarian-aid"]  # each command ran as the admin's


async def test_reporters_refusal_says_who_may(runtime: SlackRuntime, fake: FakeSlack) -> None:
    answer = await timed_answer(runtime, fake, "mute migration-refugees for 2h", "U1")
    assert "only editors" in answer["text"] and "SLACK_EDITOR_IDS" in json.dumps(answer)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def until(condition: Any, what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_figures_answer_is_followed_by_its_chart_uploaded_to_the_channel(
    runtime: SlackRuntime, fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    story_id = await seed_newsroom(session_factory(sqlite_engine))
    answer = await answer_of(runtime, fake, "figures deserters", user="U1")
    assert "Key figures" in json.dumps(answer)
    await until(lambda: fake.shared_files("C1"), "the chart upload")
    [chart] = fake.shared_files("C1")
    assert chart.data is not None and chart.data.startswith(PNG_SIGNATURE)
    assert chart.filename == "figures.png" and chart.thread_ts is None
    assert chart.title == "Key figures: deserters"
    assert chart.initial_comment == f"members of Venezuela's armed forces (#{story_id}): 326 → 411"
    assert [call.method for call in fake.calls if call.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]


async def test_chart_title_and_comment_cannot_ping(fake: FakeSlack) -> None:
    when = datetime(2026, 11, 20, tzinfo=UTC)
    chart = FigureChart(
        "Key figures: <!channel> <@U1>",
        (FigureSeries("<!here> deserters", ((when, 326.0), (when + timedelta(days=1), 411.0))),),
    )
    reply = NewsReply(kind="figures", title="Figures", chart=chart)
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
    assert await upload_chart(client, reply, channel_id="C1", thread_ts="1700000000.000100")
    [uploaded] = fake.shared_files("C1")
    assert uploaded.title == "Key figures: &lt;!channel&gt; &lt;@U1&gt;"
    assert uploaded.initial_comment == "&lt;!here&gt; deserters: 326 → 411"
    assert uploaded.thread_ts == "1700000000.000100"


@pytest.mark.parametrize("problem", ["missing files:write", "not in channel"])
async def test_without_files_write_or_membership_the_text_answer_still_goes_out(
    runtime: SlackRuntime,
    fake: FakeSlack,
    sqlite_engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
    problem: str,
) -> None:
    await seed_newsroom(session_factory(sqlite_engine))
    if problem == "missing files:write":
        team = fake.teams["xoxb-test"]
        team.scopes = tuple(scope for scope in team.scopes if scope != "files:write")
        expected = "missing_scope"
    else:
        fake.channels["C1"].bot_is_member = False
        expected = "not_in_channel"
    answer = await answer_of(runtime, fake, "figures deserters", user="U1")
    assert "326" in json.dumps(answer) and "411" in json.dumps(answer)
    await until(lambda: any(call.error == expected for call in fake.calls), expected)
    await until(lambda: "chart not uploaded" in caplog.text, "the logged failure")
    assert fake.shared_files("C1") == []
    assert expected in caplog.text and "Traceback" not in json.dumps(answer)
