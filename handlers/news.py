"""The `/news` command layer, once for every platform: a command line in, a `NewsReply` out.

Adapters (console, Slack, Discord) decide who the caller is and whether they are an editor, call
`NewsService.handle`, and render the reply. Nothing here knows a chat platform. Every input, however
malformed, gets a short reply that says how to fix it; an unexpected failure is logged and answered with
one plain line, never a trace.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from delivery.status import DeliveryStatus, delivery_status
from errors import CommandError
from handlers import help_text
from handlers.durations import describe_ago, describe_duration, next_clock_time, parse_date, parse_duration
from handlers.query import NewsQuery, parse_news_query
from handlers.views import Caller, ChannelRef, NewsReply, ReplySection, StoryLine, Table
from storage import channels_repo
from storage.models import ChannelRow, EntryRow, FeedRow, StoryRevisionRow, StoryRow
from storage.search import SearchHit, recent_stories, search_stories
from storage.story_records import figures_from_json
from stories.model import FigureChange, Topic

log = logging.getLogger(__name__)

DEFAULT_RESULTS = 5
MAX_RESULTS = 25
DEFAULT_DIGEST = timedelta(hours=24)
MAX_DIGEST = timedelta(days=31)
DIGEST_PER_TOPIC = 10
FIGURE_ROWS = 40
MAX_LINE_CHARS = 10_000
COMMAND_SUGGESTION_SCORE = 75
# A shorter start of a topic name (`mi`) is too likely to be a typo to be taken as that topic.
MIN_TOPIC_PREFIX = 3


class TopicCatalog(Protocol):
    """What the command layer needs from `stories.topics.TopicCatalog`."""

    @property
    def beat(self) -> Topic: ...

    @property
    def topics(self) -> tuple[Topic, ...]: ...

    def get(self, name: str) -> Topic | None: ...

    def names(self) -> list[str]: ...

    def suggest(self, name: str) -> str | None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def mute_ended_notice(topic: str, skipped: int, *, muted_for: timedelta | None = None) -> str:
    """What a channel is told when a mute ends (delivery posts it after `end_expired_mutes`, with how long
    the mute lasted): the digest it points to covers the whole mute, up to the longest digest there is."""
    period = DEFAULT_DIGEST
    if muted_for is not None and muted_for > period:
        period = min(timedelta(hours=math.ceil(muted_for.total_seconds() / 3600)), MAX_DIGEST)
    digest = f"/news digest {_hours_text(period)}"
    if skipped <= 0:
        return f"The mute on `{topic}` has ended; no stories were held back. Alerts are back on."
    stories = "story" if skipped == 1 else "stories"
    return (
        f"The mute on `{topic}` has ended; {skipped} {stories} came in while it was on. "
        f"Catch up with `{digest}`."
    )


def _hours_text(period: timedelta) -> str:
    hours = math.ceil(period.total_seconds() / 3600)
    return f"{hours // 24}d" if hours % 24 == 0 and hours >= 48 else f"{hours}h"


def _change_line(change: Any) -> str | None:
    if isinstance(change, str):
        return change
    if not isinstance(change, dict):
        return None
    old = figures_from_json([change["old"]]) if isinstance(change.get("old"), dict) else ()
    new = figures_from_json([change["new"]]) if isinstance(change.get("new"), dict) else ()
    if not old and not new:
        return None
    what = str(change.get("what") or (new or old)[0].what)
    return FigureChange(what=what, old=old[0] if old else None, new=new[0] if new else None).describe()


def _story_line(story: StoryRow) -> StoryLine:
    return StoryLine(
        story_id=story.id,
        title=story.title,
        link=story.link,
        source=story.source,
        published=story.published_at or story.first_seen_at,
        summary=story.summary or "",
        other_sources=max(0, (story.source_count or 1) - 1),
        topics=tuple(story.topics or ()),
        figures=figures_from_json(story.figures),
        language=story.language,
    )


def _hit_line(hit: SearchHit) -> StoryLine:
    return StoryLine(
        story_id=hit.story_id,
        title=hit.title,
        link=hit.link,
        source=hit.source,
        published=hit.published,
        summary=hit.summary,
        other_sources=hit.other_sources,
        topics=hit.topics,
        figures=figures_from_json(hit.figures),
        language=hit.language,
    )


async def _figure_history(
    session: AsyncSession, story_ids: Sequence[int]
) -> list[tuple[StoryRevisionRow, datetime]]:
    """Each revision of these stories with when its figures were reported: the publication time of the
    entry that brought it, else when it was stored (a scanned archive is stored long after)."""
    if not story_ids:
        return []
    result = await session.execute(
        select(StoryRevisionRow, EntryRow.published_at)
        .outerjoin(EntryRow, EntryRow.id == StoryRevisionRow.entry_id)
        .where(StoryRevisionRow.story_id.in_(list(story_ids)))
        .order_by(StoryRevisionRow.story_id, StoryRevisionRow.revision)
    )
    return [(revision, published or revision.created_at) for revision, published in result.all()]


def _with_filter(text: str, key: str, value: str, command: str) -> str:
    """`command` and the search line as typed with the `key:` filter set to `value`, ready to copy."""
    pattern = re.compile(rf'(?<![^\s]){key}:(?:"[^"]*"?|[^\s"]*)', re.IGNORECASE)
    line = pattern.sub(lambda _: f"{key}:{value}", text)
    return f"{command} {' '.join(line.split())}"


def _retyped(rest: str, typed: str, meant: str, command: str) -> str:
    """`/news <command> <rest>` with the topic as typed replaced by the one meant."""
    words = rest.split()
    if typed in words:
        words[words.index(typed)] = meant
    else:
        words.insert(0, meant)
    return " ".join(["/news", command, *words])


def _clock_text(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


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
        # Examples name a real topic of this catalog, so they work when copied.
        sub_topics = [t.name for t in catalog.topics if t.name != catalog.beat.name]
        self.example_topic = sub_topics[0] if sub_topics else catalog.beat.name

    def _example(self, command: str) -> str:
        return help_text.example_for(command, self.example_topic)

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
            if command in help_text.EDITOR_ONLY and not caller.is_editor:
                return self._refused(command, now)
            handler = self._handlers().get(command)
            if handler is None:
                return await self._search(line, now, typed_command=word)
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

    def _handlers(self) -> dict[str, Callable[..., Any]]:
        return {
            "search": self._search_command,
            "latest": self._latest,
            "story": self._story,
            "figures": self._figures,
            "digest": self._digest,
            "topics": self._topics,
            "mute": self._mute,
            "unmute": self._unmute,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "feeds": self._feeds,
        }

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

    def _refused(self, command: str, now: datetime) -> NewsReply:
        return NewsReply(
            kind="refused",
            title="Editors only",
            text=(
                f"Sorry, only editors can use `/news {command}` in this channel. "
                "Ask an editor to change it; `/news topics` shows what is muted and subscribed here."
            ),
            examples=("/news topics",),
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

    # --- topics -----------------------------------------------------------------------------------------

    def resolve_topic(self, name: str, *, command: str, example: Callable[[str], str] | None = None) -> Topic:
        """The topic meant: its name, its title, or an unambiguous start of its name or of one of its
        words (`migration` -> `migration-refugees`); else a CommandError with the closest names.

        `example` turns a topic name into the command line to suggest (by default `/news <command> <name>`).
        """
        wanted = name.strip().strip("`'\"").lower()
        if not wanted:
            raise CommandError(
                f"Which topic? Topics: {', '.join(self.catalog.names())}.",
                example=self._example(command),
            )
        topic = self.catalog.get(wanted)
        if topic is None:
            topic = next((t for t in self.catalog.topics if t.title.lower() == wanted), None)
        if topic is not None:
            return topic
        started = self._topics_starting_with(wanted)
        if len(started) == 1 and len(wanted) >= MIN_TOPIC_PREFIX:
            return started[0]
        build = example or (lambda topic_name: f"/news {command} {topic_name}")
        shown = wanted[:60]
        if len(started) > 1:
            names = [t.name for t in started]
            raise CommandError(
                f"`{shown}` could be several topics: {', '.join(names)}. Which one did you mean?",
                example=build(names[0]),
            )
        # A start too short to take as given (`ar`) is still the best guess.
        suggestion = started[0].name if started else self.catalog.suggest(wanted)
        if suggestion and self.catalog.get(suggestion) is not None:
            raise CommandError(
                f"I don't know the topic `{shown}`. Did you mean `{suggestion}`?",
                example=build(suggestion),
            )
        raise CommandError(
            f"I don't know the topic `{shown}`. Topics: {', '.join(self.catalog.names())}.",
            example=build(self.example_topic),
        )

    def _topics_starting_with(self, wanted: str) -> list[Topic]:
        """Topics whose name starts with `wanted`, else those with a word of the name that does."""
        whole = [t for t in self.catalog.topics if t.name.startswith(wanted)]
        if whole:
            return whole
        return [t for t in self.catalog.topics if any(p.startswith(wanted) for p in t.name.split("-"))]

    def topic_family(self, topic: Topic) -> list[str]:
        """The topic and every topic below it (stories carry the most specific topics)."""
        family = [topic.name]
        changed = True
        while changed:
            changed = False
            for candidate in self.catalog.topics:
                if candidate.parent in family and candidate.name not in family:
                    family.append(candidate.name)
                    changed = True
        return family

    def _most_specific(self, names: Sequence[str]) -> str:
        """The deepest known topic among a story's topics (the beat when it has no other)."""
        known = [topic for topic in map(self.catalog.get, names) if topic is not None]
        deepest = max(known, key=lambda topic: len(self._ancestors(topic)), default=None)
        return deepest.name if deepest is not None else self.catalog.beat.name

    def _ancestors(self, topic: Topic) -> list[str]:
        names, current = [topic.name], topic
        while current.parent and current.parent not in names:
            names.append(current.parent)
            parent = self.catalog.get(current.parent)
            if parent is None:
                break
            current = parent
        return names

    # --- search -----------------------------------------------------------------------------------------

    async def _search_command(
        self, rest: str, caller: Caller, channel: ChannelRef, now: datetime
    ) -> NewsReply:
        return await self._search(rest, now, typed_command=None)

    def _parse_search(
        self, text: str, now: datetime, *, command: str = "/news"
    ) -> tuple[NewsQuery, list[str] | None]:
        query = parse_news_query(text, now)
        if query.problems:
            raise CommandError(" ".join(query.problems), example=self._example("search"))
        topics = None
        if query.topic is not None:
            topic = self.resolve_topic(
                query.topic, command="search", example=lambda name: _with_filter(text, "topic", name, command)
            )
            query = dataclasses.replace(query, topic=topic.name)
            topics = self.topic_family(topic)
        if not query.has_text and not query.has_filters:
            if query.excluded:
                raise CommandError(
                    "Give at least one word to look for; `-word` only leaves things out.",
                    example="/news venezuela -football",
                )
            raise CommandError(
                "I need some words to search for: letters or numbers.",
                example=self._example("search"),
            )
        return query, topics

    async def _search(self, text: str, now: datetime, *, typed_command: str | None) -> NewsReply:
        query, topics = self._parse_search(text, now)
        async with self.sessions() as session:
            hits = await search_stories(session, query, now, limit=DEFAULT_RESULTS * 2, topics=topics)
            unknown_language = await self._unknown_language(session, query) if not hits else None
        shown = query.describe()
        if unknown_language is not None:
            line, example = unknown_language
            return self._error(line, _with_filter(text, "lang", example, "/news"), now)
        if not hits:
            examples: tuple[str, ...] = ('/news "exact phrase"', "/news venezuela since:30d")
            text_line = f"No stories match `{shown}`."
            suggestion = self._command_suggestion(typed_command)
            if suggestion:
                text_line += f" Did you mean `/news {suggestion}`?"
                examples = (self._example(suggestion), *examples)
            return NewsReply(
                kind="search", title=f"Search: {shown}", text=text_line, examples=examples, generated_at=now
            )
        return NewsReply(
            kind="search",
            title=f"Search: {shown}",
            text=f"{len(hits)} {'story' if len(hits) == 1 else 'stories'}, best match first.",
            stories=tuple(_hit_line(h) for h in hits),
            generated_at=now,
        )

    async def _unknown_language(self, session: AsyncSession, query: NewsQuery) -> tuple[str, str] | None:
        """For `lang:xx` where no feed is in `xx`: what to say, and the language to suggest instead."""
        if query.lang is None:
            return None
        rows = await session.execute(select(FeedRow.language).where(FeedRow.language.is_not(None)).distinct())
        known = sorted({str(code).lower() for code in rows.scalars() if code})
        if not known or query.lang in known:
            return None
        return (
            f"No stories are in `{query.lang}`: `lang:` takes a language code, and the feeds here are in "
            f"{', '.join(known)}.",
            known[0],
        )

    def _command_suggestion(self, typed: str | None) -> str | None:
        if not typed or len(typed) < 3:
            return None
        match = process.extractOne(typed.lower(), help_text.COMMAND_NAMES, scorer=fuzz.ratio)
        if match is None or match[1] < COMMAND_SUGGESTION_SCORE:
            return None
        return str(match[0])

    # --- browsing ---------------------------------------------------------------------------------------

    async def _latest(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        count, topic = DEFAULT_RESULTS, None
        for token in rest.split():
            if token.isdigit():
                count = int(token[:4])
                if not 1 <= count <= MAX_RESULTS:
                    raise CommandError(
                        f"I can show between 1 and {MAX_RESULTS} stories.", example="/news latest 10"
                    )
            elif topic is None:
                topic = self.resolve_topic(
                    token,
                    command="latest",
                    example=lambda name, typed=token: _retyped(rest, typed, name, "latest"),
                )
            else:
                raise CommandError(
                    "`latest` takes a topic and a number, nothing else.",
                    example=self._example("latest"),
                )
        topics = self.topic_family(topic) if topic is not None else None
        async with self.sessions() as session:
            stories = await recent_stories(session, limit=count, topics=topics)
        label = topic.title if topic is not None else self.catalog.beat.title
        return NewsReply(
            kind="latest",
            title=f"Latest: {label}",
            text="" if stories else f"No stories on {label} yet.",
            stories=tuple(_story_line(s) for s in stories),
            generated_at=now,
        )

    async def _story(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        token = rest.strip().lstrip("#")
        if not token.isdigit() or len(token) > 18:
            raise CommandError(
                "Give the story's number, as shown in search results (#42).", example="/news story 42"
            )
        story_id = int(token)
        async with self.sessions() as session:
            story = await session.get(StoryRow, story_id)
            if story is None:
                raise CommandError(
                    f"There is no story #{story_id}. Search for it to find its number.",
                    example="/news venezuela",
                )
            entries = (
                await session.execute(
                    select(EntryRow, FeedRow.name)
                    .join(FeedRow, FeedRow.id == EntryRow.feed_id)
                    .where(EntryRow.story_id == story_id)
                    .order_by(EntryRow.first_seen_at, EntryRow.id)
                )
            ).all()
            revisions = await _figure_history(session, [story_id])
        sources = tuple(
            StoryLine(
                story_id=story_id,
                title=entry.title,
                link=entry.link,
                source=feed_name,
                published=entry.published_at or entry.first_seen_at,
                language=entry.language,
            )
            for entry, feed_name in entries
        )
        sections = [ReplySection(heading=f"Sources ({len(sources)})", stories=sources)]
        updates = []
        for revision, reported in revisions:
            for change in revision.changes or ():
                described = _change_line(change)
                if described:
                    updates.append(f"{_clock_text(reported)} (rev {revision.revision}): {described}")
        if updates:
            sections.append(ReplySection(heading="Updates", lines=tuple(updates)))
        rows = [
            (str(revision.revision), _clock_text(reported), figure.what, figure.text)
            for revision, reported in revisions
            for figure in figures_from_json(revision.figures)
        ]
        table = (
            Table(columns=("rev", "when", "figure", "value"), rows=tuple(rows), title="Figure history")
            if rows
            else None
        )
        return NewsReply(
            kind="story",
            title=f"#{story.id} {story.title}",
            text=story.summary or "",
            # The summary is the reply's text; the line carries the rest (source, link, figures).
            stories=(dataclasses.replace(_story_line(story), summary=""),),
            sections=tuple(sections),
            table=table,
            generated_at=now,
        )

    async def _figures(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        if not rest.strip():
            raise CommandError(
                "Which stories? Give some words to search for.", example="/news figures deserters"
            )
        query, topics = self._parse_search(rest, now, command="/news figures")
        async with self.sessions() as session:
            hits = await search_stories(session, query, now, limit=DEFAULT_RESULTS, topics=topics)
            story_ids = [h.story_id for h in hits]
            revisions = await _figure_history(session, story_ids)
        seen: set[tuple[int, str, str]] = set()
        rows: list[tuple[datetime, str, str, str, str]] = []
        with_history = {revision.story_id for revision, _ in revisions}
        for revision, reported in sorted(revisions, key=lambda item: (item[1], item[0].id)):
            for figure in figures_from_json(revision.figures):
                key = (revision.story_id, figure.key(), figure.text)
                if key in seen:
                    continue  # unchanged since the last revision: one row per value, not per revision
                seen.add(key)
                rows.append((reported, figure.what, figure.text, f"#{revision.story_id}", ""))
        for hit in hits:
            if hit.story_id in with_history:
                continue
            for figure in figures_from_json(hit.figures):
                rows.append((hit.published, figure.what, figure.text, f"#{hit.story_id}", ""))
        rows.sort(key=lambda row: (row[1].lower(), row[0]))
        shown = query.describe()
        table_rows = tuple(
            (f"{when:%Y-%m-%d %H:%M}", what, value, story) for when, what, value, story, _ in rows
        )
        if not table_rows:
            text_line = (
                f"No key figures in stories matching `{shown}`." if hits else f"No stories match `{shown}`."
            )
            return NewsReply(kind="figures", title=f"Figures: {shown}", text=text_line, generated_at=now)
        return NewsReply(
            kind="figures",
            title=f"Figures: {shown}",
            text=f"Key figures of the {len(hits)} best-matching stories, over time.",
            table=Table(
                columns=("when (UTC)", "figure", "value", "story"),
                rows=table_rows[:FIGURE_ROWS],
                title="Key figures",
            ),
            stories=tuple(_hit_line(h) for h in hits),
            generated_at=now,
        )

    async def _digest(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        period = DEFAULT_DIGEST
        if rest.strip():
            parsed = parse_duration(rest.strip())
            if parsed is None or parsed > MAX_DIGEST:
                raise CommandError(
                    "Give the period as hours or days, up to 31 days: 12h, 24h, 3d.",
                    example=self._example("digest"),
                )
            period = parsed
        async with self.sessions() as session:
            stories = await recent_stories(session, limit=DIGEST_PER_TOPIC * 20, since=now - period)
        beat = self.catalog.beat
        order = [t.name for t in self.catalog.topics if t.name != beat.name] + [beat.name]
        groups: dict[str, list[StoryRow]] = {name: [] for name in order}
        for story in stories:
            groups[self._most_specific(story.topics or ())].append(story)
        sections = []
        for name in order:
            members = groups[name]
            if not members:
                continue
            topic = self.catalog.get(name)
            heading = topic.title if topic is not None else name
            if name == beat.name and len(sections) > 0:
                heading = f"Other {beat.title} stories"
            shown = tuple(_story_line(s) for s in members[:DIGEST_PER_TOPIC])
            more = len(members) - len(shown)
            sections.append(
                ReplySection(
                    heading=f"{heading} ({len(members)})",
                    stories=shown,
                    lines=(f"…and {more} more: /news latest {name} {MAX_RESULTS}",) if more > 0 else (),
                )
            )
        period_text = describe_duration(period)
        return NewsReply(
            kind="digest",
            title=f"Digest: the last {period_text}",
            text=(
                f"{len(stories)} {'story' if len(stories) == 1 else 'stories'} on {beat.title}, by topic."
                if stories
                else f"No stories on {beat.title} in the last {period_text}."
            ),
            sections=tuple(sections),
            ephemeral=False,
            generated_at=now,
        )

    # --- channel settings -------------------------------------------------------------------------------

    async def _channel_row(self, session: AsyncSession, channel: ChannelRef) -> ChannelRow | None:
        query = select(ChannelRow).where(
            ChannelRow.platform == channel.platform, ChannelRow.external_id == channel.external_id
        )
        return (await session.execute(query)).scalar_one_or_none()

    async def _topics(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        async with self.sessions() as session:
            row = await self._channel_row(session, channel)
            mutes = (
                {m.topic: m for m in await channels_repo.active_mutes(session, row.id, now)} if row else {}
            )
            subscribed = set(await channels_repo.subscriptions(session, row.id)) if row else set()
        rows = []
        for topic in self.catalog.topics:
            lineage = self._ancestors(topic)
            muted_by = next((mutes[name] for name in lineage if name in mutes), None)
            if muted_by is not None:
                until = f" until {_clock_text(muted_by.until)}" if muted_by.until else ""
                inherited = f" (via {muted_by.topic})" if muted_by.topic != topic.name else ""
                state = f"muted{until}{inherited}"
            elif any(name in subscribed for name in lineage):
                state = "on"
            else:
                state = "not subscribed"
            rows.append((topic.name, topic.title, state))
        return NewsReply(
            kind="topics",
            title="Topics",
            text="Alerts in this channel, per topic. Editors change them with mute/unmute and subscribe.",
            table=Table(columns=("topic", "what", "alerts here"), rows=tuple(rows)),
            examples=(self._example("mute"), self._example("latest")),
            generated_at=now,
        )

    def _parse_mute_end(self, rest: str, now: datetime) -> datetime | None:
        """None for "until unmuted"; raises CommandError for something unreadable."""
        words = rest.split()
        if not words:
            return None
        keyword = words[0].lower()
        value = " ".join(words[1:]) if keyword in ("for", "until") else " ".join(words)
        if keyword == "until":
            moment = next_clock_time(value, now)
            if moment is None:
                day = parse_date(value)
                if day is not None:
                    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if moment is None or moment <= now:
                raise CommandError(
                    f"I couldn't read `until {value[:40]}`: give a UTC time like 18:00 or a future date.",
                    example=f"/news mute {self.example_topic} until 18:00",
                )
            return moment
        duration = parse_duration(value)
        if duration is None:
            raise CommandError(
                f"I couldn't read `{value[:40]}` as a duration: try 30m, 2h or 3d.",
                example=self._example("mute"),
            )
        return now + duration

    async def _mute(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        name, _, when = rest.partition(" ")
        topic = self.resolve_topic(
            name, command="mute", example=lambda meant: _retyped(rest, name, meant, "mute")
        )
        until = self._parse_mute_end(when, now)
        async with self.sessions() as session, session.begin():
            row = await channels_repo.ensure_channel(session, channel, now)
            await channels_repo.mute(session, row.id, topic.name, until, caller.user_id, now)
        period = (
            f"for {describe_duration(until - now)} (until {_clock_text(until)})"
            if until
            else "until someone unmutes it"
        )
        return NewsReply(
            kind="mute",
            title=f"Muted {topic.name}",
            text=(
                f"Muted `{topic.name}` in this channel {period}. Stories are still stored and searchable; "
                "when the mute ends you'll hear how many were held back."
            ),
            examples=(f"/news unmute {topic.name}",),
            ephemeral=False,
            generated_at=now,
        )

    async def _unmute(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        topic = self.resolve_topic(rest, command="unmute")
        async with self.sessions() as session, session.begin():
            row = await self._channel_row(session, channel)
            removed = await channels_repo.unmute(session, row.id, topic.name) if row else None
        if removed is None:
            return NewsReply(
                kind="unmute",
                title=f"{topic.name} was not muted",
                text=f"`{topic.name}` was not muted in this channel; nothing changed.",
                generated_at=now,
            )
        return NewsReply(
            kind="unmute",
            title=f"Unmuted {topic.name}",
            text=mute_ended_notice(topic.name, removed.skipped_count, muted_for=now - removed.muted_at),
            ephemeral=False,
            generated_at=now,
        )

    async def _subscribe(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        topic = self.resolve_topic(rest, command="subscribe")
        async with self.sessions() as session, session.begin():
            row = await channels_repo.ensure_channel(session, channel, now)
            added = await channels_repo.subscribe(session, row.id, topic.name, caller.user_id, now)
        text_line = (
            f"This channel now gets alerts on `{topic.name}` ({topic.title})."
            if added
            else f"This channel already gets alerts on `{topic.name}`."
        )
        return NewsReply(
            kind="subscribe",
            title=f"Subscribed to {topic.name}",
            text=text_line,
            ephemeral=False,
            generated_at=now,
        )

    async def _unsubscribe(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        topic = self.resolve_topic(rest, command="unsubscribe")
        async with self.sessions() as session, session.begin():
            row = await self._channel_row(session, channel)
            removed = await channels_repo.unsubscribe(session, row.id, topic.name) if row else False
        text_line = (
            f"This channel no longer gets alerts on `{topic.name}`."
            if removed
            else f"This channel was not subscribed to `{topic.name}`; nothing changed."
        )
        return NewsReply(
            kind="unsubscribe",
            title=f"Unsubscribed from {topic.name}",
            text=text_line,
            ephemeral=False,
            generated_at=now,
        )

    # --- feed health ---

    def _delivery_section(self, delivery: DeliveryStatus, now: datetime) -> ReplySection:
        waiting = ""
        if delivery.oldest_pending_age is not None:
            waiting = f", the oldest waiting {describe_duration(delivery.oldest_pending_age)}"
        lines = [f"{delivery.pending} alert(s) waiting to be sent{waiting}."]
        if delivery.dead_here:
            lines.append(f"{delivery.dead_here} alert(s) here could not be delivered and were given up on:")
            for letter in delivery.recent_dead:
                what = letter.title or letter.kind
                reason = f": {letter.last_error}" if letter.last_error else ""
                lines.append(
                    f"{letter.platform} {letter.channel}, {what[:80]} "
                    f"({describe_ago(letter.created_at, now)}, {letter.attempts} tries){reason}"
                )
        if delivery.dead_elsewhere:  # other workspaces/servers: counted, never described
            lines.append(
                f"{delivery.dead_elsewhere} more undeliverable alert(s) in other workspaces or servers."
            )
        return ReplySection(heading="Delivery", lines=tuple(lines))

    async def _feeds(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        async with self.sessions() as session:
            feeds = list((await session.execute(select(FeedRow).order_by(FeedRow.name))).scalars())
            delivery = await delivery_status(
                session,
                now,
                platform=channel.platform,
                team_id=channel.team_id,
                channel_id=channel.external_id,
            )
        rows = []
        failing = 0
        for feed in feeds:
            if not feed.enabled:
                status = "disabled"
            elif feed.consecutive_failures:
                status = f"failing ({feed.consecutive_failures}x)"
                failing += 1
            elif feed.last_success_at is None:
                status = "not polled yet"
            else:
                status = "ok"
            error = "-"
            if feed.last_error:
                error = f"{feed.last_error} ({describe_ago(feed.last_error_at, now)})"
            if not feed.enabled and feed.disabled_reason:
                error = feed.disabled_reason
            next_poll = "not scheduled" if feed.next_poll_at is None else describe_ago(feed.next_poll_at, now)
            if not feed.enabled:
                next_poll = "-"
            if feed.enabled and feed.next_poll_at is not None and feed.next_poll_at <= now:
                next_poll = "due now"
            rows.append((feed.name, status, describe_ago(feed.last_success_at, now), error, next_poll))
        sections = [self._delivery_section(delivery, now)] if delivery.dead or delivery.pending else []
        summary = (
            f"{len(feeds)} feeds, {failing} failing."
            if feeds
            else "No feeds yet: they are added from FEEDS_FILE."
        )
        return NewsReply(
            kind="feeds",
            title="Feed health",
            text=summary,
            table=Table(
                columns=("feed", "status", "last success", "last error", "next poll"), rows=tuple(rows)
            )
            if rows
            else None,
            sections=tuple(sections),
            generated_at=now,
        )
