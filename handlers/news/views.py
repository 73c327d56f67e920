"""The contract between the command layer and the adapters: `NewsAnswerer`, the one way an adapter asks for
an answer, and the view model every `/news` answer is made of. Adapters only render these; they never query.

Kept generic on purpose (title, text, story lines, sections, a table, a chart's data) so a renderer
handles every command without knowing which command produced the reply. Who asks and where (`Caller`,
`ChannelRef`) are in `values.chat`, since storage speaks of channels too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from charts.figure_chart import FigureChart
from stories.model import KeyFigure
from values.chat import Caller, ChannelRef


@dataclass(frozen=True, slots=True)
class StoryLine:
    """One story in a reply: its best source first, the others counted."""

    story_id: int
    title: str
    link: str | None
    source: str
    published: datetime | None
    summary: str = ""
    other_sources: int = 0
    topics: tuple[str, ...] = ()
    figures: tuple[KeyFigure, ...] = ()
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ReplySection:
    heading: str
    stories: tuple[StoryLine, ...] = ()
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""


@dataclass(frozen=True, slots=True)
class NewsReply:
    """What `/news ...` answers.

    `kind` names the command (or "error", "refused", "role_unknown") for logs and tests.
    """

    kind: str
    title: str
    text: str = ""
    stories: tuple[StoryLine, ...] = ()
    sections: tuple[ReplySection, ...] = ()
    table: Table | None = None
    chart: FigureChart | None = None  # drawn by the adapter: a PNG where it can attach one, else text
    examples: tuple[str, ...] = ()  # shown under errors and in help
    ephemeral: bool = True  # only the caller sees it, unless they share it
    is_error: bool = False
    generated_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


class NewsAnswerer(Protocol):
    """Answer a `/news` line: what every adapter needs of the command layer (`service.NewsService`)."""

    async def handle(self, text: str, caller: Caller, channel: ChannelRef) -> NewsReply: ...
