"""The Discord poster against the REST contract fake, through the real discord.py HTTP client."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from unittest.mock import MagicMock

import aiohttp
import discord
import pytest

from errors import PermanentDeliveryError, RateLimited, TransientDeliveryError
from handlers.discord.endpoints import point_discord_at
from handlers.discord.poster import DiscordPoster, delivery_error, nonce_for, posting_client, ref_for
from handlers.discord.runtime import minimal_intents
from stories.model import Alert, AlertKind, FigureChange, KeyFigure, PostedMessage, StoryCluster
from tests.fakes.discord_api import BOT_TOKEN, FakeDiscordAPI

CHANNEL = 930000000000000001
MESSAGES = f"/channels/{CHANNEL}/messages"


def story(**changes: object) -> StoryCluster:
    values: dict[str, object] = {
        "story_id": 9,
        "title": "Aid trucks stopped at Tienditas bridge",
        "link": "https://example.org/aid",
        "source": "AFP",
        "summary": "Containers block the bridge.",
        "language": "en",
        "topics": ("venezuela-colombia-border", "humanitarian-aid"),
        "matched": ("Tienditas",),
        "figures": (KeyFigure(3.0, "three", "trucks"),),
        "first_seen": datetime(2019, 2, 7, tzinfo=UTC),
        "published": None,
    }
    values.update(changes)
    return StoryCluster(**values)  # type: ignore[arg-type]


@pytest.fixture
async def api() -> AsyncIterator[FakeDiscordAPI]:
    async with FakeDiscordAPI() as fake:
        fake.add_channel(CHANNEL, guild_id=1)
        restore = point_discord_at(fake.base_url, None)
        try:
            yield fake
        finally:
            restore()


@pytest.fixture
async def poster(api: FakeDiscordAPI) -> AsyncIterator[DiscordPoster]:
    client = posting_client()
    await client.login(BOT_TOKEN)
    try:
        yield DiscordPoster(client, {"humanitarian-aid": 0x27AE60})
    finally:
        await client.close()


async def test_post_sends_one_embed_with_nonce_and_no_mentions(
    api: FakeDiscordAPI, poster: DiscordPoster
) -> None:
    posted = await poster.post(
        str(CHANNEL), Alert(AlertKind.NEW, story()), thread=None, idempotency_key="row-1"
    )
    [message] = api.messages[CHANNEL]
    assert posted == PostedMessage("discord", str(CHANNEL), message["id"], None)
    [sent] = api.calls_to("POST", MESSAGES)
    assert sent.headers["Authorization"] == f"Bot {BOT_TOKEN}"
    assert sent.body["nonce"] == nonce_for("row-1") and sent.body["enforce_nonce"] is True
    assert sent.body["allowed_mentions"] == {"parse": []}
    [embed] = sent.body["embeds"]
    assert embed["title"] == story().title and embed["color"] == 0x27AE60


async def test_retried_send_with_the_same_key_does_not_duplicate(
    api: FakeDiscordAPI, poster: DiscordPoster
) -> None:
    alert = Alert(AlertKind.NEW, story())
    first = await poster.post(str(CHANNEL), alert, thread=None, idempotency_key="row-1")
    again = await poster.post(str(CHANNEL), alert, thread=None, idempotency_key="row-1")
    other = await poster.post(str(CHANNEL), alert, thread=None, idempotency_key="row-2")
    assert again.message_id == first.message_id
    assert other.message_id != first.message_id
    assert len(api.messages[CHANNEL]) == 2


async def test_update_replies_to_the_first_alert(api: FakeDiscordAPI, poster: DiscordPoster) -> None:
    first = await poster.post(str(CHANNEL), Alert(AlertKind.NEW, story()), thread=None, idempotency_key="new")
    change = FigureChange("trucks", KeyFigure(3.0, "three", "trucks"), KeyFigure(7.0, "seven", "trucks"))
    update = Alert(AlertKind.UPDATE, story(revision=2), changes=(change,))
    posted = await poster.post(str(CHANNEL), update, thread=first, idempotency_key="upd")
    reply = api.messages[CHANNEL][-1]
    assert reply["message_reference"]["message_id"] == int(first.message_id)
    assert reply["message_reference"]["fail_if_not_exists"] is False
    assert "trucks: three → seven" in reply["embeds"][0]["description"]
    assert posted.thread_id == first.message_id and posted.message_id == reply["id"]


async def test_find_posted_recognises_the_message_after_the_nonce_is_forgotten(
    api: FakeDiscordAPI, poster: DiscordPoster
) -> None:
    posted = await poster.post(
        str(CHANNEL), Alert(AlertKind.NEW, story()), thread=None, idempotency_key="row-7"
    )
    await poster.post(
        str(CHANNEL), Alert(AlertKind.NEW, story(story_id=10)), thread=None, idempotency_key="row-8"
    )
    # History listings carry no nonce: the match comes from the footer reference.
    assert ref_for("row-7") in api.messages[CHANNEL][0]["embeds"][0]["footer"]["text"]
    assert await poster.find_posted(str(CHANNEL), "row-7") == posted
    assert await poster.find_posted(str(CHANNEL), "row-never-sent") is None


async def test_find_posted_without_history_permission_is_unknown_not_fatal(
    api: FakeDiscordAPI, poster: DiscordPoster
) -> None:
    api.add_channel(930000000000000003, can_send=False)
    assert await poster.find_posted("930000000000000003", "row-1") is None


async def test_mention_injection_cannot_ping(api: FakeDiscordAPI, poster: DiscordPoster) -> None:
    hostile = story(title="@everyone <@123456789012345678> breaking", summary="@here now")
    notice = Alert(AlertKind.NOTICE, None, notice="@everyone mute ended")
    await poster.post(str(CHANNEL), Alert(AlertKind.NEW, hostile), thread=None, idempotency_key="m1")
    await poster.post(str(CHANNEL), notice, thread=None, idempotency_key="m2")
    for message in api.messages[CHANNEL]:
        assert message["would_ping"] == []
        assert message["allowed_mentions"] == {"parse": []}
        assert "@everyone" not in str(message["embeds"])


def test_the_fake_does_detect_pings_without_allowed_mentions() -> None:
    from tests.fakes.discord_api import would_ping

    assert would_ping({"content": "@everyone <@123456789012345678>"}) == [
        "@everyone",
        "<@123456789012345678>",
    ]
    assert would_ping({"content": "@everyone", "allowed_mentions": {"parse": []}}) == []


async def test_short_429_is_absorbed_and_posts_once(api: FakeDiscordAPI, poster: DiscordPoster) -> None:
    api.rate_limit("POST", MESSAGES, times=1, retry_after=0.05)
    await poster.post(str(CHANNEL), Alert(AlertKind.NEW, story()), thread=None, idempotency_key="r")
    assert len(api.calls_to("POST", MESSAGES)) == 2
    assert len(api.messages[CHANNEL]) == 1


async def test_long_429_becomes_rate_limited_for_the_sender(
    api: FakeDiscordAPI, poster: DiscordPoster
) -> None:
    api.rate_limit("POST", MESSAGES, times=1, retry_after=30.0)
    with pytest.raises(RateLimited) as limited:
        await poster.post(str(CHANNEL), Alert(AlertKind.NEW, story()), thread=None, idempotency_key="r")
    assert limited.value.retry_after == pytest.approx(30.0)
    assert api.messages[CHANNEL] == []


async def test_unknown_channel_and_missing_permissions_are_permanent(
    api: FakeDiscordAPI, poster: DiscordPoster
) -> None:
    with pytest.raises(PermanentDeliveryError, match="unknown Discord channel"):
        await poster.post(
            "930000000000000999", Alert(AlertKind.NEW, story()), thread=None, idempotency_key="a"
        )
    api.add_channel(930000000000000002, can_send=False)
    with pytest.raises(PermanentDeliveryError, match="may not post"):
        await poster.post(
            "930000000000000002", Alert(AlertKind.NEW, story()), thread=None, idempotency_key="b"
        )


async def test_invalid_body_is_permanent(api: FakeDiscordAPI, poster: DiscordPoster) -> None:
    # A reply to a message that does not exist, sent without fail_if_not_exists=False, is a 400.
    target = poster.client.get_partial_messageable(CHANNEL)
    reference = discord.MessageReference(message_id=1, channel_id=CHANNEL)
    with pytest.raises(discord.HTTPException) as rejected:
        await target.send("x", reference=reference)
    assert rejected.value.status == 400
    assert isinstance(delivery_error(rejected.value, str(CHANNEL)), PermanentDeliveryError)


async def test_unreachable_api_is_transient(api: FakeDiscordAPI, poster: DiscordPoster) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    restore = point_discord_at(f"http://127.0.0.1:{port}/api/v10", None)
    try:
        with pytest.raises(TransientDeliveryError):
            await poster.post(str(CHANNEL), Alert(AlertKind.NEW, story()), thread=None, idempotency_key="t")
    finally:
        restore()


async def test_bad_token_is_refused_with_401(api: FakeDiscordAPI) -> None:
    client = discord.Client(intents=minimal_intents())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()
    assert api.calls[-1].path == "/users/@me"


async def test_the_fake_rejects_oversized_messages_with_detail(
    api: FakeDiscordAPI, poster: DiscordPoster
) -> None:
    target = poster.client.get_partial_messageable(CHANNEL)
    with pytest.raises(discord.HTTPException) as rejected:
        await target.send("x" * 2001, embed=discord.Embed(title="t" * 257))
    assert rejected.value.status == 400 and rejected.value.code == 50035
    assert "content" in rejected.value.text and "embeds.0.title" in rejected.value.text
    assert api.messages[CHANNEL] == []


async def test_the_fake_edits_messages_and_opens_threads_for_discord_py(
    api: FakeDiscordAPI, poster: DiscordPoster
) -> None:
    target = poster.client.get_partial_messageable(CHANNEL)
    message = await target.send("first")
    edited = await message.edit(content="second")
    assert edited.content == "second" and api.messages[CHANNEL][0]["content"] == "second"
    # Without a gateway there is no guild cache, so the thread is opened through discord.py's HTTP layer.
    thread = await poster.client.http.start_thread_with_message(
        CHANNEL, message.id, name="Deserters", auto_archive_duration=1440
    )
    assert int(thread["id"]) == message.id and thread["name"] == "Deserters" and thread["type"] == 11


def http_error(status: int, code: int = 0, retry_after: str | None = None) -> discord.HTTPException:
    response = MagicMock(
        status=status, reason="reason", headers={"Retry-After": retry_after} if retry_after else {}
    )
    return discord.HTTPException(response, {"code": code, "message": "from Discord"})


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (http_error(503), TransientDeliveryError),
        (http_error(502), TransientDeliveryError),
        (http_error(401), PermanentDeliveryError),
        (http_error(404, 10003), PermanentDeliveryError),
        (http_error(403, 50013), PermanentDeliveryError),
        (http_error(400, 50035), PermanentDeliveryError),
        (http_error(429, retry_after="7"), RateLimited),
        (discord.RateLimited(12.5), RateLimited),
        (TimeoutError(), TransientDeliveryError),
        (aiohttp.ClientConnectionError(), TransientDeliveryError),
    ],
)
def test_delivery_error_mapping(error: BaseException, expected: type[Exception]) -> None:
    mapped = delivery_error(error, "42")
    assert type(mapped) is expected
    if isinstance(mapped, RateLimited):
        assert mapped.retry_after in (7.0, 12.5)
