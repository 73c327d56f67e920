"""Turn a claimed outbox row into the `Alert` a poster renders, from the story as stored now."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncSession

from storage import story_reads
from storage.outbox import ClaimedRow, changes_from_payload
from storage.story_records import figures_from_json, story_from_row
from stories.model import Alert, AlertKind, StoryCluster


async def build_alert(session: AsyncSession, row: ClaimedRow) -> Alert | None:
    """The alert for a row; None when its story no longer exists (nothing left to say)."""
    kind = AlertKind(row.kind)
    if kind is AlertKind.NOTICE:
        return Alert(kind=kind, story=None, notice=str(row.payload.get("notice", "")))
    if row.story_id is None:
        return None
    story = await story_reads.get_story(session, row.story_id)
    if story is None:
        return None
    cluster = story_from_row(story)
    if kind is AlertKind.NEW and row.revision < (story.revision or 1):
        # The story was revised before this first alert went out (same poll, or an outage): the alert shows
        # the figures of its own revision, and the queued update that follows in its thread says what changed.
        cluster = await _as_of_revision(session, cluster, row.revision)
    return Alert(kind=kind, story=cluster, changes=changes_from_payload(row.payload))


async def _as_of_revision(session: AsyncSession, cluster: StoryCluster, revision: int) -> StoryCluster:
    stored = await story_reads.revision_figures(session, cluster.story_id, revision)
    if stored is None:
        return cluster
    return dataclasses.replace(cluster, figures=figures_from_json(stored), revision=revision)
