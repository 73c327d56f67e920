"""Crash safety: a real delivery process is SIGKILLed while sending, again and again, and restarted.

The chat platform is a small HTTP contract fake in this process. It records every accepted message with
its idempotency key and can look a key up (like Slack message metadata or a Discord nonce). Some kills
land exactly in the window that cannot be closed by the database alone: the platform has accepted the
message, the sender has not yet marked the row sent. With the platform lookup the restarted sender
reconciles them (no duplicate); without it each such kill is one duplicate. Both counts are printed.

The same runs against the Slack contract fake (`tests/fakes/slack_api.py`) through the real Slack poster,
whose `find_posted` reads the idempotency key back from message metadata in `conversations.history`.

This file is also the child program: `python -m tests.test_crash DB_URL lookup|no-lookup|slack CHAT_URL`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from config.settings import load_settings
from delivery.outbox import idempotency_key
from delivery.ports import ChatPoster
from delivery.sender import DeliverySender
from errors import TransientDeliveryError
from storage.db import create_engine, session_factory, upgrade_database
from storage.models import OutboxRow
from stories.model import Alert, PostedMessage
from tests.conftest import PROJECT_ROOT
from tests.fakes.slack_api import FakeSlack
from tests.test_outbox import add_channel, add_story, enqueue, story_event

CHANNELS = ("desk-a", "desk-b", "desk-c")
STORIES = 12
CHILD_LEASE = timedelta(seconds=1)
KILL_ON_POSTS = (3, 9, 16, 22)  # the platform accepts these, then the sender dies before it hears back


class HttpChatPoster:
    """The child's ChatPoster: JSON over loopback HTTP to the contract fake."""

    platform = "console"

    def __init__(self, base_url: str, lookup: bool) -> None:
        self._base = base_url
        self._lookup = lookup
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        return self._http

    async def post(
        self, channel: str, alert: Alert, *, thread: PostedMessage | None, idempotency_key: str
    ) -> PostedMessage:
        body = {
            "channel": channel,
            "key": idempotency_key,
            "title": alert.story.title if alert.story else alert.notice,
            "thread": thread.message_id if thread else None,
        }
        try:
            async with self._session().post(f"{self._base}/post", json=body) as response:
                data = await response.json()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientDeliveryError(f"chat fake unreachable: {type(error).__name__}") from error
        return PostedMessage(self.platform, channel, str(data["id"]))

    async def find_posted(self, channel: str, idempotency_key: str) -> PostedMessage | None:
        if not self._lookup:
            return None
        params = {"channel": channel, "key": idempotency_key}
        async with self._session().get(f"{self._base}/find", params=params) as response:
            if response.status == 404:
                return None
            return PostedMessage(self.platform, channel, str((await response.json())["id"]))


async def child_main(database_url: str, mode: str, chat_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    poster: ChatPoster
    if mode == "slack":
        from handlers.slack import build_slack_runtime

        settings = load_settings(
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="crash-test",
            SLACK_API_BASE_URL=chat_url,
        )
        runtime = build_slack_runtime(settings, None, sessions)  # posting only: no command handler needed
        await runtime.start_posting()
        poster = runtime.poster
    else:
        poster = HttpChatPoster(chat_url, lookup=mode == "lookup")
    sender = DeliverySender(
        sessions,
        {poster.platform: poster},
        worker_id=f"crash-child-{os.getpid()}",
        lease=CHILD_LEASE,
        channel_interval=0.0,
        global_per_second=1000.0,
        idle_seconds=0.1,
        send_timeout=5.0,
    )
    await sender.run(asyncio.Event())  # runs until killed


class ChatFake:
    """Records posts; kills the sender process on chosen posts after accepting them."""

    def __init__(self, kill_on: tuple[int, ...], database_url: str) -> None:
        self.posts: list[dict[str, object]] = []
        self.database_url = database_url
        self.in_window = 0  # messages accepted here whose rows were still `sending` when the sender died
        self.kill_on = set(kill_on)
        self.child: subprocess.Popen[bytes] | None = None
        self.accepted_from_child: set[str] = set()
        self.kills = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    def child_started(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        self.accepted_from_child = set()

    async def count_window(self) -> None:
        """After a kill, once every request the dead child had sent has been handled."""
        self.in_window += await _accepted_but_unmarked(self.database_url, self.accepted_from_child)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/post", self._post)
        app.router.add_get("/find", self._find)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        message = await request.json()
        self.posts.append(message)
        self.accepted_from_child.add(str(message["key"]))
        if len(self.posts) in self.kill_on and self.child is not None:
            self.child.send_signal(signal.SIGKILL)  # accepted here, never acknowledged there
            self.child.wait()
            self.kills += 1
        return web.json_response({"id": len(self.posts)})

    async def _find(self, request: web.Request) -> web.Response:
        for number, message in enumerate(self.posts, start=1):
            if message["key"] == request.query["key"] and message["channel"] == request.query["channel"]:
                return web.json_response({"id": number})
        return web.json_response({"error": "not_found"}, status=404)


class HookedSlack(FakeSlack):
    """The Slack contract fake, calling `after_post` once it has accepted a chat.postMessage."""

    after_post: Callable[[], Awaitable[None]] | None = None

    async def _handle_api(self, request: web.Request) -> web.Response:
        response = await super()._handle_api(request)
        if request.match_info["method"] == "chat.postMessage" and response.status == 200 and self.after_post:
            await self.after_post()
        return response


class SlackChatFake:
    """Slack variant of ChatFake: the same kill-after-accepting hook, on the Slack contract fake."""

    def __init__(self, kill_on: tuple[int, ...], database_url: str) -> None:
        self.slack = HookedSlack(message_interval=0.0)  # pacing is tested elsewhere; here only crashes matter
        for channel in CHANNELS:
            self.slack.add_channel(channel)
        self.slack.after_post = self._after_post
        self.database_url = database_url
        self.kill_on = set(kill_on)
        self.child: subprocess.Popen[bytes] | None = None
        self.child_started_with: Counter[str] = Counter()
        self.kills = 0
        self.in_window = 0
        self.url = ""

    @property
    def posts(self) -> list[dict[str, object]]:
        posts = []
        for channel, messages in self.slack.messages.items():
            for message in messages:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                posts.append(
                    {"channel": channel, "key": payload.get("idempotency_key"), "title": payload.get("title")}
                )
        return posts

    def child_started(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        self.child_started_with = Counter(str(p["key"]) for p in self.posts)

    async def count_window(self) -> None:
        by_child = Counter(str(p["key"]) for p in self.posts) - self.child_started_with
        self.in_window += await _accepted_but_unmarked(self.database_url, set(by_child))

    async def _after_post(self) -> None:
        if len(self.posts) in self.kill_on and self.child is not None:
            self.child.send_signal(signal.SIGKILL)
            self.child.wait()
            self.kills += 1

    async def start(self) -> None:
        self.url = await self.slack.start()

    async def stop(self) -> None:
        await self.slack.stop()


async def _accepted_but_unmarked(database_url: str, accepted_from_child: set[str]) -> int:
    """Messages the killed sender got accepted whose rows it had not marked sent: the duplicate window."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        sending = (await session.execute(select(OutboxRow.id).where(OutboxRow.state == "sending"))).scalars()
        keys = {idempotency_key(row_id) for row_id in sending}
    await engine.dispose()
    return len(keys & accepted_from_child)


async def _seed(database_url: str, platform: str) -> int:
    engine = create_engine(database_url)
    await upgrade_database(engine)
    sessions = session_factory(engine)
    for channel in CHANNELS:
        await add_channel(sessions, channel, platform=platform)
    for n in range(STORIES):
        story = await add_story(sessions, f"Story {n}", published=datetime.now(UTC))
        await enqueue(sessions, [story_event(story, published=datetime.now(UTC))], datetime.now(UTC))
    await engine.dispose()
    return len(CHANNELS) * STORIES


async def _states(database_url: str) -> Counter[str]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        states = Counter((await session.execute(select(OutboxRow.state))).scalars())
    await engine.dispose()
    return states


def _start_child(database_url: str, mode: str, chat_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.test_crash", database_url, mode, chat_url],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _run_with_kills(database_url: str, mode: str) -> tuple[int, ChatFake | SlackChatFake]:
    chat: ChatFake | SlackChatFake
    if mode == "slack":
        expected = await _seed(database_url, "slack")
        chat = SlackChatFake(KILL_ON_POSTS, database_url)
    else:
        expected = await _seed(database_url, "console")
        chat = ChatFake(KILL_ON_POSTS, database_url)
    await chat.start()
    try:
        for _restart in range(len(KILL_ON_POSTS) + 3):
            chat.child_started(_start_child(database_url, mode, chat.url))
            assert chat.child is not None
            for _ in range(300):  # until this child is killed or everything is sent
                await asyncio.sleep(0.1)
                if chat.child.poll() is not None:
                    break
                states = await _states(database_url)
                if states["sent"] == expected:
                    break
            if chat.child.poll() is None:
                chat.child.terminate()
                chat.child.wait()
            elif chat.child.returncode == -signal.SIGKILL:
                await asyncio.sleep(0.3)  # requests the child sent just before dying are handled by now
                await chat.count_window()
            if (await _states(database_url))["sent"] == expected:
                break
    finally:
        if chat.child is not None and chat.child.poll() is None:
            chat.child.kill()
        await chat.stop()
    return expected, chat


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lookup", "no-lookup", "slack"])
async def test_sigkill_while_sending_loses_nothing(sqlite_url: str, mode: str) -> None:
    lookup = mode != "no-lookup"
    expected, chat = await _run_with_kills(sqlite_url, mode)

    states = await _states(sqlite_url)
    delivered = Counter(str(p["key"]) for p in chat.posts)
    duplicates = sum(n - 1 for n in delivered.values())
    print(
        f"\ncrash test ({mode}): {expected} alerts, "
        f"{chat.kills} SIGKILLs right after the platform accepted a message, {chat.in_window} messages "
        f"accepted but not yet marked sent at those kills, {len(chat.posts)} posted, {duplicates} duplicates"
    )
    assert chat.kills == len(KILL_ON_POSTS)
    assert chat.in_window >= chat.kills  # every kill really hit the window (other channels may be in it too)
    assert states == Counter({"sent": expected})  # nothing lost, nothing dead
    assert len(delivered) == expected  # every alert reached the platform
    if lookup:
        assert duplicates == 0
    else:
        # The documented window: one duplicate per message accepted but not yet marked when the sender died.
        assert duplicates == chat.in_window
    for channel in CHANNELS:  # per-channel order held across every restart
        titles = [p["title"] for p in chat.posts if p["channel"] == channel]
        first_seen = list(dict.fromkeys(titles))
        assert first_seen == [f"Story {n}" for n in range(STORIES)]


if __name__ == "__main__":
    asyncio.run(child_main(sys.argv[1], sys.argv[2], sys.argv[3]))
