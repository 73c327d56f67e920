"""The running Slack app over loopback HTTP, with requests signed and encoded exactly as Slack sends them.

The command layer is a stand-in with `NewsService.handle`'s signature: these tests are about the adapter
(verification, ack, rendering, editors), not about what `/news` answers.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import ConfigurationError, load_settings
from errors import CommandError
from handlers.news.views import NewsReply, StoryLine
from handlers.slack.blocks import ACTION_MUTE_TOPIC, ACTION_RELATED, ACTION_SHARE
from handlers.slack.editors import EditorList, EditorPolicy
from handlers.slack.listeners import DEFAULT_ACK_BUDGET, WORKING_TEXT, SlackListeners
from handlers.slack.runtime import SlackRuntime, build_slack_runtime
from storage.db import session_factory
from storage.models import ChannelRow, SubscriptionRow
from tests.fakes.slack_api import FakeSlack, block_actions_body, signed_headers, slash_command_body
from values.chat import Caller, ChannelRef, EditorStatus

SECRET = "signing-secret-for-tests"
BEAT = "venezuela-colombia-border"


@dataclass
class StandInNews:
    """Records what the adapter passes; answers with whatever `answer` builds."""

    answer: Callable[[str], NewsReply] = field(
        default=lambda text: NewsReply(
            kind="search",
            title=f"Stories matching {text}",
            stories=(StoryLine(1, "Bridge reopens <!channel>", "https://news.example/1", "Wire", None),),
        )
    )
    gate: asyncio.Event | None = None
    calls: list[tuple[str, Caller, ChannelRef]] = field(default_factory=list)
    catalog: Any = field(default_factory=lambda: SimpleNamespace(beat=SimpleNamespace(name=BEAT)))

    async def handle(self, text: str, caller: Caller, channel: ChannelRef) -> NewsReply:
        self.calls.append((text, caller, channel))
        if self.gate is not None:
            await self.gate.wait()
        return self.answer(text)


@dataclass
class Harness:
    fake: FakeSlack
    news: StandInNews
    runtime: SlackRuntime
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.runtime.http_port}/slack/events"

    async def send(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        headers = signed_headers(SECRET, body) if headers is None else headers
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def command(self, text: str, user: str = "U1", **kwargs: Any) -> tuple[int, str]:
        return await self.send(
            slash_command_body(text, response_url=self.fake.response_url(), user_id=user, **kwargs)
        )

    async def click(self, action_id: str, value: str, user: str = "U1") -> tuple[int, str]:
        return await self.send(
            block_actions_body(action_id, value, response_url=self.fake.response_url("click"), user_id=user)
        )

    async def responses(self, count: int) -> list[dict[str, Any]]:
        """Wait (bounded) until `count` response_url posts arrived; they come after the ack by design."""
        for _ in range(500):
            if len(self.fake.responses) >= count:
                break
            await asyncio.sleep(0.01)
        return self.fake.responses


def settings(fake: FakeSlack, **extra: Any) -> Any:
    return load_settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_BASE_URL=fake.base_url.rstrip("/"),  # the runtime adds the trailing slash
        SLACK_HTTP_PORT=0,
        **extra,
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(message_interval=0.0)
    slack.add_channel("C1", "border-desk")
    slack.add_user("U1", "reporter")
    slack.add_user("UADMIN", "admin", is_admin=True)
    slack.add_user("UOWNER", "owner", is_owner=True)
    slack.add_user("UGROUP", "desk-editor")
    slack.usergroups["SEDITORS"] = ["UGROUP"]
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


@asynccontextmanager
async def running_app(
    fake: FakeSlack, engine: AsyncEngine, ack_budget: float | None
) -> AsyncIterator[Harness]:
    """The app as `bot.py run` builds it; `ack_budget=None` keeps the production default."""
    news = StandInNews()
    config = settings(fake, SLACK_EDITOR_IDS="UNAMED, SEDITORS", SLACK_ALERT_CHANNEL="C1")
    options: dict[str, Any] = {"http_host": "127.0.0.1"}
    if ack_budget is not None:
        options["ack_budget"] = ack_budget
    runtime = build_slack_runtime(config, news, session_factory(engine), **options)
    await runtime.start_listening()
    async with aiohttp.ClientSession() as http:
        try:
            yield Harness(fake, news, runtime, http)
        finally:
            await runtime.stop()
    # Every answer sent through response_url passed Slack's message checks (Block Kit limits).
    assert fake.rejected_responses == []


@pytest.fixture
async def harness(fake: FakeSlack, sqlite_engine: AsyncEngine) -> AsyncIterator[Harness]:
    async with running_app(fake, sqlite_engine, ack_budget=2.0) as running:
        yield running


# --- request verification ------------------------------------------------------------------------------


async def test_wrong_signature_is_refused_and_does_nothing(harness: Harness) -> None:
    body = slash_command_body("venezuela", response_url=harness.fake.response_url())
    status, _ = await harness.send(body, signed_headers("not-the-secret", body))
    assert status == 401
    status, _ = await harness.send(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    assert harness.news.calls == [] and not harness.fake.calls_to("users.info")


async def test_stale_timestamp_is_refused(harness: Harness) -> None:
    body = slash_command_body("venezuela", response_url=harness.fake.response_url())
    status, _ = await harness.send(body, signed_headers(SECRET, body, timestamp=int(time.time()) - 6 * 60))
    assert status == 401 and harness.news.calls == []


async def test_tampered_body_is_refused(harness: Harness) -> None:
    body = slash_command_body("venezuela", response_url=harness.fake.response_url())
    headers = signed_headers(SECRET, body)
    status, _ = await harness.send(body.replace("venezuela", "mute+everything"), headers)
    assert status == 401 and harness.news.calls == []


# --- /news ---------------------------------------------------------------------------------------------


async def test_quick_answer_is_the_ack_itself_ephemeral_with_share_button(harness: Harness) -> None:
    status, text = await harness.command("venezuela since:7d")
    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    assert "Stories matching venezuela since:7d" in answer["text"]
    assert "&lt;!channel&gt;" in json.dumps(answer["blocks"])
    share = answer["blocks"][-1]["elements"][0]
    assert share["action_id"] == ACTION_SHARE and share["value"] == "venezuela since:7d"
    [(typed, caller, channel)] = harness.news.calls
    assert typed == "venezuela since:7d"
    assert (caller.user_id, caller.display_name) == ("U1", "user-u1")
    assert harness.fake.calls_to("users.info") == []  # a search needs no role: Slack is not asked
    assert channel == ChannelRef("slack", "C1", "T1")
    assert harness.fake.responses == []


async def test_slow_answer_is_acked_then_follows_through_response_url(
    fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    async with running_app(fake, sqlite_engine, ack_budget=0.05) as harness:
        # The stand-in answers only when released, so the ack is sure to go out first.
        harness.news.gate = asyncio.Event()
        status, text = await harness.command("digest 24h")
        assert status == 200 and "Working on it" in json.loads(text)["text"]
        assert harness.fake.responses == []
        harness.news.gate.set()
        [followup] = await harness.responses(1)
    assert followup["response_type"] == "ephemeral" and "Stories matching digest 24h" in followup["text"]


def test_the_production_ack_budget_is_under_slacks_three_seconds() -> None:
    assert DEFAULT_ACK_BUDGET < 3
    for built in (SlackRuntime.__init__, SlackListeners.__init__):
        assert inspect.signature(built).parameters["ack_budget"].default == DEFAULT_ACK_BUDGET, built


async def test_with_the_default_budget_a_slow_answer_is_acked_then_follows_through_response_url(
    fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    """No budget override: the ack still comes before Slack's 3 s, the answer after through response_url."""
    async with running_app(fake, sqlite_engine, ack_budget=None) as harness:
        harness.news.gate = asyncio.Event()  # the answer is held until the ack is in
        status, text = await harness.command("digest 24h")
        assert status == 200 and json.loads(text)["text"] == WORKING_TEXT
        assert harness.fake.responses == []
        harness.news.gate.set()
        [followup] = await harness.responses(1)
    assert "Stories matching digest 24h" in followup["text"] and followup["_hook"] == "1"


async def test_public_replies_are_posted_in_channel_without_share_button(harness: Harness) -> None:
    harness.news.answer = lambda text: NewsReply(kind="digest", title="Digest", ephemeral=False)
    answer = json.loads((await harness.command("digest"))[1])
    assert answer["response_type"] == "in_channel"
    assert ACTION_SHARE not in json.dumps(answer["blocks"])


async def test_command_errors_and_crashes_become_plain_replies(harness: Harness) -> None:
    def refuse(text: str) -> NewsReply:
        raise CommandError("That duration is not one I understand.", example="/news mute migration for 2h")

    harness.news.answer = refuse
    status, text = await harness.command("mute migration for ages")
    answer = json.loads(text)
    assert status == 200 and answer["response_type"] == "ephemeral"
    assert "not one I understand" in answer["text"] and "/news mute migration for 2h" in json.dumps(answer)

    def crash(text: str) -> NewsReply:
        raise RuntimeError("database exploded")

    harness.news.answer = crash
    status, text = await harness.command("venezuela")
    assert status == 200 and "could not answer" in text and "exploded" not in text


@pytest.mark.parametrize(
    ("user", "is_editor"),
    [("U1", False), ("UADMIN", True), ("UOWNER", True), ("UGROUP", True), ("UNAMED", True)],
)
async def test_editor_role_comes_from_slack_roles_and_editor_ids(
    harness: Harness, user: str, is_editor: bool
) -> None:
    harness.fake.add_user("UNAMED", "named")
    await harness.command("topics", user=user)
    expected = EditorStatus.YES if is_editor else EditorStatus.NO
    assert await harness.news.calls[-1][1].editor_status() is expected


async def test_an_unreachable_slack_makes_the_role_unknown_not_a_refusal(
    fake: FakeSlack, sqlite_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """users.info cannot be reached: the request is still answered, and the role reads UNKNOWN, not NO."""
    caplog.set_level(logging.WARNING, logger="handlers.slack.editors")
    async with running_app(fake, sqlite_engine, ack_budget=2.0) as harness:
        await harness.command("help", user="U1")  # Bolt's own one-time auth.test is done while Slack is up
        await fake.stop()  # the Web API is gone; the app itself still listens
        status, text = await harness.command("mute migration for 2h", user="UADMIN")
        assert status == 200
        assert "Stories matching mute migration for 2h" in json.loads(text)["text"]
        [_, (_, caller, _)] = harness.news.calls
        assert await caller.editor_status() is EditorStatus.UNKNOWN
        assert "role unknown" in caplog.text


class FlakyClient:
    """users.info that fails as Slack can fail (`failure`) the first time, then answers "admin"."""

    def __init__(self, failure: Exception) -> None:
        self.failure = failure
        self.calls = 0

    async def users_info(self, user: str) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 1:
            raise self.failure
        return {"user": {"id": user, "is_admin": True}}


@pytest.mark.parametrize(
    "failure",
    [
        aiohttp.ClientConnectionError("Slack unreachable"),
        TimeoutError(),
        # What the SDK raises for a body its JSON decoder cannot read: the raw HTTP response attached.
        SlackApiError("Received a response in a non-JSON format: <html>", SimpleNamespace(status=200)),
    ],
    ids=["unreachable", "timeout", "garbled-body"],
)
async def test_a_failed_editor_lookup_is_unknown_and_not_cached(failure: Exception) -> None:
    """Slack failing says nothing about the user's role: the next request asks again."""
    client = FlakyClient(failure)
    policy = EditorPolicy(EditorList.parse(""))
    assert await policy.editor_status(client, "T1", "UADMIN") is EditorStatus.UNKNOWN  # type: ignore[arg-type]
    assert await policy.editor_status(client, "T1", "UADMIN") is EditorStatus.YES  # type: ignore[arg-type]
    assert await policy.editor_status(client, "T1", "UADMIN") is EditorStatus.YES  # type: ignore[arg-type]
    assert client.calls == 2  # the good answer is cached


async def test_a_hung_editor_lookup_is_cut_short_as_unknown() -> None:
    class HungClient:
        async def users_info(self, user: str) -> dict[str, Any]:
            await asyncio.Event().wait()
            raise AssertionError("never answered")

    policy = EditorPolicy(EditorList.parse(""), lookup_seconds=0.05)
    status = await asyncio.wait_for(policy.editor_status(HungClient(), "T1", "U1"), timeout=10)  # type: ignore[arg-type]
    assert status is EditorStatus.UNKNOWN


# --- buttons -------------------------------------------------------------------------------------------


async def test_share_posts_the_answer_in_channel_and_removes_the_private_copy(harness: Harness) -> None:
    status, _ = await harness.click(ACTION_SHARE, "venezuela since:7d")
    assert status == 200
    shared, deleted = await harness.responses(2)
    assert shared["response_type"] == "in_channel" and shared["replace_original"] is False
    assert "Stories matching venezuela since:7d" in shared["text"] and "Shared by <@U1>" in json.dumps(shared)
    assert ACTION_SHARE not in json.dumps(shared["blocks"])
    assert deleted["delete_original"] is True and not deleted.get("blocks")


async def test_mute_button_leaves_the_role_to_the_command_layer(harness: Harness) -> None:
    """The button is `/news mute <topic>`: the command layer asks the role (and refuses), not the adapter."""
    await harness.click(ACTION_MUTE_TOPIC, "crossings", user="U1")
    [answer] = await harness.responses(1)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    [(text, caller, _)] = harness.news.calls
    assert text == "mute crossings" and harness.fake.calls_to("users.info") == []
    assert await caller.editor_status() is EditorStatus.NO
    assert "SLACK_EDITOR_IDS" in (caller.editor_rule or "")  # what the refusal tells about who may


async def test_mute_button_mutes_for_editors(harness: Harness) -> None:
    harness.news.answer = lambda text: NewsReply(kind="mute", title="Muted crossings in this channel")
    await harness.click(ACTION_MUTE_TOPIC, "crossings", user="UADMIN")
    [answer] = await harness.responses(1)  # button work runs after the ack: wait for its answer first
    [(text, caller, channel)] = harness.news.calls
    assert text == "mute crossings" and channel == ChannelRef("slack", "C1", "T1")
    assert await caller.editor_status() is EditorStatus.YES
    assert answer["response_type"] == "ephemeral" and "Muted crossings" in answer["text"]


async def test_related_stories_button_shows_the_story_privately(harness: Harness) -> None:
    await harness.click(ACTION_RELATED, "42")
    [answer] = await harness.responses(1)
    assert harness.news.calls[0][0] == "story 42"
    assert answer["response_type"] == "ephemeral"
    assert json.loads(json.dumps(answer["blocks"]))[-1]["elements"][0]["value"] == "story 42"


# --- runtime -------------------------------------------------------------------------------------------


async def test_alert_channel_is_subscribed_to_the_beat_once(
    harness: Harness, sqlite_engine: AsyncEngine
) -> None:
    await harness.runtime.subscribe_alert_channel()  # a restart does not add a second subscription
    async with session_factory(sqlite_engine)() as session:
        rows = (
            await session.execute(
                select(ChannelRow.external_id, ChannelRow.team_id, SubscriptionRow.topic).join(
                    SubscriptionRow, SubscriptionRow.channel_id == ChannelRow.id
                )
            )
        ).all()
    assert [tuple(row) for row in rows] == [("C1", "T1", BEAT)]


async def test_a_refused_bot_token_stops_start_up_with_one_line(
    fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    config = load_settings(
        SLACK_BOT_TOKEN="xoxb-revoked", SLACK_SIGNING_SECRET=SECRET, SLACK_API_BASE_URL=fake.base_url
    )
    runtime = build_slack_runtime(config, StandInNews(), session_factory(sqlite_engine))
    with pytest.raises(ConfigurationError, match="SLACK_BOT_TOKEN: Slack refused it \\(invalid_auth\\)"):
        await runtime.start_posting()
    assert runtime.platform == "slack" and runtime.poster.platform == "slack"


async def test_slack_down_at_start_does_not_stop_start_up(
    fake: FakeSlack, sqlite_engine: AsyncEngine
) -> None:
    fake.fail_next("auth.test", "internal_error", status=500)
    config = load_settings(
        SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, SLACK_API_BASE_URL=fake.base_url
    )
    runtime = build_slack_runtime(
        config, StandInNews(), session_factory(sqlite_engine), server_error_retries=0
    )
    await runtime.start_posting()
    assert [call.status for call in fake.calls_to("auth.test")] == [500]
