"""A contract fake of the Slack Web API: an aiohttp server on 127.0.0.1, port 0.

The real slack_sdk / Bolt clients talk to it through `base_url` (`fake.base_url`, ending in "/api/"). It
enforces what Slack documents and the bot relies on (token checks, unknown channels, membership, Block Kit
limits, ~1 message per second per channel with HTTP 429 + Retry-After, bot scopes on file uploads) and
rejects methods it does not
know, so code that works here fails loudly instead of silently on a method we never faked. Every call is
recorded for assertions; `response_url` posts land in `responses` when they pass the same message checks
as `chat.postMessage` (Block Kit limits), and in `rejected_responses` (with `_error`, HTTP 400) when not.

`break_method(method, outage)` makes every call of a method fail one way until `mend_method`: an answer
held back (`"slow"`, released at `stop()`), HTTP 500, HTTP 429 with Retry-After, or a body that is not
Slack's JSON (an HTML error page from a proxy, or text labelled as JSON).
File uploads are Slack's v2 flow, which `files_upload_v2` drives: `files.getUploadURLExternal` (scope
`files:write`) hands out an upload URL served by this fake (`/upload/{file_id}`, raw bytes, exactly the
announced length), and `files.completeUploadExternal` (scope `files:write`, the bot a member of
`channel_id`) shares the uploaded files there; they land in `files`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_MESSAGE_TEXT = 40_000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ELEMENTS = 25
POSTING_METHODS = {"chat.postMessage"}
SLOW_SECONDS = 60.0  # how long a "slow" method holds its answer unless mended or stopped first

Outage = Literal["slow", "server_error", "rate_limited", "html_body", "garbled_json"]
OUTAGES: tuple[Outage, ...] = ("slow", "server_error", "rate_limited", "html_body", "garbled_json")


MANIFEST = Path(__file__).resolve().parent.parent.parent / "handlers" / "slack" / "manifest.yml"


def manifest_bot_scopes(text: str) -> tuple[str, ...]:
    """The `oauth_config.scopes.bot` list, read without a YAML dependency (the file's layout is ours)."""
    block = text.split("    bot:\n", 1)[1]
    scopes = []
    for line in block.splitlines():
        match = re.match(r"^      - ([a-z:.]+)", line)
        if not match:
            break
        scopes.append(match.group(1))
    return tuple(scopes)


# What an app installed from handlers/slack/manifest.yml is granted.
MANIFEST_SCOPES = manifest_bot_scopes(MANIFEST.read_text(encoding="utf-8"))
# Which scopes each faked method needs (any one of them), from the method pages on Slack's API site.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "users.info": ("users:read",),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "usergroups.users.list": ("usergroups:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}


@dataclass(slots=True)
class FakeTeam:
    team_id: str
    name: str = "Newsroom"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    scopes: tuple[str, ...] = MANIFEST_SCOPES  # granted to this token: `x-oauth-scopes`, `missing_scope`


@dataclass(slots=True)
class FakeFile:
    """A file on its way through the v2 upload flow: announced, uploaded, then shared to a channel."""

    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None  # None until the upload URL received it
    title: str | None = None
    channel: str | None = None  # None until files.completeUploadExternal shared it
    thread_ts: str | None = None
    initial_comment: str | None = None


@dataclass(slots=True)
class FakeChannel:
    channel_id: str
    name: str
    team_id: str = "T1"
    bot_is_member: bool = True
    archived: bool = False


@dataclass(slots=True)
class FakeUser:
    user_id: str
    name: str
    team_id: str = "T1"
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False


@dataclass(slots=True)
class RecordedCall:
    method: str
    params: dict[str, Any]
    token: str | None
    status: int
    ok: bool
    error: str | None = None
    basic_auth: tuple[str, str] | None = None


@dataclass(slots=True)
class ScriptedFailure:
    error: str
    status: int = 200
    retry_after: int | None = None
    after_effect: bool = False  # the call takes effect (message stored), then the answer is this failure


@dataclass(slots=True)
class FakeSlack:
    """State of the fake workspace(s); start with `await fake.start()`."""

    teams: dict[str, FakeTeam] = field(default_factory=lambda: {"xoxb-test": FakeTeam("T1")})
    channels: dict[str, FakeChannel] = field(default_factory=dict)
    users: dict[str, FakeUser] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    oauth_client_id: str = "111.222"
    oauth_client_secret: str = "client-secret"
    oauth_codes: dict[str, str] = field(default_factory=dict)  # code -> team_id to install
    message_interval: float = 1.0  # seconds between two posts to one channel before 429
    clock: Callable[[], float] = time.monotonic
    calls: list[RecordedCall] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    ephemeral: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    rejected_responses: list[dict[str, Any]] = field(default_factory=list)
    scripted: dict[str, list[ScriptedFailure]] = field(default_factory=lambda: defaultdict(list))
    app_tokens: set[str] = field(default_factory=lambda: {"xapp-test"})
    socket_acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # envelope_id -> the app's answer
    outages: dict[str, Outage] = field(default_factory=dict)  # method -> how every call of it fails
    _mended: asyncio.Event = field(default_factory=asyncio.Event)
    files: dict[str, FakeFile] = field(default_factory=dict)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _last_post: dict[str, float] = field(default_factory=dict)
    _ts_counter: int = 0
    _runner: web.AppRunner | None = None
    port: int = 0

    # --- set-up ---------------------------------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str = "", **kwargs: Any) -> FakeChannel:
        channel = FakeChannel(channel_id, name or channel_id.lower(), **kwargs)
        self.channels[channel_id] = channel
        return channel

    def add_user(self, user_id: str, name: str = "", **kwargs: Any) -> FakeUser:
        user = FakeUser(user_id, name or user_id.lower(), **kwargs)
        self.users[user_id] = user
        return user

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        after_effect: bool = False,
    ) -> None:
        """The next call of `method` fails this way (queue several for a storm).

        With `after_effect` the call is carried out first and only its answer is the failure: "store then
        5xx", Slack keeping a message while the bot sees an error (a proxy timing out, a 503 on the way back).
        """
        self.scripted[method].append(ScriptedFailure(error, status, retry_after, after_effect))

    def break_method(self, method: str, outage: Outage) -> None:
        """Every call of `method` fails this way until `mend_method(method)`."""
        self.outages[method] = outage
        self._mended.clear()

    def mend_method(self, method: str) -> None:
        """Calls of `method` are answered again; a held "slow" answer is let go (as an error)."""
        self.outages.pop(method, None)
        self._mended.set()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle_api)
        app.router.add_get("/api/{method}", self._handle_api)
        app.router.add_post("/hooks/{hook_id}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/socket", self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    async def stop(self) -> None:
        self._mended.set()  # a held "slow" answer must not keep the server from shutting down
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/"

    def response_url(self, hook_id: str = "1") -> str:
        return f"{self.root_url}/hooks/{hook_id}"

    def upload_url(self, file_id: str) -> str:
        return f"{self.root_url}/upload/{file_id}"

    # --- assertions -----------------------------------------------------------------------------------

    def shared_files(self, channel: str) -> list[FakeFile]:
        return [f for f in self.files.values() if f.channel == channel]

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def top_level(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.messages[channel] if m.get("thread_ts") in (None, m["ts"])]

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages[channel] if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]

    # --- HTTP plumbing --------------------------------------------------------------------------------

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """The upload URL: no token (the URL is the credential); raw bytes, once, of the announced size."""
        file = self.files.get(request.match_info["file_id"])
        data = await request.read()
        if file is None or file.data is not None:
            return web.Response(status=404, text="unknown or already used upload URL")
        if len(data) != file.length:
            return web.Response(status=400, text=f"expected {file.length} bytes, got {len(data)}")
        file.data = data
        return web.Response(text=f"OK - {len(data)}")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        payload = await request.json()
        payload["_hook"] = request.match_info["hook_id"]
        try:
            _check_response(payload)
        except _SlackError as error:
            self.rejected_responses.append({**payload, "_error": error.code})
            return web.Response(status=400, text=error.code)
        self.responses.append(payload)
        return web.Response(text="ok")

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then carry envelopes to the app and its acknowledgements back."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                answer = json.loads(message.data)
                envelope_id = str(answer.get("envelope_id", ""))
                self.socket_acks[envelope_id] = answer
                waiter = self._ack_waiters.pop(envelope_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(answer)
        finally:
            self._sockets.remove(socket)
        return socket

    async def socket_send(
        self, kind: str, payload: dict[str, Any], *, wait_seconds: float = 10.0
    ) -> dict[str, Any]:
        """Deliver one envelope (e.g. "slash_commands") over Socket Mode; returns the app's ack."""
        for _ in range(int(wait_seconds * 100)):
            if self._sockets:
                break
            await asyncio.sleep(0.01)
        envelope_id = f"env-{len(self.socket_acks) + len(self._ack_waiters) + 1}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._ack_waiters[envelope_id] = waiter
        await self._sockets[-1].send_json(
            {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True}
        )
        return await asyncio.wait_for(waiter, wait_seconds)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        token, basic = _credentials(request, params)
        params.pop("token", None)
        outage = self.outages.get(method)
        if outage is not None:
            call = RecordedCall(method, params, token, 0, False, outage, basic)
            self.calls.append(call)  # recorded on arrival: a client that gave up still made the call
            response = await self._outage_response(outage)
            call.status = response.status
            return response
        status, body, headers = self._dispatch(method, params, token, basic)
        self.calls.append(
            RecordedCall(method, params, token, status, bool(body.get("ok")), body.get("error"), basic)
        )
        return web.json_response(body, status=status, headers=headers)

    async def _outage_response(self, outage: Outage) -> web.Response:
        if outage == "slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._mended.wait(), SLOW_SECONDS)
            return web.json_response({"ok": False, "error": "request_timeout"}, status=504)
        if outage == "server_error":
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        if outage == "rate_limited":
            body = {"ok": False, "error": "ratelimited"}
            return web.json_response(body, status=429, headers={"Retry-After": "1"})
        if outage == "html_body":
            page = "<html><body><h1>Upstream error</h1><p>Please try again.</p></body></html>"
            return web.Response(text=page, content_type="text/html", status=200)
        # Labelled JSON but not JSON: the SDK's decoder fails on it (a proxy that rewrote the body).
        return web.Response(text="<html>upstream error</html>", content_type="application/json", status=200)

    def _dispatch(
        self, method: str, params: dict[str, Any], token: str | None, basic: tuple[str, str] | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        handler = _METHODS.get(method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        if method == "apps.connections.open":
            if token not in self.app_tokens:
                return 200, {"ok": False, "error": "invalid_auth" if token else "not_authed"}, {}
            return 200, {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}, {}
        if method != "oauth.v2.access":
            if not token:
                return 200, {"ok": False, "error": "not_authed"}, {}
            if token not in self.teams:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
        team = self.teams.get(token or "")
        # Slack names the token's scopes on every Web API answer to it, failures included.
        granted = {"x-oauth-scopes": ",".join(team.scopes)} if team is not None else {}
        needed = METHOD_SCOPES.get(method, ())
        if team is not None and needed and not set(needed) & set(team.scopes):
            body = {
                "ok": False,
                "error": "missing_scope",
                "needed": needed[0],
                "provided": ",".join(team.scopes),
            }
            return 200, body, granted
        failure = self.scripted[method].pop(0) if self.scripted[method] else None
        if failure is not None and not failure.after_effect:
            status, body, headers = self._failure(failure)
            return status, body, {**granted, **headers}
        try:
            result = handler(self, params, team, basic)
        except _SlackError as error:
            return error.status, {"ok": False, "error": error.code}, {**granted, **error.headers}
        if failure is not None:
            status, body, headers = self._failure(failure)
            return status, body, {**granted, **headers}
        return 200, {"ok": True, **result}, granted

    @staticmethod
    def _failure(failure: ScriptedFailure) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        return failure.status, {"ok": False, "error": failure.error}, headers

    # --- shared checks --------------------------------------------------------------------------------

    def _channel(self, params: dict[str, Any], team: FakeTeam | None, *, membership: bool) -> FakeChannel:
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None or (team is not None and channel.team_id != team.team_id):
            raise _SlackError("channel_not_found")
        if channel.archived:
            raise _SlackError("is_archived")
        if membership and not channel.bot_is_member:
            raise _SlackError("not_in_channel")
        return channel

    def _pace(self, channel_id: str) -> None:
        now = self.clock()
        last = self._last_post.get(channel_id)
        if last is not None and now - last < self.message_interval:
            wait = max(1, math.ceil(self.message_interval - (now - last)))
            raise _SlackError("ratelimited", status=429, headers={"Retry-After": str(wait)})
        self._last_post[channel_id] = now

    def _next_ts(self) -> str:
        self._ts_counter += 1
        return f"{int(time.time())}.{self._ts_counter:06d}"


class _SlackError(Exception):
    def __init__(self, code: str, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.headers = headers or {}


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    raw = await request.read()
    if raw:
        if (request.content_type or "").startswith("application/json"):
            params.update(json.loads(raw))
        else:
            params.update(dict(parse_qsl(raw.decode(), keep_blank_values=True)))
    for name in ("blocks", "metadata"):
        if isinstance(params.get(name), str) and params[name]:
            try:
                params[name] = json.loads(params[name])
            except json.JSONDecodeError as error:
                raise web.HTTPBadRequest(text=f"{name} is not JSON") from error
    return params


def _credentials(request: web.Request, params: dict[str, Any]) -> tuple[str | None, tuple[str, str] | None]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip(), None
    if header.startswith("Basic "):
        user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        return None, (user, password)
    token = params.get("token")
    return (str(token) if token else None), None


def _flag(value: Any) -> bool:
    return str(value).lower() in {"1", "true"}


# --- Block Kit checks (the subset of the documented limits Wirewatch's messages exercise) --------------


def _text_length(obj: Any) -> int:
    if not isinstance(obj, dict) or obj.get("type") not in {"plain_text", "mrkdwn"}:
        raise _SlackError("invalid_blocks")
    return len(str(obj.get("text", "")))


def _check_blocks(blocks: Any) -> None:
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        raise _SlackError("invalid_blocks")
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            if "text" not in block and "fields" not in block:
                raise _SlackError("invalid_blocks")
            if "text" in block and _text_length(block["text"]) > MAX_SECTION_TEXT:
                raise _SlackError("invalid_blocks")
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS or any(_text_length(f) > MAX_FIELD_TEXT for f in fields):
                raise _SlackError("invalid_blocks")
        elif kind == "header":
            text = block.get("text", {})
            if text.get("type") != "plain_text" or _text_length(text) > MAX_HEADER_TEXT:
                raise _SlackError("invalid_blocks")
        elif kind == "context":
            elements = block.get("elements", [])
            if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
                raise _SlackError("invalid_blocks")
            if any(_text_length(e) > MAX_CONTEXT_TEXT for e in elements):
                raise _SlackError("invalid_blocks")
        elif kind == "actions":
            elements = block.get("elements", [])
            if not elements or len(elements) > MAX_ACTION_ELEMENTS:
                raise _SlackError("invalid_blocks")
            for element in elements:
                if element.get("type") != "button" or _text_length(element.get("text")) > MAX_BUTTON_TEXT:
                    raise _SlackError("invalid_blocks")
                if len(str(element.get("value", ""))) > MAX_BUTTON_VALUE:
                    raise _SlackError("invalid_blocks")
        elif kind != "divider":
            raise _SlackError("invalid_blocks")


def _check_message(params: dict[str, Any]) -> None:
    text = params.get("text")
    blocks = params.get("blocks")
    if not text and not blocks:
        raise _SlackError("no_text")
    if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
        raise _SlackError("msg_too_long")
    if blocks is not None:
        _check_blocks(blocks)
    metadata = params.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise _SlackError("invalid_metadata_format")


def _check_response(payload: Any) -> None:
    """A `response_url` payload: the message checks of `chat.postMessage`, unless it only deletes."""
    if not isinstance(payload, dict):
        raise _SlackError("invalid_payload")
    if payload.get("response_type") not in (None, "ephemeral", "in_channel"):
        raise _SlackError("invalid_payload")
    if payload.get("delete_original") is True:
        return
    _check_message(payload)


# --- methods --------------------------------------------------------------------------------------------

Params = dict[str, Any]
Result = dict[str, Any]


def _auth_test(fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any) -> Result:
    assert team is not None
    return {
        "url": f"https://{team.name.lower()}.slack.test/",
        "team": team.name,
        "user": "wirewatch",
        "team_id": team.team_id,
        "user_id": team.bot_user_id,
        "bot_id": team.bot_id,
        "is_enterprise_install": False,
    }


def _chat_post_message(fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any) -> Result:
    channel = fake._channel(params, team, membership=True)
    _check_message(params)
    fake._pace(channel.channel_id)
    thread_ts = params.get("thread_ts")
    if thread_ts and not any(m["ts"] == thread_ts for m in fake.messages[channel.channel_id]):
        raise _SlackError("thread_not_found")
    assert team is not None
    message: dict[str, Any] = {
        "type": "message",
        "ts": fake._next_ts(),
        "user": team.bot_user_id,
        "bot_id": team.bot_id,
        "text": params.get("text", ""),
        "blocks": params.get("blocks", []),
        "link_names": params.get("link_names"),
    }
    if params.get("metadata") is not None:
        message["metadata"] = params["metadata"]
    if thread_ts:
        message["thread_ts"] = thread_ts
        parent = next(m for m in fake.messages[channel.channel_id] if m["ts"] == thread_ts)
        parent["thread_ts"] = thread_ts
        parent["reply_count"] = parent.get("reply_count", 0) + 1
    fake.messages[channel.channel_id].append(message)
    return {"channel": channel.channel_id, "ts": message["ts"], "message": message}


def _chat_post_ephemeral(fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any) -> Result:
    channel = fake._channel(params, team, membership=True)
    if str(params.get("user") or "") not in fake.users:
        raise _SlackError("user_not_in_channel")
    _check_message(params)
    fake.ephemeral.append({"channel": channel.channel_id, **params})
    return {"message_ts": fake._next_ts()}


def _chat_update(fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any) -> Result:
    channel = fake._channel(params, team, membership=False)
    _check_message(params)
    message = next((m for m in fake.messages[channel.channel_id] if m["ts"] == params.get("ts")), None)
    if message is None:
        raise _SlackError("message_not_found")
    assert team is not None
    if message.get("bot_id") != team.bot_id:
        raise _SlackError("cant_update_message")
    for name in ("text", "blocks", "metadata"):
        if name in params:
            message[name] = params[name]
    message["edited"] = {"user": team.bot_user_id, "ts": fake._next_ts()}
    return {"channel": channel.channel_id, "ts": message["ts"], "text": message["text"]}


def _users_info(fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any) -> Result:
    user = fake.users.get(str(params.get("user") or ""))
    if user is None:
        raise _SlackError("user_not_found")
    return {
        "user": {
            "id": user.user_id,
            "team_id": user.team_id,
            "name": user.name,
            "real_name": user.name.title(),
            "is_admin": user.is_admin,
            "is_owner": user.is_owner,
            "is_primary_owner": user.is_primary_owner,
            "is_bot": False,
        }
    }


def _conversations_info(fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any) -> Result:
    channel = fake._channel(params, team, membership=False)
    return {
        "channel": {
            "id": channel.channel_id,
            "name": channel.name,
            "is_channel": True,
            "is_member": channel.bot_is_member,
            "is_archived": channel.archived,
        }
    }


def _public_message(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    shown = {k: v for k, v in message.items() if k != "metadata" and k != "link_names"}
    if with_metadata and "metadata" in message:
        shown["metadata"] = message["metadata"]
    return shown


def _conversations_history(fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any) -> Result:
    channel = fake._channel(params, team, membership=True)
    inclusive = _flag(params.get("inclusive", "0"))
    latest = float(params["latest"]) if params.get("latest") else math.inf
    oldest = float(params["oldest"]) if params.get("oldest") else 0.0
    limit = int(params.get("limit") or 100)
    offset = int(params.get("cursor") or 0)
    with_metadata = _flag(params.get("include_all_metadata", "0"))

    def in_range(ts: float) -> bool:
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    newest_first = [m for m in reversed(fake.top_level(channel.channel_id)) if in_range(float(m["ts"]))]
    page = newest_first[offset : offset + limit]
    more = offset + limit < len(newest_first)
    return {
        "messages": [_public_message(m, with_metadata) for m in page],
        "has_more": more,
        "response_metadata": {"next_cursor": str(offset + limit) if more else ""},
    }


def _conversations_replies(fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any) -> Result:
    channel = fake._channel(params, team, membership=True)
    ts = str(params.get("ts") or "")
    parent = next((m for m in fake.messages[channel.channel_id] if m["ts"] == ts), None)
    if parent is None:
        raise _SlackError("thread_not_found")
    with_metadata = _flag(params.get("include_all_metadata", "0"))
    thread = [parent, *fake.replies(channel.channel_id, ts)]
    return {"messages": [_public_message(m, with_metadata) for m in thread], "has_more": False}


def _files_get_upload_url_external(
    fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any
) -> Result:
    filename = str(params.get("filename") or "")
    try:
        length = int(params.get("length") or 0)
    except ValueError:
        length = 0
    if not filename or length <= 0:
        raise _SlackError("invalid_arguments")
    file_id = f"F{len(fake.files) + 1:08d}"
    fake.files[file_id] = FakeFile(file_id, filename, length, alt_txt=params.get("alt_txt"))
    return {"upload_url": fake.upload_url(file_id), "file_id": file_id}


def _files_complete_upload_external(
    fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any
) -> Result:
    try:
        items = json.loads(str(params.get("files") or ""))
    except json.JSONDecodeError as error:
        raise _SlackError("invalid_arguments") from error
    files = [fake.files.get(str(item.get("id"))) for item in items if isinstance(item, dict)]
    if not files or any(f is None or f.data is None for f in files):
        raise _SlackError("file_not_found")
    channel_id = params.get("channel_id")
    channel = fake._channel({"channel": channel_id}, team, membership=True) if channel_id else None
    shared = []
    for item, file in zip(items, files, strict=True):
        assert file is not None
        file.title = item.get("title") or file.filename
        if channel is not None:
            file.channel = channel.channel_id
            file.thread_ts = params.get("thread_ts")
            file.initial_comment = params.get("initial_comment")
        shared.append({"id": file.file_id, "name": file.filename, "title": file.title})
    return {"files": shared}


def _usergroups_users_list(fake: FakeSlack, params: Params, team: FakeTeam | None, _basic: Any) -> Result:
    group = str(params.get("usergroup") or "")
    if group not in fake.usergroups:
        raise _SlackError("no_such_subteam")
    return {"users": list(fake.usergroups[group])}


def _oauth_v2_access(
    fake: FakeSlack, params: Params, team: FakeTeam | None, basic: tuple[str, str] | None
) -> Result:
    client_id, secret = basic or (str(params.get("client_id", "")), str(params.get("client_secret", "")))
    if client_id != fake.oauth_client_id:
        raise _SlackError("invalid_client_id")
    if secret != fake.oauth_client_secret:
        raise _SlackError("bad_client_secret")
    team_id = fake.oauth_codes.pop(str(params.get("code") or ""), None)
    if team_id is None:
        raise _SlackError("invalid_code")
    token = f"xoxb-team-{team_id}"
    installed = FakeTeam(team_id, name=f"Team {team_id}", bot_user_id=f"UBOT{team_id}", bot_id=f"B{team_id}")
    fake.teams[token] = installed
    return {
        "access_token": token,
        "token_type": "bot",
        "scope": "commands,chat:write",
        "bot_user_id": installed.bot_user_id,
        "app_id": "A0WIREWATCH",
        "team": {"id": team_id, "name": installed.name},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {"id": "UINSTALLER"},
    }


_METHODS: dict[str, Callable[[FakeSlack, Params, FakeTeam | None, Any], Result]] = {
    "apps.connections.open": lambda fake, params, team, basic: {},  # answered in _dispatch (app token)
    "auth.test": _auth_test,
    "chat.postMessage": _chat_post_message,
    "chat.postEphemeral": _chat_post_ephemeral,
    "chat.update": _chat_update,
    "users.info": _users_info,
    "conversations.info": _conversations_info,
    "conversations.history": _conversations_history,
    "conversations.replies": _conversations_replies,
    "usergroups.users.list": _usergroups_users_list,
    "files.getUploadURLExternal": _files_get_upload_url_external,
    "files.completeUploadExternal": _files_complete_upload_external,
    "oauth.v2.access": _oauth_v2_access,
}


# --- requests as Slack sends them to the app --------------------------------------------------------------


def signed_headers(secret: str, body: str, *, timestamp: int | None = None) -> dict[str, str]:
    """`X-Slack-Signature` v0: HMAC-SHA256 of "v0:{timestamp}:{body}" with the signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_body(
    text: str, *, response_url: str, user_id: str = "U1", channel_id: str = "C1", team_id: str = "T1"
) -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "newsroom",
            "channel_id": channel_id,
            "channel_name": "border-desk",
            "user_id": user_id,
            "user_name": f"user-{user_id.lower()}",
            "command": "/news",
            "text": text,
            "api_app_id": "A0WIREWATCH",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def block_actions_body(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user_id: str = "U1",
    channel_id: str = "C1",
    team_id: str = "T1",
    message_ts: str = "1700000000.000001",
) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "newsroom"},
        "user": {"id": user_id, "username": f"user-{user_id.lower()}", "team_id": team_id},
        "api_app_id": "A0WIREWATCH",
        "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id},
        "trigger_id": "1.2.3",
        "channel": {"id": channel_id, "name": "border-desk"},
        "message": {"type": "message", "ts": message_ts, "text": "alert"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "text": {"type": "plain_text", "text": "button"},
                "action_ts": "1700000001.000002",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})
