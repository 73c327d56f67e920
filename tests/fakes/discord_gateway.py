"""A local fake of the Discord gateway (v10, JSON, uncompressed frames) so the real discord.py client runs.

Protocol, as documented: on connect HELLO (op 10); the client IDENTIFYs (op 2) → READY (with `application`)
then, when the GUILDS intent is on, one GUILD_CREATE per guild; heartbeats (op 1) get ACKs (op 11); RESUME
(op 6) → RESUMED. Tests then push INTERACTION_CREATE events built from Discord's documented payloads with
`send_interaction(...)`, which also starts the interaction's response deadline at the REST fake,
and read the answers at the REST fake's interaction callback.

Payload builders live here too: `guild_payload`, `command_interaction`, `autocomplete_interaction`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_api import FakeDiscordAPI

HELLO, IDENTIFY, HEARTBEAT, HEARTBEAT_ACK, RESUME, DISPATCH = 10, 2, 1, 11, 6, 0
GUILDS_INTENT = 1 << 0
AUTHENTICATION_FAILED = 4004
MANAGE_CHANNELS = 1 << 4
SEND_MESSAGES = 1 << 11
VIEW_CHANNEL = 1 << 10
READER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES
OPTION_TYPES = {str: 3, int: 4, bool: 5, float: 10}


@dataclass(frozen=True, slots=True)
class FakeGuild:
    id: int
    channel_id: int
    editor_role_id: int
    editor_role_name: str = "Editors"
    name: str = "Newsroom"


def guild_payload(guild: FakeGuild) -> dict[str, Any]:
    """A GUILD_CREATE payload: one text channel, @everyone and an editor role (no permissions of its own)."""

    def role(role_id: int, name: str, position: int) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "permissions": str(READER_PERMISSIONS),
            "position": position,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
        }

    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "owner_id": "1",
        "unavailable": False,
        "member_count": 3,
        "large": False,
        "features": [],
        "premium_tier": 0,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "preferred_locale": "en-US",
        "joined_at": datetime.now(UTC).isoformat(),
        "roles": [role(guild.id, "@everyone", 0), role(guild.editor_role_id, guild.editor_role_name, 1)],
        "channels": [
            {
                "id": str(guild.channel_id),
                "type": 0,
                "name": "newsroom",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "topic": None,
                "parent_id": None,
                "rate_limit_per_user": 0,
                "last_message_id": None,
            }
        ],
        "members": [],
        "voice_states": [],
        "presences": [],
        "threads": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "emojis": [],
        "stickers": [],
        "soundboard_sounds": [],
    }


def _option(name: str, value: object, *, focused: bool = False) -> dict[str, Any]:
    option: dict[str, Any] = {"name": name, "type": OPTION_TYPES[type(value)], "value": value}
    if focused:
        option["focused"] = True
    return option


def _interaction(
    interaction_type: int,
    interaction_id: int,
    token: str,
    guild: FakeGuild,
    data: dict[str, Any],
    *,
    user_id: int,
    permissions: int,
    role_ids: tuple[int, ...],
    application_id: int,
) -> dict[str, Any]:
    user = {
        "id": str(user_id),
        "username": f"reporter{user_id % 1000}",
        "discriminator": "0",
        "global_name": "Reporter",
        "avatar": None,
        "public_flags": 0,
    }
    return {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": interaction_type,
        "token": token,
        "version": 1,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "channel_id": str(guild.channel_id),
        "channel": {
            "id": str(guild.channel_id),
            "type": 0,
            "name": "newsroom",
            "guild_id": str(guild.id),
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        },
        "member": {
            "user": user,
            "roles": [str(r) for r in role_ids],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "communication_disabled_until": None,
            "permissions": str(permissions),
        },
        "data": data,
        "app_permissions": str(READER_PERMISSIONS),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": 8 * 1024 * 1024,
    }


class FakeDiscordGateway:
    """The websocket side of Discord on 127.0.0.1, port 0, paired with a `FakeDiscordAPI`."""

    def __init__(self, api: FakeDiscordAPI, guilds: list[FakeGuild]) -> None:
        self.api = api
        self.guilds = guilds
        self.identified = asyncio.Event()
        self.identify_payloads: list[dict[str, Any]] = []
        self.heartbeats = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._sequence = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    async def start(self) -> FakeDiscordGateway:
        app = web.Application()
        app.add_routes([web.get("/", self._connection)])
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.api.gateway_url = self.url  # what GET /gateway/bot announces
        return self

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscordGateway:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _dispatch(self, socket: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        await socket.send_str(json.dumps({"op": DISPATCH, "t": event, "s": next(self._sequence), "d": data}))

    async def _connection(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": HELLO, "d": {"heartbeat_interval": 41250}}))
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            op = payload.get("op")
            if op == HEARTBEAT:
                self.heartbeats += 1
                await socket.send_str(json.dumps({"op": HEARTBEAT_ACK}))
            elif op == IDENTIFY:
                await self._identify(socket, payload["d"])
            elif op == RESUME:
                await self._dispatch(socket, "RESUMED", {})
        self._sockets.remove(socket)
        return socket

    async def _identify(self, socket: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.api.token:
            await socket.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        self.identify_payloads.append(data)
        ready = {
            "v": 10,
            "user": self.api.bot_user,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.guilds],
            "session_id": "fake-session",
            "resume_gateway_url": self.url,
            "application": {"id": str(self.api.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await self._dispatch(socket, "READY", ready)
        if int(data.get("intents", 0)) & GUILDS_INTENT:
            for guild in self.guilds:
                await self._dispatch(socket, "GUILD_CREATE", guild_payload(guild))
        self.identified.set()

    # --- interactions -----------------------------------------------------------------------------------
    async def send_interaction(self, payload: dict[str, Any]) -> None:
        """Deliver INTERACTION_CREATE to every connected client and authorise its token at the REST fake.

        The REST fake's deadlines (first response within `api.response_deadline`, follow-ups within
        `api.followup_window`) count from here, as Discord's count from the interaction's creation.
        """
        await asyncio.wait_for(self.identified.wait(), timeout=10)
        guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.api.register_interaction(
            int(payload["id"]), payload["token"], int(payload["channel_id"]), guild_id
        )
        for socket in list(self._sockets):
            await self._dispatch(socket, "INTERACTION_CREATE", payload)

    def command_interaction(
        self,
        guild: FakeGuild,
        command: str,
        subcommand: str,
        options: dict[str, object] | None = None,
        *,
        user_id: int = 700000000000000001,
        permissions: int = READER_PERMISSIONS,
        role_ids: tuple[int, ...] = (),
    ) -> dict[str, Any]:
        """A slash command (type 2) as Discord sends it: `/command subcommand option:value ...`."""
        interaction_id = self.api.next_id()
        sub = {"type": 1, "name": subcommand, "options": [_option(k, v) for k, v in (options or {}).items()]}
        data = {"id": self._command_id(command, guild), "name": command, "type": 1, "options": [sub]}
        data["guild_id"] = str(guild.id)
        return _interaction(
            2,
            interaction_id,
            f"itok-{interaction_id}",
            guild,
            data,
            user_id=user_id,
            permissions=permissions,
            role_ids=role_ids,
            application_id=self.api.application_id,
        )

    def autocomplete_interaction(
        self,
        guild: FakeGuild,
        command: str,
        subcommand: str,
        focused: str,
        typed: str,
        others: dict[str, object] | None = None,
    ) -> dict[str, Any]:
        """An autocomplete request (type 4): the user is typing `typed` into option `focused`."""
        interaction_id = self.api.next_id()
        options = [_option(k, v) for k, v in (others or {}).items()] + [_option(focused, typed, focused=True)]
        sub = {"type": 1, "name": subcommand, "options": options}
        data = {"id": self._command_id(command, guild), "name": command, "type": 1, "options": [sub]}
        data["guild_id"] = str(guild.id)
        return _interaction(
            4,
            interaction_id,
            f"itok-{interaction_id}",
            guild,
            data,
            user_id=700000000000000001,
            permissions=READER_PERMISSIONS,
            role_ids=(),
            application_id=self.api.application_id,
        )

    def _command_id(self, name: str, guild: FakeGuild) -> str:
        for command in self.api.commands.get(guild.id, []) + self.api.commands.get(None, []):
            if command["name"] == name:
                return str(command["id"])
        return str(self.api.next_id())
