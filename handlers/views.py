"""The view model every `/news` answer is made of. Adapters only render these; they never query.

Kept generic on purpose (title, text, story lines, sections, a table) so a renderer handles every command
without knowing which command produced the reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from stories.model import KeyFigure


@dataclass(frozen=True, slots=True)
class Caller:
    """Who typed the command. The adapter decides `is_editor` from the platform's roles."""

    user_id: str
    is_editor: bool = False
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """Where the command was typed: mutes and subscriptions are per channel."""

    platform: str  # "console", "slack", "discord"
    external_id: str
    team_id: str | None = None


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
    """What `/news ...` answers. `kind` names the command (or "error"/"refused") for logs and tests."""

    kind: str
    title: str
    text: str = ""
    stories: tuple[StoryLine, ...] = ()
    sections: tuple[ReplySection, ...] = ()
    table: Table | None = None
    examples: tuple[str, ...] = ()  # shown under errors and in help
    ephemeral: bool = True  # only the caller sees it, unless they share it
    is_error: bool = False
    generated_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)
