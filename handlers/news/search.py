"""Finding stories: `/news <words>` (or `/news search <words>`) and `/news latest [topic] [n]`.

A line whose first word is no command is a search too, so a search that finds nothing also checks whether that
word was a mistyped command. `parse_search` also serves `/news figures`, which searches the same way.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from rapidfuzz import fuzz, process
from sqlalchemy.ext.asyncio import AsyncSession

from errors import CommandError
from handlers.news import help_text
from handlers.news.common import DEFAULT_RESULTS, MAX_RESULTS, Command, CommandFamily, hit_line, story_line
from handlers.news.query import parse_news_query
from handlers.news.topics import TopicResolver, retyped
from handlers.news.views import NewsReply
from storage import feeds_repo
from storage.search import recent_stories, search_stories
from values.chat import Caller, ChannelRef
from values.query import NewsQuery

# How alike (rapidfuzz ratio, 0-100) a first word must be to a command to be offered as that command.
COMMAND_SUGGESTION_SCORE = 75


def _with_filter(text: str, key: str, value: str, command: str) -> str:
    """`command` and the search line as typed with the `key:` filter set to `value`, ready to copy."""
    pattern = re.compile(rf'(?<![^\s]){key}:(?:"[^"]*"?|[^\s"]*)', re.IGNORECASE)
    line = pattern.sub(lambda _: f"{key}:{value}", text)
    return f"{command} {' '.join(line.split())}"


def _command_suggestion(typed: str | None) -> str | None:
    """The command a first word that is none was probably meant to be, if it is close enough to one."""
    if not typed or len(typed) < 3:
        return None
    match = process.extractOne(typed.lower(), help_text.COMMAND_NAMES, scorer=fuzz.ratio)
    if match is None or match[1] < COMMAND_SUGGESTION_SCORE:
        return None
    return str(match[0])


async def _unknown_language(session: AsyncSession, query: NewsQuery) -> tuple[str, str] | None:
    """For `lang:xx` where no feed is in `xx`: what to say, and the language to suggest instead."""
    if query.lang is None:
        return None
    known = await feeds_repo.feed_languages(session)
    if not known or query.lang in known:
        return None
    return (
        f"No stories are in `{query.lang}`: `lang:` takes a language code, and the feeds here are in "
        f"{', '.join(known)}.",
        known[0],
    )


def parse_search(
    topics: TopicResolver, text: str, now: datetime, *, command: str = "/news"
) -> tuple[NewsQuery, list[str] | None]:
    """The query of a search line, and the topics a `topic:` filter stands for (None without one).

    `command` starts the corrected line suggested for an unknown topic (`/news figures` searches too).
    """
    query = parse_news_query(text, now)
    if query.problems:
        raise CommandError(" ".join(query.problems), example=topics.example("search"))
    family = None
    if query.topic is not None:
        topic = topics.resolve(
            query.topic, command="search", example=lambda name: _with_filter(text, "topic", name, command)
        )
        query = dataclasses.replace(query, topic=topic.name)
        family = topics.family(topic)
    if not query.has_text and not query.has_filters:
        if query.excluded:
            raise CommandError(
                "Give at least one word to look for; `-word` only leaves things out.",
                example="/news venezuela -football",
            )
        raise CommandError(
            "I need some words to search for: letters or numbers.",
            example=topics.example("search"),
        )
    return query, family


class SearchCommands(CommandFamily):
    """`search` and `latest`, plus the search every line that starts with no command falls back to."""

    def commands(self) -> dict[str, Command]:
        return {"search": self._search_command, "latest": self._latest}

    async def _search_command(
        self, rest: str, caller: Caller, channel: ChannelRef, now: datetime
    ) -> NewsReply:
        return await self.search(rest, now, typed_command=None)

    async def search(self, text: str, now: datetime, *, typed_command: str | None) -> NewsReply:
        """Answer a search line. `typed_command` is the first word of a line that starts with no command,
        checked as a mistyped one when nothing matches; None for `/news search …`."""
        query, topics = parse_search(self.topics, text, now)
        async with self.sessions() as session:
            hits = await search_stories(session, query, now, limit=DEFAULT_RESULTS * 2, topics=topics)
            language = await _unknown_language(session, query) if not hits else None
        shown = query.describe()
        if language is not None:
            # An error reply like any other: `handle` words every CommandError the same way.
            line, example = language
            raise CommandError(line, example=_with_filter(text, "lang", example, "/news"))
        if not hits:
            examples: tuple[str, ...] = ('/news "exact phrase"', "/news venezuela since:30d")
            text_line = f"No stories match `{shown}`."
            suggestion = _command_suggestion(typed_command)
            if suggestion:
                text_line += f" Did you mean `/news {suggestion}`?"
                examples = (self.topics.example(suggestion), *examples)
            return NewsReply(
                kind="search", title=f"Search: {shown}", text=text_line, examples=examples, generated_at=now
            )
        return NewsReply(
            kind="search",
            title=f"Search: {shown}",
            text=f"{len(hits)} {'story' if len(hits) == 1 else 'stories'}, best match first.",
            stories=tuple(hit_line(h) for h in hits),
            generated_at=now,
        )

    async def _latest(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        count, topic = DEFAULT_RESULTS, None
        for token in rest.split():
            if token.isascii() and token.isdigit():  # "²" is a digit to str.isdigit, not to int()
                count = int(token[:4])
                if not 1 <= count <= MAX_RESULTS:
                    raise CommandError(
                        f"I can show between 1 and {MAX_RESULTS} stories.", example="/news latest 10"
                    )
            elif topic is None:
                topic = self.topics.resolve(
                    token,
                    command="latest",
                    example=lambda name, typed=token: retyped(rest, typed, name, "latest"),
                )
            else:
                raise CommandError(
                    "`latest` takes a topic and a number, nothing else.",
                    example=self.topics.example("latest"),
                )
        topics = self.topics.family(topic) if topic is not None else None
        async with self.sessions() as session:
            stories = await recent_stories(session, limit=count, topics=topics)
        label = topic.title if topic is not None else self.topics.catalog.beat.title
        return NewsReply(
            kind="latest",
            title=f"Latest: {label}",
            text="" if stories else f"No stories on {label} yet.",
            stories=tuple(story_line(s) for s in stories),
            generated_at=now,
        )
