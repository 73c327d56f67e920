"""Turn a claimed outbox row into the `Alert` a poster renders, from the story as stored now.

An alert is written in its channel's language (`/news language`): when the channel asks for a language the
story's first report is not in and another report of the story is, the headline, link, summary and figure
labels come from that report, and so do the labels of the figure changes posted in its thread. Every alert
also lists the story's outlets and languages, so an edit (`AlertKind.EDIT`) shows the story as it has grown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storage import story_reads
from storage.channels_repo import ANY_LANGUAGE
from storage.models import EntryRow
from storage.outbox import ClaimedRow, changes_from_payload, first_alert_near_match, joined_from_payload
from storage.story_records import figures_from_json, story_from_row
from stories.figure_match import changes_in_words_of, in_words_of
from stories.model import Alert, AlertKind, AlertSource, FigureChange, NearMatch, StoryCluster
from stories.summarize import summarize


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
    members = await story_reads.story_sources(session, row.story_id)
    changes = changes_from_payload(row.payload)
    report = report_in_language(members, row.channel_language, cluster.language)
    if report is not None:
        cluster, changes = in_words_of_report(cluster, changes, report)
    near_match = None
    if kind is AlertKind.NEW:
        near_match = NearMatch.from_json(row.payload.get("near_match"))
    elif kind is AlertKind.EDIT:
        near_match = await first_alert_near_match(session, row.story_id, row.channel_id)
    return Alert(
        kind=kind,
        story=cluster,
        changes=changes,
        sources=alert_sources(members),
        joined=joined_from_payload(row.payload) if kind is AlertKind.EDIT else (),
        near_match=near_match,
    )


def report_in_language(
    members: Sequence[tuple[EntryRow, str]], language: str, story_language: str | None
) -> tuple[EntryRow, str] | None:
    """The story's first report in `language` (an on-beat one if any), when the alert should be in its words
    rather than the first report's; None for "any", or when the story has none in that language."""
    if language in (ANY_LANGUAGE, story_language):
        return None
    in_language = [(entry, feed) for entry, feed in members if entry.language == language]
    on_beat = [(entry, feed) for entry, feed in in_language if entry.relevant]
    found = on_beat or in_language
    return found[0] if found else None


def in_words_of_report(
    cluster: StoryCluster, changes: tuple[FigureChange, ...], report: tuple[EntryRow, str]
) -> tuple[StoryCluster, tuple[FigureChange, ...]]:
    """The story told in one report's words; its figures keep the story's current values."""
    entry, feed_name = report
    words = figures_from_json(entry.figures)
    body = entry.content if len(entry.content or "") > len(entry.summary or "") else entry.summary
    told = dataclasses.replace(
        cluster,
        title=entry.title,
        link=entry.link or cluster.link,
        source=feed_name,
        summary=summarize(body or "", entry.title, clean=False),
        language=entry.language,
        figures=in_words_of(cluster.figures, words),
    )
    return told, changes_in_words_of(changes, words)


def alert_sources(members: Sequence[tuple[EntryRow, str]]) -> tuple[AlertSource, ...]:
    """One line per outlet and language, first reported first (an outlet's re-publications are one)."""
    sources: dict[tuple[str, str | None], AlertSource] = {}
    for entry, feed_name in members:
        sources.setdefault((feed_name, entry.language), AlertSource(feed_name, entry.language, entry.link))
    return tuple(sources.values())


async def _as_of_revision(session: AsyncSession, cluster: StoryCluster, revision: int) -> StoryCluster:
    stored = await story_reads.revision_figures(session, cluster.story_id, revision)
    if stored is None:
        return cluster
    return dataclasses.replace(cluster, figures=figures_from_json(stored), revision=revision)
