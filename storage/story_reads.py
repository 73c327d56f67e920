"""Reads of stored stories for the commands and delivery: one story, its sources, the history of its figures
(each revision dated by when its figures were reported, so a figure's history reads in the order the news told
it), one revision's figures, and what `bot.py scan` shows of its entries. Read-only; the pipeline's writes are
in `stories_repo`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EntryRow, FeedRow, StoryRevisionRow, StoryRow


async def get_story(session: AsyncSession, story_id: int) -> StoryRow | None:
    return await session.get(StoryRow, story_id)


async def story_sources(session: AsyncSession, story_id: int) -> list[tuple[EntryRow, str]]:
    """The story's entries with the name of the feed each came from, first seen first."""
    result = await session.execute(
        select(EntryRow, FeedRow.name)
        .join(FeedRow, FeedRow.id == EntryRow.feed_id)
        .where(EntryRow.story_id == story_id)
        .order_by(EntryRow.first_seen_at, EntryRow.id)
    )
    return [(entry, feed_name) for entry, feed_name in result.all()]


async def figure_history(
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


async def revision_figures(session: AsyncSession, story_id: int, revision: int) -> Any | None:
    """The stored figures (JSON) of one revision of a story; None when there is no such revision."""
    query = select(StoryRevisionRow.figures).where(
        StoryRevisionRow.story_id == story_id, StoryRevisionRow.revision == revision
    )
    return (await session.execute(query)).scalar_one_or_none()


async def entry_figures(session: AsyncSession, feed_id: int, entry_keys: Sequence[str]) -> dict[str, Any]:
    """The stored figures (JSON) of these entries of one feed, by entry key."""
    result = await session.execute(
        select(EntryRow.entry_key, EntryRow.figures).where(
            EntryRow.feed_id == feed_id, EntryRow.entry_key.in_(list(entry_keys))
        )
    )
    return dict(result.all())
