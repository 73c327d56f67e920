"""A local contract fake of the Discord REST API (v10), for the real discord.py HTTP client.

It enforces what Discord documents and what discord.py depends on, so a test that passes here exercises the
same code paths as production:
- `Authorization: Bot <token>` on bot routes (401 otherwise); interaction callbacks and webhooks authenticate
  by the token in the URL, as on Discord.
- unknown channel: 404 code 10003; missing permissions: 403 code 50013 (50001 "Missing Access" when the bot
  cannot even see the channel: `GET /channels/{id}`, reading history);
- message limits: content 2,000, 10 embeds, title 256, description 4,096, 25 fields (name 256, value 1,024),
  footer 2,048, author 256, 6,000 in total: 400 code 50035 with per-field error detail;
- rate limits scripted per route: 429 with a JSON `retry_after`, `Retry-After`, `X-RateLimit-*` and `Via`
  (discord.py treats a 429 without `Via` as a Cloudflare ban and does not retry);
- `nonce` + `enforce_nonce`: a second create with the same nonce returns the first message, creates nothing;
- interaction deadlines: the first response (callback) must arrive within 3 s of the INTERACTION_CREATE the
  fake gateway emitted, else 404 code 10062 "Unknown interaction"; the token then serves follow-ups and
  edits for 15 minutes, after which 401 code 50027 "Invalid Webhook Token". Both windows are attributes
  (`response_deadline`, `followup_window`) a test may shorten; the default is Discord's;
- JSON answers with `Content-Type` exactly `application/json` (discord.py decodes nothing else);
- guilds and members for `fetch_guild` / `fetch_member` (`add_guild`, `add_member`; 404 10004 / 10007);
- outages per route until mended (`break_route`): an answer held back ("slow", let go at `close()`), HTTP 500,
  HTTP 429 on every try, or an HTML page with HTTP 200.
- files: a message with attachments arrives as `multipart/form-data`, its JSON in the `payload_json` part and
  file n in the part `files[n]`, which must be announced in the payload's `attachments` with `id` n (400
  50035 otherwise); the message's `attachments` then list them, and `attachment_data` keeps their bytes.

Everything received is recorded in `calls` (with the status answered); messages live in
`messages[channel_id]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Literal

from aiohttp import web

BOT_TOKEN = "fake.discord.bot-token"
APPLICATION_ID = 555000000000000555
BOT_USER_ID = 555000000000000556
DISCORD_EPOCH_MS = 1_420_070_400_000
NONCE_WINDOW_SECONDS = 300.0  # Discord: "checked for uniqueness in the past few minutes"
EPHEMERAL_FLAG = 1 << 6
RESPONSE_DEADLINE_SECONDS = 3.0  # Discord: "you must send an initial response within 3 seconds"
FOLLOWUP_WINDOW_SECONDS = 15 * 60.0  # Discord: "interaction tokens are valid for 15 minutes"

CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_LIMITS = {"title": 256, "description": 4096, "footer": 2048, "author": 256}
FIELDS_PER_EMBED = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
EMBED_TOTAL_LIMIT = 6000
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
SLOW_SECONDS = 60.0  # how long a "slow" route holds its answer unless mended or closed first
Outage = Literal["slow", "server_error", "rate_limited", "html_body"]
OUTAGES: tuple[Outage, ...] = ("slow", "server_error", "rate_limited", "html_body")
REQUEST_BODY = web.RequestKey("request_body", object)  # the decoded JSON body, read once by the recorder
REQUEST_FILES = web.RequestKey("request_files", list)  # the `files[n]` parts of a multipart body


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with the exact Content-Type discord.py's `json_or_text` decodes (no `; charset=`)."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(payload).encode(), status=status, headers=all_headers)


def error_response(
    status: int, code: int, message: str, errors: dict[str, Any] | None = None
) -> web.Response:
    payload: dict[str, Any] = {"code": code, "message": message}
    if errors:
        payload["errors"] = errors
    return json_response(payload, status)


@dataclass(slots=True)
class RecordedCall:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0  # what the fake answered (0 while the request is being handled)
    files: list[UploadedFile] = field(default_factory=list)


@dataclass(slots=True)
class UploadedFile:
    """One `files[n]` part of a multipart request."""

    index: int
    filename: str
    content_type: str
    data: bytes


def parse_multipart(content_type: str, raw: bytes) -> tuple[Any, list[UploadedFile]]:
    """The `payload_json` part (decoded) and the `files[n]` parts of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    payload: Any = None
    files: list[UploadedFile] = []
    for part in message.iter_parts() if isinstance(message, Message) and message.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "payload_json":
            payload = json.loads(data)
        elif isinstance(name, str) and (match := re.fullmatch(r"files\[(\d+)\]", name)):
            files.append(
                UploadedFile(int(match.group(1)), part.get_filename() or "", part.get_content_type(), data)
            )
    return payload, files


@dataclass(slots=True)
class FakeChannel:
    id: int
    guild_id: int | None = None
    name: str = "newsroom"
    can_send: bool = True  # False: no permissions here: 403 50013 on send, 50001 on reading history


@dataclass(slots=True)
class ScriptedRateLimit:
    route: str  # "POST /channels/{channel_id}/messages" style key, matched on the concrete method + path
    remaining: int
    retry_after: float
    is_global: bool


@dataclass(slots=True)
class FakeInteraction:
    """An interaction the fake gateway delivered; its token authorises the callback and the follow-ups."""

    id: int
    token: str
    channel_id: int
    guild_id: int | None
    created: float = field(default_factory=time.monotonic)  # when INTERACTION_CREATE went out
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # accepted initial responses
    followups: list[dict[str, Any]] = field(default_factory=list)  # messages created by follow-ups
    edits: list[dict[str, Any]] = field(default_factory=list)  # bodies of edits to the original response
    original: dict[str, Any] | None = None
    late: list[dict[str, Any]] = field(default_factory=list)  # callbacks refused: past the 3-second deadline

    def age(self) -> float:
        return time.monotonic() - self.created


def _snowflakes() -> itertools.count[int]:
    start = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
    return itertools.count(start, 1 << 12)


def _embed_errors(embed: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Discord's embed checks: per-field errors and the counted length (the 6,000 budget)."""
    errors: dict[str, Any] = {}
    total = 0
    for key in ("title", "description"):
        text = embed.get(key) or ""
        total += len(text)
        if len(text) > EMBED_LIMITS[key]:
            errors[key] = _too_long(EMBED_LIMITS[key])
    for key, inner in (("footer", "text"), ("author", "name")):
        text = (embed.get(key) or {}).get(inner) or ""
        total += len(text)
        if len(text) > EMBED_LIMITS[key]:
            errors[key] = {inner: _too_long(EMBED_LIMITS[key])}
    fields = embed.get("fields") or []
    if len(fields) > FIELDS_PER_EMBED:
        errors["fields"] = _too_long(FIELDS_PER_EMBED)
    field_errors: dict[str, Any] = {}
    for index, item in enumerate(fields):
        name, value = item.get("name") or "", item.get("value") or ""
        total += len(name) + len(value)
        problems: dict[str, Any] = {}
        if not name:
            problems["name"] = _required()
        elif len(name) > FIELD_NAME_LIMIT:
            problems["name"] = _too_long(FIELD_NAME_LIMIT)
        if not value:
            problems["value"] = _required()
        elif len(value) > FIELD_VALUE_LIMIT:
            problems["value"] = _too_long(FIELD_VALUE_LIMIT)
        if problems:
            field_errors[str(index)] = problems
    if field_errors and "fields" not in errors:
        errors["fields"] = field_errors
    colour = embed.get("color")
    if colour is not None and not 0 <= int(colour) <= 0xFFFFFF:
        errors["color"] = {
            "_errors": [{"code": "NUMBER_TYPE_MAX", "message": "int value should be <= 16777215."}]
        }
    return errors, total


def _too_long(limit: int) -> dict[str, Any]:
    return {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}]}


def _required() -> dict[str, Any]:
    return {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]}


def message_errors(body: dict[str, Any]) -> dict[str, Any]:
    """Every documented size check on a message body; empty when Discord would accept it."""
    errors: dict[str, Any] = {}
    content = body.get("content") or ""
    if len(content) > CONTENT_LIMIT:
        errors["content"] = _too_long(CONTENT_LIMIT)
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        errors["embeds"] = _too_long(EMBEDS_PER_MESSAGE)
        return errors
    embed_errors: dict[str, Any] = {}
    total = 0
    for index, embed in enumerate(embeds):
        problems, length = _embed_errors(embed)
        total += length
        if problems:
            embed_errors[str(index)] = problems
    if embed_errors:
        errors["embeds"] = embed_errors
    elif total > EMBED_TOTAL_LIMIT:
        errors["embeds"] = {
            "_errors": [
                {"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}
            ]
        }
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        errors["nonce"] = _too_long(25)
    return errors


def would_ping(body: dict[str, Any]) -> list[str]:
    """Mentions in `content` that Discord would turn into notifications under `allowed_mentions`.

    Embeds never notify; content does unless `allowed_mentions` filters it (its absence means "parse all").
    """
    content = body.get("content") or ""
    allowed = body.get("allowed_mentions")
    parse = {"everyone", "users", "roles"} if allowed is None else set(allowed.get("parse") or [])
    users = {str(u) for u in (allowed or {}).get("users") or []}
    roles = {str(r) for r in (allowed or {}).get("roles") or []}
    pings: list[str] = []
    if "everyone" in parse:
        pings += re.findall(r"@(?:everyone|here)", content)
    for user in re.findall(r"<@!?(\d+)>", content):
        if "users" in parse or user in users:
            pings.append(f"<@{user}>")
    for role in re.findall(r"<@&(\d+)>", content):
        if "roles" in parse or role in roles:
            pings.append(f"<@&{role}>")
    return pings


class FakeDiscordAPI:
    """The REST side of Discord on 127.0.0.1, port 0. Use `async with FakeDiscordAPI() as api:`."""

    def __init__(
        self,
        *,
        token: str = BOT_TOKEN,
        gateway_url: str | None = None,
        response_deadline: float = RESPONSE_DEADLINE_SECONDS,
        followup_window: float = FOLLOWUP_WINDOW_SECONDS,
    ) -> None:
        self.token = token
        self.gateway_url = gateway_url
        self.response_deadline = response_deadline
        self.followup_window = followup_window
        self.application_id = APPLICATION_ID
        self.bot_user = {
            "id": str(BOT_USER_ID),
            "username": "wirewatch",
            "discriminator": "0",
            "global_name": "Wirewatch",
            "avatar": None,
            "bot": True,
            "flags": 0,
            "verified": True,
            "mfa_enabled": False,
        }
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self.interactions: dict[str, FakeInteraction] = {}  # by token
        self.attachment_data: dict[str, bytes] = {}  # attachment id -> the bytes uploaded
        self.calls: list[RecordedCall] = []
        self.threads: list[dict[str, Any]] = []
        self._rate_limits: list[ScriptedRateLimit] = []
        self.guilds: dict[int, dict[str, Any]] = {}  # REST guild objects, roles included
        self.members: dict[tuple[int, int], dict[str, Any]] = {}
        self.outages: dict[str, Outage] = {}  # "GET /guilds/1/members/2" -> how every request fails
        self._mended = asyncio.Event()
        self._nonces: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
        self._ids = _snowflakes()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- test control -----------------------------------------------------------------------------------
    def add_channel(
        self, channel_id: int, *, guild_id: int | None = None, can_send: bool = True
    ) -> FakeChannel:
        channel = FakeChannel(channel_id, guild_id, can_send=can_send)
        self.channels[channel_id] = channel
        return channel

    def rate_limit(
        self, method: str, path: str, *, times: int = 1, retry_after: float = 0.05, is_global: bool = False
    ) -> None:
        """The next `times` requests to `method path` (e.g. "POST", "/channels/42/messages") get a 429."""
        self._rate_limits.append(ScriptedRateLimit(f"{method} {path}", times, retry_after, is_global))

    def add_guild(self, guild: dict[str, Any]) -> None:
        """A guild as `GET /guilds/{id}` returns it (a GUILD_CREATE payload will do)."""
        self.guilds[int(guild["id"])] = guild

    def add_member(self, guild_id: int, user_id: int, role_ids: tuple[int, ...] = ()) -> None:
        self.members[(guild_id, user_id)] = {
            "user": {
                "id": str(user_id),
                "username": f"member{user_id % 1000}",
                "discriminator": "0",
                "global_name": None,
                "avatar": None,
                "public_flags": 0,
            },
            "nick": None,
            "avatar": None,
            "roles": [str(r) for r in role_ids],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }

    def break_route(self, method: str, path: str, outage: Outage) -> None:
        """Every `method path` request (e.g. "GET", "/guilds/1/members/2") fails this way until mended."""
        self.outages[f"{method} {path}"] = outage
        self._mended.clear()

    def mend_route(self, method: str, path: str) -> None:
        self.outages.pop(f"{method} {path}", None)
        self._mended.set()

    def register_interaction(
        self, interaction_id: int, token: str, channel_id: int, guild_id: int | None
    ) -> FakeInteraction:
        """Authorise `token` from now on: the deadlines count from this call (the gateway's dispatch)."""
        interaction = FakeInteraction(interaction_id, token, channel_id, guild_id)
        self.interactions[token] = interaction
        return interaction

    def next_id(self) -> int:
        return next(self._ids)

    def calls_to(self, method: str, pattern: str) -> list[RecordedCall]:
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    # --- lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> FakeDiscordAPI:
        app = web.Application(middlewares=[self._record, self._rate_limiter, self._outage])
        routes = [
            web.get("/api/v10/users/@me", self._me),
            web.get("/api/v10/oauth2/applications/@me", self._application),
            web.get("/api/v10/gateway", self._gateway),
            web.get("/api/v10/gateway/bot", self._gateway_bot),
            web.get("/api/v10/guilds/{guild}", self._guild),
            web.get("/api/v10/guilds/{guild}/members/{user}", self._member),
            web.put("/api/v10/applications/{app}/commands", self._bulk_commands),
            web.put("/api/v10/applications/{app}/guilds/{guild}/commands", self._bulk_commands),
            web.get("/api/v10/channels/{channel}", self._get_channel),
            web.get("/api/v10/channels/{channel}/messages", self._list_messages),
            web.post("/api/v10/channels/{channel}/messages", self._create_message),
            web.patch("/api/v10/channels/{channel}/messages/{message}", self._edit_message),
            web.post("/api/v10/channels/{channel}/messages/{message}/threads", self._create_thread),
            web.post("/api/v10/interactions/{interaction}/{token}/callback", self._interaction_callback),
            web.post("/api/v10/webhooks/{app}/{token}", self._followup),
            web.patch("/api/v10/webhooks/{app}/{token}/messages/{message}", self._edit_followup),
        ]
        app.add_routes(routes)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        self._mended.set()  # a held "slow" answer must not keep the server from shutting down
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscordAPI:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # --- middlewares ------------------------------------------------------------------------------------
    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        files: list[UploadedFile] = []
        if raw and request.content_type == "multipart/form-data":
            body, files = parse_multipart(request.headers["Content-Type"], raw)
        elif raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        path = request.path.removeprefix("/api/v10")
        headers = dict(request.headers)
        call = RecordedCall(request.method, path, dict(request.query), headers, body, files=files)
        self.calls.append(call)
        request[REQUEST_BODY] = body
        request[REQUEST_FILES] = files
        bot_route = not path.startswith(("/interactions/", "/webhooks/"))
        response: web.StreamResponse
        if bot_route and request.headers.get("Authorization") != f"Bot {self.token}":
            response = error_response(401, 0, "401: Unauthorized")
        else:
            response = await handler(request)
        call.status = response.status
        return response

    @web.middleware
    async def _rate_limiter(self, request: web.Request, handler: Any) -> web.StreamResponse:
        key = f"{request.method} {request.path.removeprefix('/api/v10')}"
        for scripted in self._rate_limits:
            if scripted.route == key and scripted.remaining > 0:
                scripted.remaining -= 1
                return self._too_many_requests(scripted)
        return await handler(request)

    @web.middleware
    async def _outage(self, request: web.Request, handler: Any) -> web.StreamResponse:
        outage = self.outages.get(f"{request.method} {request.path.removeprefix('/api/v10')}")
        if outage is None:
            return await handler(request)
        if outage == "slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._mended.wait(), SLOW_SECONDS)
            return error_response(504, 0, "504: Gateway Timeout")
        if outage == "server_error":
            return error_response(500, 0, "500: Internal Server Error")
        if outage == "rate_limited":
            return self._too_many_requests(ScriptedRateLimit("", 1, 0.05, False))
        page = "<html><body><h1>502 Bad Gateway</h1></body></html>"  # a proxy's page, with a 200
        return web.Response(text=page, content_type="text/html", status=200)

    @staticmethod
    def _too_many_requests(scripted: ScriptedRateLimit) -> web.Response:
        headers = {
            "Retry-After": str(max(1, round(scripted.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + scripted.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{scripted.retry_after:.3f}",
            "X-RateLimit-Bucket": "fake-bucket-" + scripted.route.replace(" ", "-"),
            "X-RateLimit-Scope": "global" if scripted.is_global else "user",
            "Via": "1.1 google",
        }
        if scripted.is_global:
            headers["X-RateLimit-Global"] = "true"
        payload = {
            "message": "You are being rate limited.",
            "retry_after": scripted.retry_after,
            "global": scripted.is_global,
        }
        return json_response(payload, 429, headers)

    # --- identity ---------------------------------------------------------------------------------------
    async def _me(self, _request: web.Request) -> web.Response:
        return json_response(self.bot_user)

    async def _application(self, _request: web.Request) -> web.Response:
        return json_response(
            {
                "id": str(self.application_id),
                "name": "Wirewatch",
                "description": "Newsroom alerts",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": {**self.bot_user, "id": "555000000000000999", "username": "owner", "bot": False},
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "interactions_endpoint_url": None,
            }
        )

    async def _guild(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(int(request.match_info["guild"]))
        if guild is None:
            return error_response(404, 10004, "Unknown Guild")
        return json_response(guild)

    async def _member(self, request: web.Request) -> web.Response:
        key = (int(request.match_info["guild"]), int(request.match_info["user"]))
        member = self.members.get(key)
        if member is None:
            return error_response(404, 10007, "Unknown Member")
        return json_response(member)

    async def _gateway(self, _request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url or "wss://gateway.invalid"})

    async def _gateway_bot(self, _request: web.Request) -> web.Response:
        limits = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return json_response(
            {"url": self.gateway_url or "wss://gateway.invalid", "shards": 1, "session_start_limit": limits}
        )

    # --- application commands ---------------------------------------------------------------------------
    async def _bulk_commands(self, request: web.Request) -> web.Response:
        if int(request.match_info["app"]) != self.application_id:
            return error_response(403, 50001, "Missing Access")
        guild = request.match_info.get("guild")
        body = request[REQUEST_BODY]
        if not isinstance(body, list):
            return error_response(400, 50035, "Invalid Form Body")
        problems = {str(i): self._command_errors(c) for i, c in enumerate(body) if self._command_errors(c)}
        if problems:
            return error_response(400, 50035, "Invalid Form Body", problems)
        stored = []
        for command in body:
            stored.append(
                {
                    **command,
                    "id": str(self.next_id()),
                    "application_id": str(self.application_id),
                    "version": str(self.next_id()),
                    "guild_id": guild,
                }
            )
        self.commands[int(guild) if guild else None] = stored
        return json_response(stored)

    def _command_errors(self, command: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        if not COMMAND_NAME.match(command.get("name", "")) or command["name"] != command["name"].lower():
            errors["name"] = {"_errors": [{"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Invalid"}]}
        description = command.get("description", "")
        if command.get("type", 1) == 1 and not 1 <= len(description) <= 100:
            errors["description"] = _too_long(100)
        options = command.get("options") or []
        if len(options) > 25:
            errors["options"] = _too_long(25)
        for index, option in enumerate(options):
            inner = self._command_errors({**option, "type": 1})
            if len(option.get("choices") or []) > 25:
                inner["choices"] = _too_long(25)
            if inner:
                errors.setdefault("options", {})[str(index)] = inner
        return errors

    # --- messages ---------------------------------------------------------------------------------------
    def _channel_or_error(self, request: web.Request) -> FakeChannel | web.Response:
        channel = self.channels.get(int(request.match_info["channel"]))
        if channel is None:
            return error_response(404, 10003, "Unknown Channel")
        return channel

    def _attachments(self, body: dict[str, Any], files: list[UploadedFile]) -> list[dict[str, Any]] | None:
        """The message's attachments for these uploaded parts; None when a part is not announced in the
        payload's `attachments` (Discord answers 400 then)."""
        announced = {int(a["id"]): a for a in body.get("attachments") or [] if str(a.get("id", "")).isdigit()}
        attachments = []
        for file in files:
            meta = announced.get(file.index)
            if meta is None:
                return None
            attachment_id = str(self.next_id())
            self.attachment_data[attachment_id] = file.data
            attachments.append(
                {
                    "id": attachment_id,
                    "filename": meta.get("filename") or file.filename,
                    "description": meta.get("description"),
                    "content_type": file.content_type,
                    "size": len(file.data),
                    "url": f"https://cdn.discordapp.com/attachments/0/{attachment_id}/{file.filename}",
                    "proxy_url": f"https://media.discordapp.net/attachments/0/{attachment_id}/{file.filename}",
                }
            )
        return attachments

    def _message(
        self,
        channel_id: int,
        body: dict[str, Any],
        *,
        author: dict[str, Any],
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        message_id = self.next_id()
        message = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "type": 19 if body.get("message_reference") else 0,
            "author": author,
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "attachments": attachments or [],
            "components": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "flags": int(body.get("flags") or 0),
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "allowed_mentions": body.get("allowed_mentions"),
            "would_ping": would_ping(body),
        }
        # Absent, not null, when unset: discord.py reads these keys only when present.
        for key in ("nonce", "message_reference"):
            if body.get(key) is not None:
                message[key] = body[key]
        return message

    async def _get_channel(self, request: web.Request) -> web.Response:
        """A guild text channel (type 0); 403 50001 when the bot cannot see it, as Discord answers."""
        channel = self._channel_or_error(request)
        if isinstance(channel, web.Response):
            return channel
        if not channel.can_send:
            return error_response(403, 50001, "Missing Access")
        payload: dict[str, Any] = {"id": str(channel.id), "type": 0, "name": channel.name, "position": 0}
        if channel.guild_id is not None:
            payload["guild_id"] = str(channel.guild_id)
        return json_response(payload)

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel_or_error(request)
        if isinstance(channel, web.Response):
            return channel
        if not channel.can_send:
            return error_response(403, 50001, "Missing Access")
        limit = min(int(request.query.get("limit", "50")), 100)
        newest_first = list(reversed(self.messages[channel.id]))[:limit]
        # Discord does not return a message's nonce when listing history.
        return json_response([{k: v for k, v in m.items() if k != "nonce"} for m in newest_first])

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = self._channel_or_error(request)
        if isinstance(channel, web.Response):
            return channel
        if not channel.can_send:
            return error_response(403, 50013, "Missing Permissions")
        body = request[REQUEST_BODY]
        if not isinstance(body, dict):
            return error_response(400, 50035, "Invalid Form Body")
        attachments = self._attachments(body, request[REQUEST_FILES])
        if attachments is None:
            return error_response(400, 50035, "Invalid Form Body", {"attachments": _required()})
        if not (body.get("content") or body.get("embeds") or attachments):
            return error_response(400, 50006, "Cannot send an empty message")
        errors = message_errors(body)
        if errors:
            return error_response(400, 50035, "Invalid Form Body", errors)
        reference = body.get("message_reference")
        if reference is not None:
            known = {m["id"] for m in self.messages[channel.id]}
            if str(reference.get("message_id")) not in known and reference.get("fail_if_not_exists", True):
                refs = {
                    "message_reference": {
                        "_errors": [{"code": "REPLIES_UNKNOWN_MESSAGE", "message": "Unknown"}]
                    }
                }
                return error_response(400, 50035, "Invalid Form Body", refs)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel.id, str(nonce)))
            if seen is not None and time.monotonic() - seen[0] < NONCE_WINDOW_SECONDS:
                return json_response(seen[1])
        message = self._message(channel.id, body, author=self.bot_user, attachments=attachments)
        self.messages[channel.id].append(message)
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(channel.id, str(nonce))] = (time.monotonic(), message)
        return json_response(message)

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel_or_error(request)
        if isinstance(channel, web.Response):
            return channel
        for message in self.messages[channel.id]:
            if message["id"] == request.match_info["message"]:
                errors = message_errors(request[REQUEST_BODY] or {})
                if errors:
                    return error_response(400, 50035, "Invalid Form Body", errors)
                message.update(
                    {k: v for k, v in (request[REQUEST_BODY] or {}).items() if k in ("content", "embeds")}
                )
                message["edited_timestamp"] = datetime.now(UTC).isoformat()
                return json_response(message)
        return error_response(404, 10008, "Unknown Message")

    async def _create_thread(self, request: web.Request) -> web.Response:
        channel = self._channel_or_error(request)
        if isinstance(channel, web.Response):
            return channel
        if not any(m["id"] == request.match_info["message"] for m in self.messages[channel.id]):
            return error_response(404, 10008, "Unknown Message")
        name = (request[REQUEST_BODY] or {}).get("name") or ""
        if not 1 <= len(name) <= 100:
            return error_response(400, 50035, "Invalid Form Body", {"name": _too_long(100)})
        thread = {
            "id": request.match_info["message"],  # Discord reuses the starter message's id
            "type": 11,
            "guild_id": str(channel.guild_id) if channel.guild_id else None,
            "parent_id": str(channel.id),
            "name": name,
            "owner_id": self.bot_user["id"],
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False},
        }
        self.threads.append(thread)
        self.add_channel(int(thread["id"]), guild_id=channel.guild_id)
        return json_response(thread, 201)

    # --- interactions -----------------------------------------------------------------------------------
    async def _interaction_callback(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["token"])
        if interaction is None or str(interaction.id) != request.match_info["interaction"]:
            return error_response(404, 10062, "Unknown interaction")
        if interaction.callbacks:
            return error_response(400, 40060, "Interaction has already been acknowledged.")
        body = request[REQUEST_BODY] or {}
        if interaction.age() > self.response_deadline:
            # Not acknowledged in time: Discord has already shown "The application did not respond"
            # and forgotten the interaction.
            interaction.late.append(body)
            return error_response(404, 10062, "Unknown interaction")
        data = body.get("data") or {}
        errors = message_errors(data)
        if errors:
            return error_response(400, 50035, "Invalid Form Body", {"data": errors})
        if body.get("type") == 8 and len(data.get("choices") or []) > 25:
            return error_response(400, 50035, "Invalid Form Body", {"data": {"choices": _too_long(25)}})
        attachments = self._attachments(data, request[REQUEST_FILES])
        if attachments is None:
            return error_response(400, 50035, "Invalid Form Body", {"data": {"attachments": _required()}})
        interaction.callbacks.append(body)
        callback_type = int(body.get("type", 0))
        flags = int(data.get("flags") or 0)
        result: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": 2,
                "response_message_loading": callback_type == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL_FLAG),
            }
        }
        if callback_type in (4, 5):
            message = self._message(
                interaction.channel_id, data, author=self.bot_user, attachments=attachments
            )
            interaction.original = message
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": callback_type, "message": message}
        return json_response(result)

    def _expired(self, interaction: FakeInteraction) -> web.Response | None:
        if interaction.age() > self.followup_window:
            return error_response(401, 50027, "Invalid Webhook Token")
        return None

    async def _followup(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["token"])
        if interaction is None or int(request.match_info["app"]) != self.application_id:
            return error_response(404, 10015, "Unknown Webhook")
        expired = self._expired(interaction)
        if expired is not None:
            return expired
        if not interaction.callbacks:
            return error_response(400, 40060, "Interaction has not been acknowledged.")
        body = request[REQUEST_BODY] or {}
        errors = message_errors(body)
        if errors:
            return error_response(400, 50035, "Invalid Form Body", errors)
        attachments = self._attachments(body, request[REQUEST_FILES])
        if attachments is None:
            return error_response(400, 50035, "Invalid Form Body", {"attachments": _required()})
        message = self._message(interaction.channel_id, body, author=self.bot_user, attachments=attachments)
        interaction.followups.append(message)
        return json_response(message)

    async def _edit_followup(self, request: web.Request) -> web.Response:
        interaction = self.interactions.get(request.match_info["token"])
        if interaction is None or interaction.original is None:
            return error_response(404, 10008, "Unknown Message")
        expired = self._expired(interaction)
        if expired is not None:
            return expired
        body = request[REQUEST_BODY] or {}
        errors = message_errors(body)
        if errors:
            return error_response(400, 50035, "Invalid Form Body", errors)
        interaction.original.update({k: v for k, v in body.items() if k in ("content", "embeds")})
        interaction.edits.append(body)
        return json_response(interaction.original)
