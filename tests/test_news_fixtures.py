"""Builders shared by the /news and search tests: a stand-in topic catalog and rows inserted directly.

The real catalog (`stories.topics`) and the pipeline that writes stories are other areas; these tests only
need rows shaped like theirs. The two tests at the bottom check the builders themselves, including that
the full-text index follows inserts, updates and deletes of entries in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from rapidfuzz import fuzz, process
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers.news.query import parse_news_query
from storage.db import session_factory
from storage.models import EntryRow, FeedRow, StoryRevisionRow, StoryRow
from storage.search import search_stories
from stories.model import Topic

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BEAT = "venezuela-colombia-border"


@dataclass
class StandInCatalog:
    """The four methods and two attributes of `stories.topics.TopicCatalog` the command layer uses."""

    beat: Topic
    topics: tuple[Topic, ...]

    def get(self, name: str) -> Topic | None:
        return next((t for t in self.topics if t.name == name.strip().lower()), None)

    def names(self) -> list[str]:
        return [t.name for t in self.topics]

    def suggest(self, name: str) -> str | None:
        best = process.extractOne(name.lower(), self.names(), scorer=fuzz.partial_ratio, score_cutoff=70)
        return None if best is None else str(best[0])


def stand_in_catalog() -> StandInCatalog:
    beat = Topic(name=BEAT, title="Venezuela–Colombia border")
    return StandInCatalog(
        beat=beat,
        topics=(
            beat,
            Topic(name="migration", title="Migration", parent=BEAT),
            Topic(name="security", title="Security", parent=BEAT),
            Topic(name="deserters", title="Military deserters", parent="security"),
            Topic(name="trade", title="Trade and crossings", parent=BEAT),
        ),
    )


# Pieces of other engines' syntax, filters and quotes, mixed with arbitrary unicode.
SYNTAX_PIECES = [
    *"\"-*:()^+~!&|<>'\\;%_ \t\n\x00",
    "NEAR",
    "AND",
    "OR",
    "NOT",
    "since:",
    "lang:",
    "source:",
    "topic:",
]


def search_like_text() -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(SYNTAX_PIECES), st.text(max_size=8))
    return st.lists(piece, max_size=20).map("".join)


def figure(value: float, what: str, text: str | None = None) -> dict[str, Any]:
    return {"value": value, "text": text or f"{value:g}", "what": what, "unit": None, "score": 1.0}


async def add_feed(session: AsyncSession, name: str, language: str = "en", **health: Any) -> FeedRow:
    row = FeedRow(
        name=name,
        url=f"http://127.0.0.1/{name}.xml",
        language=language,
        enabled=health.pop("enabled", True),
        consecutive_failures=health.pop("consecutive_failures", 0),
        backlog_loaded=True,
        created_at=NOW - timedelta(days=30),
        **health,
    )
    session.add(row)
    await session.flush()
    return row


async def add_entry(
    session: AsyncSession,
    feed: FeedRow,
    story: StoryRow | None,
    title: str,
    *,
    summary: str = "",
    content: str = "",
    language: str | None = None,
    published: datetime | None = None,
    seen: datetime | None = None,
    match: dict[str, object] | None = None,
) -> EntryRow:
    row = EntryRow(
        feed_id=feed.id,
        entry_key=uuid.uuid4().hex,
        link=f"https://news.example/{uuid.uuid4().hex[:8]}",
        title=title,
        summary=summary,
        content=content,
        published_at=published,
        first_seen_at=seen or published or NOW,
        language=language or feed.language,
        categories=[],
        story_id=story.id if story is not None else None,
        relevant=story.relevant if story is not None else False,
        topics=list(story.topics) if story is not None else [],
        matched=[],
        figures=[],
        match=match,
    )
    session.add(row)
    await session.flush()
    if story is not None and story.first_entry_id is not None:
        story.source_count += 1
    return row


async def add_story(
    session: AsyncSession,
    feed: FeedRow,
    title: str,
    *,
    summary: str = "",
    content: str = "",
    language: str | None = None,
    published: datetime | None = None,
    topics: Sequence[str] = (BEAT,),
    relevant: bool = True,
    figures: Sequence[dict[str, Any]] = (),
) -> StoryRow:
    """A story with its first entry (and revision 1 when it has figures)."""
    when = published or NOW
    story = StoryRow(
        title=title,
        link=f"https://news.example/{uuid.uuid4().hex[:8]}",
        source=feed.name,
        summary=summary,
        language=language or feed.language,
        relevant=relevant,
        topics=list(topics),
        matched=[],
        figures=list(figures),
        revision=1,
        source_count=1,
        first_seen_at=when,
        published_at=when,
        updated_at=when,
    )
    session.add(story)
    await session.flush()
    entry = await add_entry(
        session, feed, story, title, summary=summary, content=content, language=language, published=when
    )
    story.first_entry_id = entry.id
    if figures:
        await add_revision(session, story, 1, figures, created_at=when, entry=entry)
    return story


async def add_revision(
    session: AsyncSession,
    story: StoryRow,
    revision: int,
    figures: Sequence[dict[str, Any]],
    *,
    created_at: datetime,
    changes: Sequence[Any] = (),
    entry: EntryRow | None = None,
) -> StoryRevisionRow:
    row = StoryRevisionRow(
        story_id=story.id,
        revision=revision,
        entry_id=entry.id if entry else None,
        figures=list(figures),
        changes=list(changes),
        created_at=created_at,
    )
    session.add(row)
    story.revision = max(story.revision, revision)
    story.figures = list(figures)
    await session.flush()
    return row


async def seed_newsroom(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Three feeds (one failing), four stories; returns the id of the deserters story (two sources,
    figures 326 → 411 over two revisions)."""
    async with sessions() as session, session.begin():
        reuters = await add_feed(session, "Reuters", last_success_at=NOW - timedelta(minutes=5))
        afp = await add_feed(session, "AFP español", language="es", last_success_at=NOW - timedelta(hours=1))
        await add_feed(
            session,
            "El Pitazo",
            language="es",
            consecutive_failures=3,
            last_error="the server did not answer within 30 seconds",
            last_error_at=NOW - timedelta(minutes=20),
            next_poll_at=NOW + timedelta(minutes=10),
        )
        deserters = await add_story(
            session,
            reuters,
            "Venezuelan soldiers desert to Colombia",
            summary="Hundreds of members of the armed forces crossed the border",
            published=NOW - timedelta(days=2),
            topics=(BEAT, "security", "deserters"),
            figures=[figure(326, "members of Venezuela's armed forces")],
        )
        await add_entry(
            session,
            afp,
            deserters,
            "Desertores venezolanos cruzan a Colombia",
            published=NOW - timedelta(days=1, hours=20),
            # As the pipeline stores it (`StoryMatch.as_json`).
            match={"kind": "model", "score": 0.93, "evidence": ["title cosine 0.64 via translation"]},
        )
        await add_revision(
            session,
            deserters,
            2,
            [figure(411, "members of Venezuela's armed forces")],
            created_at=NOW - timedelta(days=1),
            changes=[
                {
                    "what": "members of venezuela's armed forces",
                    "old": figure(326, "members of Venezuela's armed forces"),
                    "new": figure(411, "members of Venezuela's armed forces"),
                }
            ],
        )
        await add_story(
            session,
            afp,
            "Migrantes cruzan por las trochas de Cúcuta",
            published=NOW - timedelta(hours=6),
            topics=(BEAT, "migration"),
        )
        await add_story(
            session, reuters, "Border bridge reopens at Cúcuta", published=NOW - timedelta(hours=3)
        )
        await add_story(
            session,
            reuters,
            "Oil output rises",
            published=NOW - timedelta(hours=1),
            relevant=False,
            topics=(),
        )
        story_id = deserters.id
    return story_id


async def test_stand_in_catalog_suggests_the_closest_topic() -> None:
    catalog = stand_in_catalog()
    assert catalog.suggest("migrtion") == "migration"
    assert catalog.suggest("zzzzqqq") is None


async def test_full_text_index_follows_entry_changes(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        feed = await add_feed(session, "wire")
        story = await add_story(session, feed, "Floods close the Cúcuta crossing")
        entry_id = story.first_entry_id

    async def found(words: str) -> bool:
        async with sessions() as session:
            return bool(await search_stories(session, parse_news_query(words, NOW), NOW))

    assert await found("cucuta")
    async with sessions() as session, session.begin():
        await session.execute(
            update(EntryRow).where(EntryRow.id == entry_id).values(title="Paraguachón reopens")
        )
    assert not await found("cucuta")
    assert await found("paraguachon")
    async with sessions() as session, session.begin():
        await session.execute(delete(EntryRow).where(EntryRow.id == entry_id))
    assert not await found("paraguachon")
