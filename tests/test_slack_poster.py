"""The Slack poster against the contract fake: posting, threading, error mapping and crash reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from errors import PermanentDeliveryError, RateLimited, TransientDeliveryError
from handlers.slack.clients import SingleTokenClients, api_base_url, make_client, retry_handlers
from handlers.slack.poster import EVENT_TYPE, SlackPoster, headline_changed
from stories.model import Alert, AlertKind, FigureChange, KeyFigure, PostedMessage, StoryCluster
from tests.fakes.slack_api import FakeSlack

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def story(title: str = "Venezuela reopens the Simón Bolívar bridge", **changes: Any) -> StoryCluster:
    values: dict[str, Any] = {
        "story_id": 7,
        "title": title,
        "link": "https://news.example/bridge",
        "source": "Example Wire",
        "summary": "Crossings resumed.",
        "language": "en",
        "topics": ("venezuela-colombia-border",),
        "matched": ("Cúcuta",),
        "figures": (KeyFigure(326.0, "326", "deserters"),),
        "first_seen": NOW,
        "published": NOW,
    }
    values.update(changes)
    return StoryCluster(**values)


def new_alert(**changes: Any) -> Alert:
    return Alert(kind=AlertKind.NEW, story=story(**changes))


def update_alert(title: str = "Venezuela reopens the Simón Bolívar bridge") -> Alert:
    change = FigureChange(
        "deserters", KeyFigure(326.0, "326", "deserters"), KeyFigure(411.0, "411", "deserters")
    )
    return Alert(kind=AlertKind.UPDATE, story=story(title=title, revision=2), changes=(change,))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(message_interval=0.0)
    slack.add_channel("C1", "border-desk")
    slack.add_channel("COUT", "elsewhere", bot_is_member=False)
    await slack.start()
    try:
        yield slack
    finally:
        await slack.stop()


def poster_for(fake: FakeSlack, token: str = "xoxb-test", *, rate_limit_retries: int = 0) -> SlackPoster:
    client = make_client(token, fake.base_url, rate_limit_retries=rate_limit_retries, server_error_retries=0)
    return SlackPoster(SingleTokenClients(client))


async def test_post_sends_blocks_fallback_and_idempotency_metadata(fake: FakeSlack) -> None:
    posted = await poster_for(fake).post("C1", new_alert(), thread=None, idempotency_key="outbox-1")
    [message] = fake.messages["C1"]
    assert posted == PostedMessage("slack", "C1", message["ts"], None)
    assert message["metadata"] == {
        "event_type": EVENT_TYPE,
        "event_payload": {
            "idempotency_key": "outbox-1",
            "kind": "new",
            "story_id": 7,
            "title": "Venezuela reopens the Simón Bolívar bridge",
        },
    }
    assert "Venezuela reopens" in message["text"] and message["blocks"][0]["type"] == "header"
    [call] = fake.calls_to("chat.postMessage")
    assert "link_names" not in call.params and call.token == "xoxb-test"


async def test_update_goes_into_the_thread_of_the_first_alert(fake: FakeSlack) -> None:
    poster = poster_for(fake)
    first = await poster.post("C1", new_alert(), thread=None, idempotency_key="k1")
    reply = await poster.post("C1", update_alert(), thread=first, idempotency_key="k2")
    assert reply.thread_id == first.message_id
    [threaded] = fake.replies("C1", first.message_id)
    assert threaded["ts"] == reply.message_id and "326 → 411" in threaded["text"]
    assert len(fake.top_level("C1")) == 1
    assert not fake.calls_to("chat.update")  # same headline: the original stays as it was


async def test_materially_changed_headline_also_edits_the_original(fake: FakeSlack) -> None:
    poster = poster_for(fake)
    first = await poster.post("C1", new_alert(), thread=None, idempotency_key="k1")
    await poster.post(
        "C1",
        update_alert("Colombia closes border crossings after clashes"),
        thread=first,
        idempotency_key="k2",
    )
    [edit] = fake.calls_to("chat.update")
    assert edit.params["ts"] == first.message_id
    original = fake.top_level("C1")[0]
    assert "Colombia closes border crossings" in original["text"]
    assert original["metadata"]["event_payload"]["idempotency_key"] == "k1"  # still reconcilable


def test_headline_change_ignores_case_and_punctuation() -> None:
    assert not headline_changed("Venezuela reopens the bridge", "VENEZUELA reopens the bridge!")
    assert headline_changed("Venezuela reopens the bridge", "Colombia closes border crossings after clashes")


async def test_update_whose_first_alert_was_deleted_posts_on_its_own(fake: FakeSlack) -> None:
    gone = PostedMessage("slack", "C1", "1600000000.000001")
    posted = await poster_for(fake).post("C1", update_alert(), thread=gone, idempotency_key="k2")
    assert posted.thread_id is None and fake.top_level("C1")[0]["ts"] == posted.message_id


@pytest.mark.parametrize(
    ("channel", "token", "error_text"),
    [
        ("CNOPE", "xoxb-test", "channel_not_found"),
        ("COUT", "xoxb-test", "not_in_channel"),
        ("C1", "xoxb-revoked", "invalid_auth"),
    ],
)
async def test_refusals_are_permanent(fake: FakeSlack, channel: str, token: str, error_text: str) -> None:
    with pytest.raises(PermanentDeliveryError, match=error_text):
        await poster_for(fake, token).post(channel, new_alert(), thread=None, idempotency_key="k")


async def test_429_becomes_rate_limited_with_retry_after(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=7)
    with pytest.raises(RateLimited) as caught:
        await poster_for(fake).post("C1", new_alert(), thread=None, idempotency_key="k")
    assert caught.value.retry_after == 7
    assert not fake.messages["C1"]


async def test_posting_faster_than_slack_allows_is_rate_limited_per_channel(fake: FakeSlack) -> None:
    fake.message_interval = 60.0
    fake.add_channel("C2", "other-desk")
    poster = poster_for(fake)
    await poster.post("C1", new_alert(), thread=None, idempotency_key="a")
    with pytest.raises(RateLimited) as caught:
        await poster.post("C1", new_alert(), thread=None, idempotency_key="b")
    assert caught.value.retry_after >= 1
    await poster.post("C2", new_alert(), thread=None, idempotency_key="c")  # another channel is not held up


async def test_sdk_retry_handler_rides_out_one_short_429(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=0)
    posted = await poster_for(fake, rate_limit_retries=1).post(
        "C1", new_alert(), thread=None, idempotency_key="k"
    )
    assert fake.top_level("C1")[0]["ts"] == posted.message_id
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]


@pytest.mark.parametrize(("status", "error"), [(500, "internal_error"), (200, "service_unavailable")])
async def test_server_failures_are_transient(fake: FakeSlack, status: int, error: str) -> None:
    fake.fail_next("chat.postMessage", error, status=status)
    with pytest.raises(TransientDeliveryError):
        await poster_for(fake).post("C1", new_alert(), thread=None, idempotency_key="k")


async def test_a_post_slack_stored_before_answering_503_is_not_sent_again(fake: FakeSlack) -> None:
    """The production client (default retries): the 503 becomes TransientDeliveryError, no SDK re-send."""
    fake.fail_next("chat.postMessage", "service_unavailable", status=503, after_effect=True)
    poster = SlackPoster(SingleTokenClients(make_client("xoxb-test", fake.base_url)))
    with pytest.raises(TransientDeliveryError):
        await poster.post("C1", new_alert(), thread=None, idempotency_key="k")
    [stored] = fake.messages["C1"]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [503]
    # What the sender's retry finds before posting again:
    assert await poster.find_posted("C1", "k") == PostedMessage("slack", "C1", stored["ts"])


async def _retry_decision(method: str, *, status: int | None = None, error: Exception | None = None) -> bool:
    """Would the production retry handlers (default counts) repeat this failed call?"""
    request = HttpRequest(method="POST", url=f"https://slack.com/api/{method}", headers={})
    response = HttpResponse(status_code=status, headers={}) if status is not None else None
    for handler in retry_handlers():
        if await handler.can_retry_async(state=RetryState(), request=request, response=response, error=error):
            return True
    return False


_NOT_CONNECTED = aiohttp.ClientConnectorError(
    ConnectionKey("slack.com", 443, True, True, None, None, None, "slack.com"),
    ConnectionRefusedError(111, "refused"),
)


@pytest.mark.parametrize(
    ("method", "failure", "retried"),
    [
        ("chat.postMessage", {"status": 503}, False),
        ("chat.postMessage", {"status": 500}, False),
        ("chat.postMessage", {"error": aiohttp.ServerDisconnectedError()}, False),
        ("chat.postMessage", {"error": aiohttp.ServerTimeoutError()}, False),
        ("chat.postMessage", {"error": aiohttp.ClientOSError(104, "reset by peer")}, False),
        ("chat.postMessage", {"error": _NOT_CONNECTED}, True),  # nothing was sent
        ("chat.postMessage", {"status": 429}, True),  # Slack accepted nothing
        ("chat.postEphemeral", {"status": 503}, False),
        ("conversations.history", {"status": 503}, True),
        ("users.info", {"error": aiohttp.ServerDisconnectedError()}, True),
        ("chat.update", {"status": 500}, True),  # the same edit twice is the same edit
    ],
)
async def test_sdk_retries_only_where_a_repeat_cannot_double_a_message(
    method: str, failure: dict[str, Any], retried: bool
) -> None:
    assert await _retry_decision(method, **failure) is retried


async def test_unreachable_slack_is_transient() -> None:
    slack = FakeSlack()
    await slack.start()
    base = slack.base_url
    await slack.stop()  # nothing listens on that port any more
    client = make_client("xoxb-test", base, rate_limit_retries=0, server_error_retries=0)
    client.retry_handlers = []
    with pytest.raises(TransientDeliveryError):
        await SlackPoster(SingleTokenClients(client)).post(
            "C1", new_alert(), thread=None, idempotency_key="k"
        )


async def test_rejected_blocks_fall_back_to_the_plain_text(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", "invalid_blocks")
    posted = await poster_for(fake).post("C1", new_alert(), thread=None, idempotency_key="k")
    [message] = fake.messages["C1"]
    assert message["ts"] == posted.message_id and message["blocks"] == [] and "Venezuela" in message["text"]
    assert message["metadata"]["event_payload"]["idempotency_key"] == "k"


async def test_find_posted_reconciles_alerts_and_thread_replies(fake: FakeSlack) -> None:
    poster = poster_for(fake)
    first = await poster.post("C1", new_alert(), thread=None, idempotency_key="outbox-1")
    for n in range(5):
        await poster.post("C1", new_alert(story_id=100 + n), thread=None, idempotency_key=f"other-{n}")
    reply = await poster.post("C1", update_alert(), thread=first, idempotency_key="outbox-2")
    assert await poster.find_posted("C1", "outbox-1") == first
    assert await poster.find_posted("C1", "outbox-2") == reply
    assert await poster.find_posted("C1", "never-posted") is None


async def test_find_posted_pages_through_history(fake: FakeSlack) -> None:
    client = make_client("xoxb-test", fake.base_url, rate_limit_retries=0, server_error_retries=0)
    poster = SlackPoster(SingleTokenClients(client), history_page_size=10)
    first = await poster.post("C1", new_alert(), thread=None, idempotency_key="oldest")
    for n in range(25):
        await poster.post("C1", new_alert(story_id=n), thread=None, idempotency_key=f"k{n}")
    assert await poster.find_posted("C1", "oldest") == first
    assert len(fake.calls_to("conversations.history")) == 3


async def test_find_posted_looks_in_the_updates_thread_beyond_the_newest_threads(fake: FakeSlack) -> None:
    poster = SlackPoster(
        SingleTokenClients(make_client("xoxb-test", fake.base_url, server_error_retries=0)),
        reconcile_threads=2,
    )
    first = await poster.post("C1", new_alert(), thread=None, idempotency_key="first")
    reply = await poster.post("C1", update_alert(), thread=first, idempotency_key="the-update")
    for n in range(3):  # three newer alerts with threads of their own push the first one out of the window
        newer = await poster.post("C1", new_alert(story_id=200 + n), thread=None, idempotency_key=f"n{n}")
        await poster.post("C1", update_alert(), thread=newer, idempotency_key=f"u{n}")
    assert await poster.find_posted("C1", "the-update") is None  # the bounded channel-wide search
    assert await poster.find_posted("C1", "the-update", thread=first) == reply
    assert await poster.find_posted("C1", "u2", thread=first) is not None  # not there: falls back
    assert await poster.find_posted("C1", "never", thread=first) is None


async def test_find_posted_in_unknown_channel_is_permanent(fake: FakeSlack) -> None:
    with pytest.raises(PermanentDeliveryError):
        await poster_for(fake).find_posted("CNOPE", "k")


# --- the fake itself: what it enforces is what the tests above rely on ---------------------------------


async def test_fake_enforces_tokens_and_rejects_unknown_methods(fake: FakeSlack) -> None:
    anonymous = make_client(None, fake.base_url, rate_limit_retries=0, server_error_retries=0)
    with pytest.raises(SlackApiError, match="not_authed"):
        await anonymous.auth_test()
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await make_client("xoxb-nope", fake.base_url).auth_test()
    client = make_client("xoxb-test", fake.base_url)
    assert (await client.auth_test())["team_id"] == "T1"
    with pytest.raises(SlackApiError, match="unknown_method"):
        await client.api_call("chat.scheduleMessage", json={"channel": "C1", "text": "x"})


async def test_fake_rejects_oversized_messages(fake: FakeSlack) -> None:
    client = make_client("xoxb-test", fake.base_url)
    with pytest.raises(SlackApiError, match="msg_too_long"):
        await client.chat_postMessage(channel="C1", text="x" * 40_001)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_postMessage(channel="C1", text="x", blocks=[section])
    small = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_postMessage(channel="C1", text="x", blocks=[small] * 51)
    assert not fake.messages["C1"]


async def test_fake_checks_response_url_payloads_like_messages(fake: FakeSlack) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    async with aiohttp.ClientSession() as http:
        for payload in (
            {"text": "x", "blocks": [section], "response_type": "ephemeral"},
            {"text": "x", "blocks": [header], "response_type": "in_channel"},
            {"text": "x" * 40_001},
            {"response_type": "ephemeral"},
            {"text": "x", "response_type": "everyone"},
        ):
            async with http.post(fake.response_url(), json=payload) as response:
                assert response.status == 400, payload
        async with http.post(fake.response_url(), json={"delete_original": True}) as response:
            assert response.status == 200
    assert [r["_error"] for r in fake.rejected_responses] == [
        "invalid_blocks",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "invalid_payload",
    ]
    assert fake.responses == [{"delete_original": True, "_hook": "1"}]


def test_api_base_url_always_ends_with_a_slash() -> None:
    assert api_base_url("http://127.0.0.1:9/api") == "http://127.0.0.1:9/api/"
    assert api_base_url("http://127.0.0.1:9/api/") == "http://127.0.0.1:9/api/"
    assert api_base_url(None) == "https://slack.com/api/"
