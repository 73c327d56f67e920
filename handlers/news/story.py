"""One story in depth and key figures over time: `/news story <number>` and `/news figures <words>`.

Both read a story's revisions, each dated by when its figures were reported, so a figure's history reads
in the order the news told it: table rows in time order, and a chart (`NewsReply.chart`) of every figure
that was reported more than once, which the adapters draw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from charts.figure_chart import FigureChart, FigureSeries
from errors import CommandError
from handlers.news.common import DEFAULT_RESULTS, Command, CommandFamily, clock_text, hit_line, story_line
from handlers.news.search import parse_search
from handlers.news.views import NewsReply, ReplySection, StoryLine, Table
from storage import story_reads
from storage.search import search_stories
from storage.story_records import figures_from_json
from stories.model import FigureChange
from values.chat import Caller, ChannelRef

FIGURE_ROWS = 40
CHART_SERIES = 6  # lines on one chart: more and neither colours nor labels can be told apart


def figure_chart(title: str, reports: Iterable[tuple[Any, str, datetime, float]]) -> FigureChart | None:
    """The chart of the figures reported more than once: `reports` are (figure identity, label, when,
    value); one line per identity, its points in time order. None when no figure has a history to draw."""
    labels: dict[Any, str] = {}
    points: dict[Any, list[tuple[datetime, float]]] = {}
    for identity, label, when, value in sorted(reports, key=lambda report: report[2]):
        labels.setdefault(identity, label)
        line = points.setdefault(identity, [])
        if not line or line[-1] != (when, value):
            line.append((when, value))
    histories = [identity for identity, line in points.items() if len(line) > 1]
    # The figures that moved most are the story; a figure merely repeated comes last.
    histories.sort(key=lambda identity: -len({value for _, value in points[identity]}))
    series = tuple(FigureSeries(labels[i], tuple(points[i])) for i in histories[:CHART_SERIES])
    return FigureChart(title=title, series=series) if series else None


def _change_line(change: Any) -> str | None:
    """One stored figure change (or a line already worded) as a sentence; None for one it cannot read."""
    if isinstance(change, str):
        return change
    if not isinstance(change, dict):
        return None
    old = figures_from_json([change["old"]]) if isinstance(change.get("old"), dict) else ()
    new = figures_from_json([change["new"]]) if isinstance(change.get("new"), dict) else ()
    if not old and not new:
        return None
    what = str(change.get("what") or (new or old)[0].what)
    return FigureChange(what=what, old=old[0] if old else None, new=new[0] if new else None).describe()


class StoryCommands(CommandFamily):
    """`story` and `figures`."""

    def commands(self) -> dict[str, Command]:
        return {"story": self._story, "figures": self._figures}

    async def _story(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        token = rest.strip().lstrip("#")
        if not (token.isascii() and token.isdigit()) or len(token) > 18:  # "²" is no story number
            raise CommandError(
                "Give the story's number, as shown in search results (#42).", example="/news story 42"
            )
        story_id = int(token)
        async with self.sessions() as session:
            story = await story_reads.get_story(session, story_id)
            if story is None:
                raise CommandError(
                    f"There is no story #{story_id}. Search for it to find its number.",
                    example="/news venezuela",
                )
            entries = await story_reads.story_sources(session, story_id)
            revisions = await story_reads.figure_history(session, [story_id])
        sources = tuple(
            StoryLine(
                story_id=story_id,
                title=entry.title,
                link=entry.link,
                source=feed_name,
                published=entry.published_at or entry.first_seen_at,
                language=entry.language,
            )
            for entry, feed_name in entries
        )
        sections = [ReplySection(heading=f"Sources ({len(sources)})", stories=sources)]
        joined = tuple(match_line(feed_name, entry.match) for entry, feed_name in entries)
        if len(joined) > 1:
            sections.append(ReplySection(heading="Why they are one story", lines=joined))
        updates: list[str] = []
        for revision, reported in revisions:
            for change in revision.changes or ():
                described = _change_line(change)
                if described:
                    updates.append(f"{clock_text(reported)} (rev {revision.revision}): {described}")
        if updates:
            sections.append(ReplySection(heading="Updates", lines=tuple(updates)))
        # A scanned archive can bring an older report as a later revision: time, not revision, orders them.
        in_time_order = sorted(revisions, key=lambda item: (item[1], item[0].revision))
        reported_figures = [
            (revision, reported, figure)
            for revision, reported in in_time_order
            for figure in figures_from_json(revision.figures)
        ]
        rows = [
            (str(revision.revision), clock_text(reported), figure.what, figure.text)
            for revision, reported, figure in reported_figures
        ]
        chart = figure_chart(
            f"#{story.id} {story.title}",
            ((figure.key(), figure.what, reported, figure.value) for _, reported, figure in reported_figures),
        )
        table = (
            Table(columns=("rev", "when", "figure", "value"), rows=tuple(rows), title="Figure history")
            if rows
            else None
        )
        return NewsReply(
            kind="story",
            title=f"#{story.id} {story.title}",
            text=story.summary or "",
            # The summary is the reply's text; the line carries the rest (source, link, figures).
            stories=(dataclasses.replace(story_line(story), summary=""),),
            sections=tuple(sections),
            table=table,
            chart=chart,
            generated_at=now,
        )

    async def _figures(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        if not rest.strip():
            raise CommandError(
                "Which stories? Give some words to search for.", example="/news figures deserters"
            )
        query, topics = parse_search(self.topics, rest, now, command="/news figures")
        async with self.sessions() as session:
            hits = await search_stories(session, query, now, limit=DEFAULT_RESULTS, topics=topics)
            story_ids = [h.story_id for h in hits]
            revisions = await story_reads.figure_history(session, story_ids)
        seen: set[tuple[int, str, str]] = set()
        rows: list[tuple[datetime, str, str, str]] = []
        reports: list[tuple[tuple[int, str], str, datetime, float]] = []
        with_history = {revision.story_id for revision, _ in revisions}
        for revision, reported in sorted(revisions, key=lambda item: (item[1], item[0].id)):
            for figure in figures_from_json(revision.figures):
                key = (revision.story_id, figure.key(), figure.text)
                if key in seen:
                    continue  # unchanged since the last revision: one row per value, not per revision
                seen.add(key)
                rows.append((reported, figure.what, figure.text, f"#{revision.story_id}"))
                label = f"{figure.what} (#{revision.story_id})"
                reports.append(((revision.story_id, figure.key()), label, reported, figure.value))
        for hit in hits:
            if hit.story_id in with_history:
                continue
            for figure in figures_from_json(hit.figures):
                rows.append((hit.published, figure.what, figure.text, f"#{hit.story_id}"))
        # Time order: the table reads as the news told it. Past FIGURE_ROWS the latest rows are kept.
        rows.sort(key=lambda row: (row[0], row[1].lower()))
        shown = query.describe()
        table_rows = tuple(
            (f"{when:%Y-%m-%d %H:%M}", what, value, story) for when, what, value, story in rows
        )[-FIGURE_ROWS:]
        if not table_rows:
            text_line = (
                f"No key figures in stories matching `{shown}`." if hits else f"No stories match `{shown}`."
            )
            return NewsReply(kind="figures", title=f"Figures: {shown}", text=text_line, generated_at=now)
        return NewsReply(
            kind="figures",
            title=f"Figures: {shown}",
            text=f"Key figures of the {len(hits)} best-matching stories, over time.",
            table=Table(
                columns=("when (UTC)", "figure", "value", "story"),
                rows=table_rows,
                title="Key figures",
            ),
            chart=figure_chart(f"Key figures: {shown}", reports),
            stories=tuple(hit_line(h) for h in hits),
            generated_at=now,
        )


_MATCH_KIND = {"exact": "copy", "near": "near copy", "model": "same story"}


def match_line(source: str, match: dict[str, Any] | None) -> str:
    """How one source joined the story (`StoryMatch` as stored): "EFE: same story 0.93 (shared figure 326
    (deserters); title cosine 0.71 via translation)"."""
    if not match:
        return f"{source}: first report"
    kind = _MATCH_KIND.get(str(match.get("kind")), str(match.get("kind")))
    evidence = "; ".join(str(item) for item in match.get("evidence") or ())
    score = float(match.get("score") or 0.0)
    return f"{source}: {kind} {score:.2f}" + (f" ({evidence})" if evidence else "")
