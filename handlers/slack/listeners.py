"""Bolt listeners: `/news` and the buttons on alerts and answers. They parse and render, nothing else.

`/news` is answered inside Slack's 3-second window when the command layer is quick: the answer itself
is the acknowledgement (the HTTP response). When it is not done within `ack_budget` seconds, the
acknowledgement says we are working on it and the answer follows through `response_url`.

No Slack call is made before the acknowledgement: the caller's role is asked (`users.info`, cached) only
when the command layer meets an editor-only command, and a Slack that cannot answer then gets a polite
"try again" from the command layer, never a refusal or an HTTP 500.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from errors import CommandError
from handlers.news.views import NewsAnswerer, NewsReply
from handlers.slack.blocks import (
    ACTION_MUTE_TOPIC,
    ACTION_RELATED,
    ACTION_SHARE,
    SlackMessage,
    render_refusal,
    render_reply,
)
from handlers.slack.editors import EditorPolicy
from handlers.slack.uploads import upload_chart
from values.chat import Caller, ChannelRef

log = logging.getLogger(__name__)

DEFAULT_ACK_BUDGET = 2.0  # seconds; Slack gives up at 3
WORKING_TEXT = "Working on it… the answer follows in a moment."
EDITOR_RULE = "workspace admins and owners, and the people in SLACK_EDITOR_IDS"
FAILURE_TEXT = "Sorry, Wirewatch could not answer that just now. The error was logged; please try again."


class SlackListeners:
    """Registers the listeners on an `AsyncApp`; one instance per app."""

    def __init__(
        self, news: NewsAnswerer, editors: EditorPolicy, *, ack_budget: float = DEFAULT_ACK_BUDGET
    ) -> None:
        self._news = news
        self._editors = editors
        self._ack_budget = ack_budget

    def register(self, app: AsyncApp) -> None:
        app.command("/news")(self.on_news)
        app.action(ACTION_SHARE)(self.on_share)
        app.action(ACTION_MUTE_TOPIC)(self.on_mute_topic)
        app.action(ACTION_RELATED)(self.on_related)

    # --- shared -------------------------------------------------------------------------------------------

    def _caller(self, client: AsyncWebClient, team_id: str, user_id: str, name: str | None) -> Caller:
        """The caller, with their role left to ask: only editor-only commands need it."""
        role_check = self._editors.role_check(client, team_id, user_id)
        return Caller(user_id=user_id, display_name=name, role_check=role_check, editor_rule=EDITOR_RULE)

    async def _answer(self, text: str, caller: Caller, channel: ChannelRef) -> NewsReply:
        """The command layer's reply; its refusals and our failures become replies too, never a trace."""
        try:
            return await self._news.handle(text, caller, channel)
        except CommandError as error:
            examples = (error.example,) if error.example else ()
            return NewsReply(
                kind="error", title="Can't do that", text=error.reply, examples=examples, is_error=True
            )
        except Exception:
            log.exception("/news failed for %r", text[:200])
            return NewsReply(kind="error", title="Something went wrong", text=FAILURE_TEXT, is_error=True)

    @staticmethod
    def _response_type(reply: NewsReply) -> str:
        return "ephemeral" if reply.ephemeral or reply.is_error else "in_channel"

    # --- /news --------------------------------------------------------------------------------------------

    async def on_news(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        text = str(command.get("text") or "")
        channel = ChannelRef("slack", str(command.get("channel_id") or ""), command.get("team_id"))

        async def work() -> tuple[NewsReply, SlackMessage]:
            try:
                caller = self._caller(
                    client,
                    str(command.get("team_id") or ""),
                    str(command.get("user_id") or ""),
                    command.get("user_name"),
                )
                reply = await self._answer(text, caller, channel)
                return reply, render_reply(reply, share_command=text)
            except Exception:
                # Whatever failed, Slack gets its HTTP 200 and the user one plain line.
                log.exception("/news could not be answered for %r", text[:200])
                failed = NewsReply(
                    kind="error", title="Something went wrong", text=FAILURE_TEXT, is_error=True
                )
                return failed, render_refusal(FAILURE_TEXT)

        task = asyncio.create_task(work())
        done, _ = await asyncio.wait({task}, timeout=self._ack_budget)
        if task in done:
            reply, message = task.result()
            await ack(text=message.text, blocks=message.blocks, response_type=self._response_type(reply))
        else:
            await ack(text=WORKING_TEXT, response_type="ephemeral")
            reply, message = await task
            await respond(text=message.text, blocks=message.blocks, response_type=self._response_type(reply))
        await upload_chart(client, reply, channel_id=channel.external_id, thread_ts=command.get("thread_ts"))

    # --- buttons ------------------------------------------------------------------------------------------

    @staticmethod
    def _where(body: dict[str, Any]) -> tuple[str, str, str | None, ChannelRef]:
        user = body.get("user") or {}
        team_id = str((body.get("team") or {}).get("id") or user.get("team_id") or "")
        channel_id = str((body.get("channel") or {}).get("id") or "")
        name = user.get("username") or user.get("name")
        return team_id, str(user.get("id") or ""), name, ChannelRef("slack", channel_id, team_id or None)

    @staticmethod
    def _action_value(body: dict[str, Any]) -> str:
        actions = body.get("actions") or [{}]
        return str(actions[0].get("value") or "")

    async def on_share(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        team_id, user_id, name, channel = self._where(body)
        caller = self._caller(client, team_id, user_id, name)
        # The command runs again rather than trusting a rendering carried in the button: stories may have
        # moved on, and the button value is only a command line.
        reply = await self._answer(self._action_value(body), caller, channel)
        if reply.is_error:
            message = render_reply(reply)
            await respond(
                text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False
            )
            return
        shared = render_reply(reply, shared_by=user_id)
        await respond(
            text=shared.text, blocks=shared.blocks, response_type="in_channel", replace_original=False
        )
        await respond(delete_original=True)

    async def on_mute_topic(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        team_id, user_id, name, channel = self._where(body)
        caller = self._caller(client, team_id, user_id, name)
        # The command layer checks the role, as for `/news mute`: its refusal or "try again" included.
        reply = await self._answer(f"mute {self._action_value(body)}", caller, channel)
        message = render_reply(reply)
        await respond(
            text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False
        )

    async def on_related(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        team_id, user_id, name, channel = self._where(body)
        caller = self._caller(client, team_id, user_id, name)
        command = f"story {self._action_value(body)}"
        reply = await self._answer(command, caller, channel)
        message = render_reply(reply, share_command=command)
        await respond(
            text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False
        )
        thread_ts = (body.get("container") or {}).get("thread_ts")
        await upload_chart(client, reply, channel_id=channel.external_id, thread_ts=thread_ts)
