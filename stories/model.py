"""The one domain model shared by feeds, the story pipeline, storage, delivery and every chat adapter.

Plain dataclasses, no platform or database types: adapters render these, storage persists them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedSource:
    """A feed as configured in FEEDS_FILE (`[[feeds]]` table)."""

    name: str
    url: str
    language: str
    interval_seconds: int | None = None


@dataclass(slots=True)
class Entry:
    """One feed item, normalised: clean text, canonical link, UTC time."""

    entry_id: str  # stable: guid, else canonical link, else hash of title+date
    feed_name: str
    title: str
    link: str | None = None  # canonical: tracking parameters and fragment removed
    guid: str | None = None
    summary: str = ""  # clean text, HTML stripped
    content: str = ""  # clean full text when the feed (or the article fetch) has it
    published: datetime | None = None  # UTC; None means the feed gave no usable date
    first_seen: datetime | None = None  # UTC; set when stored
    language: str | None = None  # ISO 639-1 ("en", "es"): the entry's, else the feed's, else detected
    author: str | None = None
    categories: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Everything the pipeline reads: title, then the longest body we have."""
        body = self.content if len(self.content) > len(self.summary) else self.summary
        return f"{self.title}\n\n{body}".strip()


@dataclass(frozen=True, slots=True)
class KeyFigure:
    """A number with what it counts: 326 "members of Venezuela's armed forces"."""

    value: float  # 1.6 million -> 1600000.0
    text: str  # as written, qualifier kept: "more than 1.6 million"
    what: str  # short noun phrase: "civilians in the colectivos"
    unit: str | None = None  # "%", "USD", "COP", "VES"... None for a plain count
    score: float = 0.0  # ranking weight: higher shows first

    def key(self) -> str:
        """What the figure counts, normalised, so an update can say 326 -> 411 for the same thing."""
        return " ".join(self.what.lower().split())


ALERT_FIGURES = 4  # an alert shows at most this many key figures: more reads as noise on deadline


def top_figures(figures: Iterable[KeyFigure], limit: int = ALERT_FIGURES) -> tuple[KeyFigure, ...]:
    """The figures an alert shows: highest ranked first, at most `limit` (ties keep extraction order)."""
    return tuple(sorted(figures, key=lambda figure: -figure.score)[:limit])


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic an editor can read and change in TOPICS_FILE; `rules` is the parsed rule set."""

    name: str
    title: str
    parent: str | None = None
    description: str = ""
    colour: int = 0x1F6FEB


@dataclass(frozen=True, slots=True)
class Detection:
    """Why an entry is, or is not, on the beat: every decision is explainable."""

    relevant: bool
    topics: tuple[str, ...] = ()  # beat first, then sub-topics
    matched: tuple[str, ...] = ()  # the terms/places that matched, as written in the rules
    excluded_by: tuple[str, ...] = ()  # exclusion rules that fired, if any


@dataclass(frozen=True, slots=True)
class FigureChange:
    """One line of an update: what changed between two revisions of a story."""

    what: str
    old: KeyFigure | None
    new: KeyFigure | None

    def describe(self) -> str:
        if self.old is None and self.new is not None:
            return f"new: {self.new.text} {self.new.what}"
        if self.new is None and self.old is not None:
            return f"no longer reported: {self.old.text} {self.old.what}"
        assert self.old is not None and self.new is not None
        return f"{self.what}: {self.old.text} → {self.new.text}"


class StoryEventKind(enum.StrEnum):
    NEW = "new"  # first entry of an on-beat story: one alert
    UPDATE = "update"  # later entry whose key figures changed: a reply in the first alert's thread
    DUPLICATE = "duplicate"  # same story, nothing new: no message
    OFF_BEAT = "off_beat"  # stored and searchable, never alerted


@dataclass(slots=True)
class StoryCluster:
    """A real-world story: every entry (outlets, languages, re-publications) folded into one."""

    story_id: int
    title: str
    link: str | None
    source: str  # feed name of the first entry
    summary: str
    language: str | None
    topics: tuple[str, ...]
    matched: tuple[str, ...]
    figures: tuple[KeyFigure, ...]
    first_seen: datetime
    published: datetime | None
    revision: int = 1  # bumps on every update with changed figures
    source_count: int = 1
    relevant: bool = True


@dataclass(frozen=True, slots=True)
class StoryMatch:
    """Why an entry joined a story: how ("exact" copy, "near" copy, or the same-story "model"), how sure
    (1.0 for an exact copy, the shingle similarity of a near copy, the model's probability), and the evidence
    a reporter can check ("shared figure 326 (deserters)", "title cosine 0.71 via translation")."""

    kind: str
    score: float
    evidence: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "score": round(self.score, 3), "evidence": list(self.evidence)}


@dataclass(frozen=True, slots=True)
class NearMatch:
    """The story an entry that started its own came close to joining: the same-story model's best candidate,
    under the bar for joining and over the bar for saying so. Its alert names that story, so a reporter sees
    at once that it may be the same story told from another angle."""

    story_id: int
    title: str
    source: str  # feed name of the story's first report
    score: float  # the model's probability for the member matched best

    def as_json(self) -> dict[str, object]:
        return {"story_id": self.story_id, "title": self.title, "source": self.source,
                "score": round(self.score, 3)}  # fmt: skip

    def describe(self) -> str:
        """The alert's line, plain text (each platform escapes it): `/news story N` shows the other story."""
        return (
            f"Possibly the same story as story {self.story_id}: {self.title} ({self.source}; "
            f"same-story model {self.score:.2f}, under the bar for one story)"
        )

    @classmethod
    def from_json(cls, data: object) -> NearMatch | None:
        """From `as_json`'s form; None for anything else (a row queued before it existed)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(int(data["story_id"]), str(data["title"]), str(data["source"]), float(data["score"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(slots=True)
class StoryEvent:
    """What the pipeline decided for one new entry; delivery turns NEW/UPDATE into outbox rows."""

    kind: StoryEventKind
    entry: Entry
    story: StoryCluster
    duplicate_of: str | None = None  # entry_id of the story's first entry
    changes: tuple[FigureChange, ...] = ()
    detection: Detection = field(default_factory=lambda: Detection(relevant=False))
    match: StoryMatch | None = None  # None: the entry started its story
    near_match: NearMatch | None = None  # a story it started: the one it came close to joining, if any


class AlertKind(enum.StrEnum):
    NEW = "new"
    UPDATE = "update"
    NOTICE = "notice"  # e.g. "mute ended: 4 stories skipped"
    # The first alert re-rendered in place because another outlet or language joined its story; never a
    # new message, never a ping.
    EDIT = "edit"


@dataclass(frozen=True, slots=True)
class AlertSource:
    """One outlet's report of a story as an alert lists it: who, in which language, where to read it."""

    name: str
    language: str | None
    link: str | None


@dataclass(slots=True)
class Alert:
    """What an adapter renders and posts: built from a story at delivery time."""

    kind: AlertKind
    story: StoryCluster | None
    changes: tuple[FigureChange, ...] = ()
    notice: str | None = None  # plain text for NOTICE alerts
    sources: tuple[AlertSource, ...] = ()  # every outlet and language of the story, first reported first
    joined: tuple[AlertSource, ...] = ()  # EDIT: the reports that joined since the message was last edited
    near_match: NearMatch | None = None  # NEW and its EDITs: the story this one may be (`NearMatch`)


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """The platform's id for a message we posted, so updates can thread under it."""

    platform: str
    channel: str
    message_id: str  # Slack ts, Discord message id, console sequence number
    thread_id: str | None = None
