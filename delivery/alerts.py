"""Turn a claimed outbox row into the `Alert` a poster renders, from the story as stored now."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delivery.outbox import ClaimedRow, changes_from_payload, figure_from_dict
from storage.models import StoryRevisionRow, StoryRow
from stories.model import Alert, AlertKind, KeyFigure, StoryCluster


def cluster_from_row(row: StoryRow) -> StoryCluster:
    figures: list[KeyFigure] = []
    for data in row.figures or ():
        figure = figure_from_dict(data) if isinstance(data, dict) else None
        if figure is not None:
            figures.append(figure)
    return StoryCluster(
        story_id=row.id,
        title=row.title,
        link=row.link,
        source=row.source,
        summary=row.summary or "",
        language=row.language,
        topics=tuple(row.topics or ()),
        matched=tuple(row.matched or ()),
        figures=tuple(figures),
        first_seen=row.first_seen_at,
        published=row.published_at,
        revision=row.revision,
        source_count=row.source_count,
        relevant=row.relevant,
    )


async def build_alert(session: AsyncSession, row: ClaimedRow) -> Alert | None:
    """The alert for a row; None when its story no longer exists (nothing left to say)."""
    kind = AlertKind(row.kind)
    if kind is AlertKind.NOTICE:
        return Alert(kind=kind, story=None, notice=str(row.payload.get("notice", "")))
    if row.story_id is None:
        return None
    story = await session.get(StoryRow, row.story_id)
    if story is None:
        return None
    cluster = cluster_from_row(story)
    if kind is AlertKind.NEW and row.revision < (story.revision or 1):
        # The story was revised before this first alert went out (same poll, or an outage): the alert shows
        # the figures of its own revision, and the queued update that follows in its thread says what changed.
        cluster = await _as_of_revision(session, cluster, row.revision)
    return Alert(kind=kind, story=cluster, changes=changes_from_payload(row.payload))


async def _as_of_revision(session: AsyncSession, cluster: StoryCluster, revision: int) -> StoryCluster:
    query = select(StoryRevisionRow.figures).where(
        StoryRevisionRow.story_id == cluster.story_id, StoryRevisionRow.revision == revision
    )
    stored = (await session.execute(query)).scalar_one_or_none()
    if stored is None:
        return cluster
    figures = tuple(f for f in (figure_from_dict(d) for d in stored if isinstance(d, dict)) if f is not None)
    return dataclasses.replace(cluster, figures=figures, revision=revision)
