"""Crash safety: a real delivery process is SIGKILLed while sending, again and again, and restarted.

The chat platform is a small HTTP contract fake in this process. It records every accepted message with
its idempotency key and can look a key up (like Slack message metadata or a Discord nonce). Each run kills
the sender at every kill point of its delivery cycle, in a random order and at a random occurrence (seeded;
the seed is printed and `WIREWATCH_CRASH_SEED` replays it), restarting it after each kill:

- `claim`: inside the claim transaction, after the rows were updated to `sending`, before the commit;
- `pre-post`: after the claim was committed, before the platform is called;
- `accepted`: the platform has accepted the message (the fake kills the sender before answering);
- `mark`: inside the transaction that marks the row sent, before the commit;
- `anywhere`: a timer at a random moment of the child's delivery (1–40 ms after its first post).

After each kill the test counts the messages that child got accepted whose rows were still `sending`: the
documented duplicate window (the killed message at `accepted`/`mark`, and any other channel's message that
was in flight at that moment). With the platform lookup the restarted sender reconciles them (no
duplicate); without it each is exactly one duplicate. Nothing is lost either way. Counts are printed per
kill point. It runs on SQLite and on PostgreSQL.

The same runs against the Slack contract fake (`tests/fakes/slack_api.py`) through the real Slack poster,
whose `find_posted` reads the idempotency key back from message metadata in `conversations.history`.

This file is also the child program:
`python -m tests.test_crash DB_URL lookup|no-lookup|slack CHAT_URL [KILL_POINT N]` (N: the occurrence of the
kill point to die at, or milliseconds for `anywhere`).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import load_settings
from delivery.ports import ChatPoster
from delivery.sender import DeliverySender
from errors import TransientDeliveryError
from storage import outbox
from storage.db import create_engine, session_factory, upgrade_database
from storage.models import OutboxRow
from storage.outbox import idempotency_key
from stories.model import Alert, PostedMessage
from tests.fakes.slack_api import FakeSlack
from tests.test_outbox import add_channel, add_story, enqueue, story_event

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # not from conftest: the child need not import pytest
CHANNELS = ("desk-a", "desk-b", "desk-c")
STORIES = 16
CHILD_DEADLINE_SECONDS = 120
CHILD_LEASE = timedelta(seconds=1)
KILL_POINTS = ("claim", "pre-post", "accepted", "mark", "anywhere")
ANYWHERE_MAX_MS = 40  # `anywhere`: killed this many ms at most after the child's first post, mid-delivery
KILL_ROUNDS = 1  # each child takes ~2 s to start: 6 runs x 5 kill points keep each run well under a minute
CHILD_MAX_ATTEMPTS = 100  # each claim counts an attempt; crash after crash must not dead-letter a row here


def kill_schedule(rng: random.Random) -> list[tuple[str, int]]:
    """(kill point, occurrence in that child's life; milliseconds for `anywhere`) per child, shuffled."""
    schedule = [
        (point, rng.randint(1, ANYWHERE_MAX_MS) if point == "anywhere" else rng.randint(1, 3))
        for point in KILL_POINTS * KILL_ROUNDS
    ]
    rng.shuffle(schedule)
    return schedule


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm_kill_point(point: str, at: int, poster: ChatPoster) -> None:
    """In the child: SIGKILL this process at the `at`-th occurrence of `point` (see the module docstring)."""
    seen = 0

    def reached() -> None:
        nonlocal seen
        seen += 1
        if seen == at:
            _die()

    if point == "claim":
        claim_due = outbox.claim_due

        async def claiming(*args: object, **kwargs: object) -> list[outbox.ClaimedRow]:
            rows = await claim_due(*args, **kwargs)  # type: ignore[arg-type]
            if rows:
                reached()  # rows updated to `sending`, transaction not committed
            return rows

        outbox.claim_due = claiming  # type: ignore[assignment]
    elif point == "mark":
        mark_sent = outbox.mark_sent

        async def marking(*args: object, **kwargs: object) -> bool:
            marked = await mark_sent(*args, **kwargs)  # type: ignore[arg-type]
            reached()  # row updated to `sent`, transaction not committed
            return marked

        outbox.mark_sent = marking  # type: ignore[assignment]
    elif point == "pre-post":
        post = poster.post

        async def posting(*args: object, **kwargs: object) -> PostedMessage:
            reached()  # claim committed, platform not called
            return await post(*args, **kwargs)  # type: ignore[arg-type]

        poster.post = posting  # type: ignore[method-assign]
    elif point == "anywhere":
        # Timed from the child's first post, not its start: a child that starts quickly may otherwise have
        # sent everything before the timer fires, and the kill would never land.
        first_post = poster.post

        async def posting_then_dying(*args: object, **kwargs: object) -> PostedMessage:
            poster.post = first_post  # type: ignore[method-assign]
            asyncio.get_running_loop().call_later(at / 1000, _die)
            return await first_post(*args, **kwargs)  # type: ignore[arg-type]

        poster.post = posting_then_dying  # type: ignore[method-assign]


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

    async def find_posted(
        self, channel: str, idempotency_key: str, *, thread: PostedMessage | None = None
    ) -> PostedMessage | None:
        if not self._lookup:
            return None
        params = {"channel": channel, "key": idempotency_key}
        async with self._session().get(f"{self._base}/find", params=params) as response:
            if response.status == 404:
                return None
            return PostedMessage(self.platform, channel, str((await response.json())["id"]))


async def child_main(database_url: str, mode: str, chat_url: str, kill: tuple[str, int] | None) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    poster: ChatPoster
    if mode == "slack":
        from handlers.slack.runtime import build_slack_runtime

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
        max_attempts=CHILD_MAX_ATTEMPTS,
    )
    if kill is not None and kill[0] != "accepted":  # `accepted` is the platform fake's to do
        arm_kill_point(*kill, poster)
    await sender.run(asyncio.Event())  # runs until killed


class KillLedger:
    """What both chat fakes record: every accepted message in order, which child sent it, and the kills."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.accepted: list[tuple[str, int]] = []  # (idempotency key, child number), in order of acceptance
        self.child: subprocess.Popen[bytes] | None = None
        self.child_number = -1
        self.kill: tuple[str, int] | None = None  # this child's kill point
        self.kills: list[tuple[str, int]] = []  # (kill point, messages in the window at that kill)
        self.kill_of_child: dict[int, str] = {}
        self.url = ""

    def child_started(self, child: subprocess.Popen[bytes], kill: tuple[str, int] | None) -> None:
        self.child = child
        self.child_number += 1
        self.kill = kill

    def record(self, key: str) -> None:
        """The platform accepted a message; at the `accepted` kill point the sender dies before the answer."""
        self.accepted.append((key, self.child_number))
        from_child = sum(1 for _key, child in self.accepted if child == self.child_number)
        if self.kill is not None and self.kill == ("accepted", from_child) and self.child is not None:
            self.child.send_signal(signal.SIGKILL)
            self.child.wait()

    async def count_window(self) -> None:
        """After a kill, once every request the dead child had sent has been handled."""
        assert self.kill is not None
        from_child = {key for key, child in self.accepted if child == self.child_number}
        self.kills.append((self.kill[0], await _accepted_but_unmarked(self.database_url, from_child)))
        self.kill_of_child[self.child_number] = self.kill[0]

    def duplicates_by_kill_point(self) -> Counter[str]:
        """Each re-post of a key is charged to the kill point of the child whose earlier post was lost."""
        last_poster: dict[str, int] = {}
        charged: Counter[str] = Counter()
        for key, child in self.accepted:
            if key in last_poster:
                charged[self.kill_of_child.get(last_poster[key], "no kill")] += 1
            last_poster[key] = child
        return charged


class ChatFake(KillLedger):
    """Records posts in memory; can look a key up; kills the sender on its chosen post after accepting it."""

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.posts: list[dict[str, object]] = []
        self._runner: web.AppRunner | None = None

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
        self.record(str(message["key"]))
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


class SlackChatFake(KillLedger):
    """Slack variant of ChatFake: the same ledger and kill hook, on the Slack contract fake."""

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.slack = HookedSlack(message_interval=0.0)  # pacing is tested elsewhere; here only crashes matter
        for channel in CHANNELS:
            self.slack.add_channel(channel)
        self.slack.after_post = self._after_post
        self._seen: Counter[str] = Counter()

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

    async def _after_post(self) -> None:
        now = Counter(str(p["key"]) for p in self.posts)
        for key in (now - self._seen).elements():
            self.record(key)
        self._seen = now

    async def start(self) -> None:
        self.url = await self.slack.start()

    async def stop(self) -> None:
        await self.slack.stop()


async def _accepted_but_unmarked(database_url: str, accepted_from_child: set[str]) -> int:
    """Messages the killed sender got accepted whose rows it had not marked sent: the duplicate window."""
    async with session_factory(_parent_engine(database_url))() as session:
        sending = (await session.execute(select(OutboxRow.id).where(OutboxRow.state == "sending"))).scalars()
        keys = {idempotency_key(row_id) for row_id in sending}
    return len(keys & accepted_from_child)


_PARENT_ENGINES: dict[str, AsyncEngine] = {}


def _parent_engine(database_url: str) -> AsyncEngine:
    """One engine per database for the test process's many looks at the outbox (a fresh one each time made
    PostgreSQL runs slow); `_run_with_kills` disposes of it."""
    if database_url not in _PARENT_ENGINES:
        _PARENT_ENGINES[database_url] = create_engine(database_url)
    return _PARENT_ENGINES[database_url]


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
    async with session_factory(_parent_engine(database_url))() as session:
        return Counter((await session.execute(select(OutboxRow.state))).scalars())


def _start_child(
    database_url: str, mode: str, chat_url: str, kill: tuple[str, int] | None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    extra = [kill[0], str(kill[1])] if kill is not None else []
    return subprocess.Popen(
        [sys.executable, "-m", "tests.test_crash", database_url, mode, chat_url, *extra],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _run_with_kills(
    database_url: str, mode: str, schedule: list[tuple[str, int]]
) -> tuple[int, Counter[str], ChatFake | SlackChatFake]:
    chat: ChatFake | SlackChatFake
    if mode == "slack":
        expected = await _seed(database_url, "slack")
        chat = SlackChatFake(database_url)
    else:
        expected = await _seed(database_url, "console")
        chat = ChatFake(database_url)
    await chat.start()
    try:
        for restart in range(len(schedule) + 3):
            kill = schedule[restart] if restart < len(schedule) else None
            chat.child_started(_start_child(database_url, mode, chat.url, kill), kill)
            assert chat.child is not None
            # Until this child is killed or everything is sent. The deadline is generous: on a loaded
            # machine a child takes seconds to import before it sends anything; a kill that never landed
            # fails below.
            deadline = time.monotonic() + CHILD_DEADLINE_SECONDS
            while time.monotonic() < deadline:
                await asyncio.sleep(0.05)
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
    states = await _states(database_url)
    await _PARENT_ENGINES.pop(database_url).dispose()
    return expected, states, chat


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lookup", "no-lookup", "slack"])
async def test_sigkill_while_sending_loses_nothing(database_url: str, mode: str) -> None:
    lookup = mode != "no-lookup"
    seed = int(os.environ.get("WIREWATCH_CRASH_SEED") or random.SystemRandom().randrange(1_000_000))
    schedule = kill_schedule(random.Random(seed))
    expected, states, chat = await _run_with_kills(database_url, mode, schedule)

    delivered = Counter(str(p["key"]) for p in chat.posts)
    duplicates = sum(n - 1 for n in delivered.values())
    in_window: Counter[str] = Counter()
    kills: Counter[str] = Counter()
    for point, window in chat.kills:
        kills[point] += 1
        in_window[point] += window
    charged = chat.duplicates_by_kill_point()
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    lines = [
        f"  {point:9} {kills[point]} kills, {in_window[point]} accepted but unmarked, "
        f"{charged[point]} duplicates"
        for point in KILL_POINTS
    ]
    print(
        f"\ncrash test ({mode}, {backend}, seed {seed}): {expected} alerts, {len(chat.kills)} SIGKILLs, "
        f"{len(chat.posts)} posted, {duplicates} duplicates\n" + "\n".join(lines)
    )
    assert [point for point, _n in chat.kills] == [point for point, _n in schedule]  # every kill landed
    for point, window in chat.kills:
        # Killed after the platform accepted, the message is in the window. (With a lookup the marked row
        # may be one reconciled from an earlier child's post, counted at that child's kill.)
        if point == "accepted" or (point == "mark" and not lookup):
            assert window >= 1, point
    assert states == Counter({"sent": expected})  # nothing lost, nothing dead
    assert len(delivered) == expected  # every alert reached the platform
    if lookup:
        assert duplicates == 0
    else:
        # The documented window: one duplicate per message accepted but not yet marked when the sender died,
        # whatever the kill point; none from a kill before the platform accepted anything.
        assert duplicates == sum(in_window.values())
        assert charged == +in_window
    for channel in CHANNELS:  # per-channel order held across every restart
        titles = [p["title"] for p in chat.posts if p["channel"] == channel]
        first_seen = list(dict.fromkeys(titles))
        assert first_seen == [f"Story {n}" for n in range(STORIES)]


if __name__ == "__main__":
    armed = (sys.argv[4], int(sys.argv[5])) if len(sys.argv) > 5 else None
    asyncio.run(child_main(sys.argv[1], sys.argv[2], sys.argv[3], armed))
