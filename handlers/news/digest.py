"""`/news digest [period]`: the period's stories on the beat, grouped under their most specific topic."""

from __future__ import annotations

from datetime import datetime, timedelta

from errors import CommandError
from handlers.news.common import MAX_RESULTS, Command, CommandFamily, story_line
from handlers.news.durations import describe_duration, parse_duration
from handlers.news.views import NewsReply, ReplySection
from storage.models import StoryRow
from storage.search import recent_stories
from values.chat import Caller, ChannelRef

DEFAULT_DIGEST = timedelta(hours=24)
MAX_DIGEST = timedelta(days=31)
DIGEST_PER_TOPIC = 10


class DigestCommands(CommandFamily):
    """`digest`."""

    def commands(self) -> dict[str, Command]:
        return {"digest": self._digest}

    async def _digest(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        period = DEFAULT_DIGEST
        if rest.strip():
            parsed = parse_duration(rest.strip())
            if parsed is None or parsed > MAX_DIGEST:
                raise CommandError(
                    "Give the period as hours or days, up to 31 days: 12h, 24h, 3d.",
                    example=self.topics.example("digest"),
                )
            period = parsed
        async with self.sessions() as session:
            stories = await recent_stories(session, limit=DIGEST_PER_TOPIC * 20, since=now - period)
        catalog = self.topics.catalog
        beat = catalog.beat
        # Sub-topics in catalogue order, then the beat itself for stories with no more specific topic.
        order = [t.name for t in catalog.topics if t.name != beat.name] + [beat.name]
        groups: dict[str, list[StoryRow]] = {name: [] for name in order}
        for story in stories:
            groups[self.topics.most_specific(story.topics or ())].append(story)
        sections: list[ReplySection] = []
        for name in order:
            members = groups[name]
            if not members:
                continue
            topic = catalog.get(name)
            heading = topic.title if topic is not None else name
            if name == beat.name and len(sections) > 0:
                heading = f"Other {beat.title} stories"
            shown = tuple(story_line(s) for s in members[:DIGEST_PER_TOPIC])
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
