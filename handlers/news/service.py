"""The `/news` command layer, once for every platform: a command line in, a `NewsReply` out.

Adapters (console, Slack, Discord) say who the caller is and how to ask the platform for their role
(`Caller.role_check`), call `NewsService.handle`, and render the reply. The role is asked only for
editors-only commands: a search never waits on a role lookup, and a platform that cannot answer one gets
a polite "try again" instead of a refusal. Nothing here knows a chat platform. Every input, however
malformed, gets a short reply that says how to fix it; an unexpected failure is logged and answered with
one plain line, never a trace.

This module only dispatches: it reads the verb, turns editors-only commands away from other callers, and
turns errors into replies. The commands themselves live with their family: `search` (search, latest),
`story` (story, figures), `digest`, `channel` (topics, mute/unmute, subscribe/unsubscribe, and the alert
channels adapters subscribe at start) and `feeds`; `topics` resolves the topics they take.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from errors import CommandError
from handlers.news import help_text
from handlers.news.channel import ChannelCommands
from handlers.news.common import Command
from handlers.news.digest import DigestCommands
from handlers.news.feeds import FeedCommands
from handlers.news.search import SearchCommands
from handlers.news.story import StoryCommands
from handlers.news.topics import TopicCatalog, TopicResolver
from handlers.news.views import NewsReply, ReplySection
from stories.model import Topic
from values.chat import Caller, ChannelRef, EditorStatus
from values.clock import utc_now

log = logging.getLogger(__name__)

MAX_LINE_CHARS = 10_000
ROLE_UNKNOWN_TEXT = (
    "Wirewatch could not check your role with {platform} just now, so nothing was changed. "
    "Please try again in a moment."
)


class NewsService:
    """Answers `/news` command lines. One instance serves every adapter and channel."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalog: TopicCatalog,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.catalog = catalog
        self.clock = clock
        self._topics = TopicResolver(catalog)
        self.example_topic = self._topics.example_topic
        # Kept apart from the table below too: a line that starts with no command is searched for.
        self._search = SearchCommands(sessions, self._topics)
        families = (
            self._search,
            StoryCommands(sessions, self._topics),
            DigestCommands(sessions, self._topics),
            ChannelCommands(sessions, self._topics),
            FeedCommands(sessions, self._topics),
        )
        self._commands: dict[str, Command] = {
            verb: command for family in families for verb, command in family.commands().items()
        }

    async def handle(self, text: str, caller: Caller, channel: ChannelRef) -> NewsReply:
        """Answer one command line (with or without the leading `/news`)."""
        now = self.clock()
        line = " ".join(str(text)[:MAX_LINE_CHARS].split())
        if line.lower() == "/news" or line.lower().startswith("/news "):
            line = line[len("/news") :].strip()
        word, _, rest = line.partition(" ")
        command = word.lower()
        try:
            if command in ("", "help", "?", "-h", "--help"):
                return self._help(now)
            if command in help_text.EDITOR_ONLY:
                status = await self._editor_status(caller, command, channel)
                if status is EditorStatus.UNKNOWN:
                    return self._role_unknown(channel, now)
                if status is EditorStatus.NO:
                    return self._refused(command, caller, now)
            handler = self._commands.get(command)
            if handler is None:
                return await self._search.search(line, now, typed_command=word)
            return await handler(rest.strip(), caller, channel, now)
        except CommandError as error:
            return self._error(error.reply, error.example, now)
        except Exception:
            # The caller gets one plain line; the operator gets the trace in the log.
            log.exception(
                "/news command failed", extra={"command": command[:40], "platform": channel.platform}
            )
            return NewsReply(
                kind="internal_error",
                title="Something went wrong",
                text="Something went wrong on our side answering that. It has been logged; please try again.",
                is_error=True,
                generated_at=now,
            )

    def resolve_topic(self, name: str, *, command: str, example: Callable[[str], str] | None = None) -> Topic:
        """The topic meant by `name`; see `TopicResolver.resolve`."""
        return self._topics.resolve(name, command=command, example=example)

    def topic_family(self, topic: Topic) -> list[str]:
        """The topic and every topic below it; see `TopicResolver.family`."""
        return self._topics.family(topic)

    @staticmethod
    async def _editor_status(caller: Caller, command: str, channel: ChannelRef) -> EditorStatus:
        try:
            return await caller.editor_status()
        except Exception:
            # A role check should answer UNKNOWN itself; one that raises still must not read as "not an
            # editor" (a wrong refusal) nor as a crash.
            log.exception(
                "/news role check failed", extra={"command": command[:40], "platform": channel.platform}
            )
            return EditorStatus.UNKNOWN

    # --- replies that are not answers -------------------------------------------------------------------

    def _error(self, text: str, example: str | None, now: datetime) -> NewsReply:
        return NewsReply(
            kind="error",
            title="I couldn't answer that",
            text=text,
            examples=(example,) if example else (),
            is_error=True,
            generated_at=now,
        )

    def _refused(self, command: str, caller: Caller, now: datetime) -> NewsReply:
        editors = f"editors ({caller.editor_rule})" if caller.editor_rule else "editors"
        return NewsReply(
            kind="refused",
            title="Editors only",
            text=(
                f"Sorry, only {editors} can use `/news {command}` in this channel. "
                "Ask an editor to change it; `/news topics` shows what is muted and subscribed here."
            ),
            examples=("/news topics",),
            is_error=True,
            generated_at=now,
        )

    def _role_unknown(self, channel: ChannelRef, now: datetime) -> NewsReply:
        return NewsReply(
            kind="role_unknown",
            title="Please try again in a moment",
            text=ROLE_UNKNOWN_TEXT.format(platform=channel.platform.capitalize()),
            is_error=True,
            generated_at=now,
        )

    def _help(self, now: datetime) -> NewsReply:
        return NewsReply(
            kind="help",
            title="Wirewatch /news commands",
            text=f"Searches and alerts cover the {self.catalog.beat.title} beat. Times are UTC.",
            sections=(ReplySection(heading="Commands", lines=help_text.help_lines(self.example_topic)),),
            examples=help_text.help_examples(self.example_topic),
            generated_at=now,
        )
