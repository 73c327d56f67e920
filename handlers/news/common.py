"""What every `/news` command family shares: the shape of a command, what a family answers from, and how
stored stories become the `StoryLine`s of a reply.

The families (`search`, `story`, `digest`, `channel`, `feeds` beside this module) each subclass
`CommandFamily`; `handlers.news.service.NewsService` routes each verb to the command a family lists for it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.news.topics import TopicResolver
from handlers.news.views import NewsReply, StoryLine
from storage.models import StoryRow
from storage.search import SearchHit
from storage.story_records import figures_from_json
from values.chat import Caller, ChannelRef

# Stories a family lists unless told otherwise (a search shows twice as many), and the most `latest` shows.
DEFAULT_RESULTS = 5
MAX_RESULTS = 25

# One `/news` verb: the rest of the line after the verb, who asked, in which channel, and when.
Command = Callable[[str, Caller, ChannelRef, datetime], Awaitable[NewsReply]]


class CommandFamily(ABC):
    """A group of related `/news` verbs and the database and topic catalogue they answer from."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], topics: TopicResolver) -> None:
        self.sessions = sessions
        self.topics = topics

    @abstractmethod
    def commands(self) -> dict[str, Command]:
        """The verbs this family answers, each with its command."""


def clock_text(moment: datetime) -> str:
    """A moment as replies show it: to the minute, in UTC."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def story_line(story: StoryRow) -> StoryLine:
    """A stored story as a reply line."""
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


def hit_line(hit: SearchHit) -> StoryLine:
    """A search hit as a reply line."""
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
