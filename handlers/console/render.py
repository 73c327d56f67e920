"""Terminal rendering of `/news` replies and of alerts: coloured on a TTY, plain text otherwise.

Everything from the outside world (headlines, summaries, feed errors) goes into rich `Text` objects, never
into markup strings, so a headline containing "[bold]" prints as written.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from charts.figure_chart import FigureChart
from charts.sparkline import sparkline
from handlers.news.durations import describe_ago
from handlers.news.views import NewsReply, ReplySection, StoryLine, Table
from stories.model import Alert, AlertKind, KeyFigure, StoryCluster, top_figures

DEFAULT_WIDTH = 100
SUMMARY_CHARS = 240  # a story line in a reply
ALERT_SUMMARY_CHARS = 300  # an alert shows the whole summary (the pipeline keeps it within 300)
MATCHED_SHOWN = 8


def _console(color: bool, width: int) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )
    return console, buffer


def _print(renderables: Iterable[RenderableType], *, color: bool, width: int) -> str:
    console, buffer = _console(color, width)
    for renderable in renderables:
        # Text is never re-wrapped: a link broken across lines cannot be clicked or copied. Tables
        # still fit the width.
        console.print(renderable, soft_wrap=not isinstance(renderable, RichTable))
    return buffer.getvalue().rstrip() + "\n"


def _when(moment: datetime | None, now: datetime | None) -> str:
    if moment is None:
        return "undated"
    if now is None:
        return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return describe_ago(moment, now)


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut between words ("365,000", never "365,00…")."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—") + "…"


def _figures_text(figures: Iterable[KeyFigure]) -> str:
    ranked = top_figures(figures)
    return " · ".join(f"{f.text} {f.what}".strip() for f in ranked)


def story_line_text(line: StoryLine, now: datetime | None, *, detailed: bool = True) -> Text:
    """One story: `#42 headline`, then source · age · other sources, summary, figures and link."""
    text = Text()
    text.append(f"#{line.story_id} ", style="bold cyan")
    text.append(line.title, style="bold")
    meta = [line.source, _when(line.published, now)]
    if line.other_sources:
        meta.append(f"+{line.other_sources} other source{'s' if line.other_sources > 1 else ''}")
    if line.language:
        meta.append(line.language)
    text.append("\n    " + " · ".join(meta), style="dim")
    if detailed and line.summary:
        text.append("\n    " + _shorten(line.summary, SUMMARY_CHARS))
    if detailed and line.figures:
        text.append("\n    " + _figures_text(line.figures), style="yellow")
    if line.link:
        text.append("\n    " + line.link, style="blue")
    return text


def _table(table: Table) -> RichTable:
    rendered = RichTable(
        title=table.title or None, box=box.SIMPLE_HEAD, show_edge=False, title_justify="left", pad_edge=False
    )
    for column in table.columns:
        rendered.add_column(column, overflow="fold")
    for row in table.rows:
        rendered.add_row(*(Text(cell) for cell in row))
    return rendered


def _section(section: ReplySection, now: datetime | None) -> list[RenderableType]:
    parts: list[RenderableType] = [Text(section.heading, style="bold underline")]
    parts += [story_line_text(line, now, detailed=False) for line in section.stories]
    parts += [Text("  • " + line) for line in section.lines]
    return parts


def _chart(chart: FigureChart) -> Text:
    """The chart in text: one sparkline per figure, so a terminal shows the shape without opening the PNG."""
    text = Text("Chart", style="bold underline")
    for series in chart.series:
        text.append("\n  ")
        text.append(sparkline(series.values()), style="cyan")
        text.append(f"  {series.change_text()}  ", style="bold")
        text.append(series.label)
    return text


def reply_renderables(reply: NewsReply) -> list[RenderableType]:
    now = reply.generated_at
    parts: list[RenderableType] = [Text(reply.title, style="bold red" if reply.is_error else "bold green")]
    if reply.text:
        parts.append(Text(reply.text))
    for line in reply.stories:
        parts.append(story_line_text(line, now))
    for section in reply.sections:
        parts.append(Group(*_section(section, now)))
    if reply.table is not None:
        parts.append(_table(reply.table))
    if reply.chart is not None:
        parts.append(_chart(reply.chart))
    if reply.examples:
        label = "Example" if reply.is_error else "Try"
        parts.append(Text("\n".join(f"{label}: {example}" for example in reply.examples), style="dim"))
    return parts


def render_reply(reply: NewsReply, *, color: bool = False, width: int = DEFAULT_WIDTH) -> str:
    """The whole reply as terminal text, ending in a newline."""
    return _print(reply_renderables(reply), color=color, width=width) + "\n"


def _story_text(story: StoryCluster) -> Text:
    text = Text(story.title, style="bold")
    meta = [story.source, _when(story.published or story.first_seen, None)]
    if story.source_count > 1:
        meta.append(f"{story.source_count} sources")
    if story.topics:
        meta.append(", ".join(story.topics))
    text.append("\n    " + " · ".join(meta), style="dim")
    if story.summary:
        text.append("\n    " + _shorten(story.summary, ALERT_SUMMARY_CHARS))
    if story.figures:
        text.append("\n    " + _figures_text(story.figures), style="yellow")
    if story.matched:
        terms = list(dict.fromkeys(story.matched))
        more = f" (+{len(terms) - MATCHED_SHOWN} more)" if len(terms) > MATCHED_SHOWN else ""
        text.append("\n    Why it matched: " + ", ".join(terms[:MATCHED_SHOWN]) + more, style="dim")
    if story.link:
        text.append("\n    " + story.link, style="blue")
    return text


def render_edit(alert: Alert) -> str:
    """The console's edit of an alert, one line: `story #12: +1 source (EFE, es)`."""
    story_id = alert.story.story_id if alert.story is not None else "?"
    joined = alert.joined or alert.sources[-1:]
    count = len(joined)
    named = "; ".join(
        f"{source.name}, {source.language}" if source.language else source.name for source in joined
    )
    total = f", {len(alert.sources)} in all" if alert.sources else ""
    return f"story #{story_id}: +{count} source{'s' if count != 1 else ''} ({named}){total}\n"


def render_alert(
    alert: Alert, number: int, *, reply_to: str | None = None, color: bool = False, width: int = DEFAULT_WIDTH
) -> str:
    """An alert as printed by the console poster: `[#3] NEW …`, updates as `[#5 ↳ #3] UPDATE …`."""
    label = f"[#{number}" + (f" ↳ #{reply_to}" if reply_to else "") + "] "
    styles = {AlertKind.NEW: "bold red", AlertKind.UPDATE: "bold yellow", AlertKind.NOTICE: "bold blue"}
    head = Text(label, style="cyan")
    head.append(str(alert.kind).upper(), style=styles.get(alert.kind, "bold"))
    if alert.story is not None:
        head.append(f"  #{alert.story.story_id} ")
    parts: list[RenderableType] = []
    if alert.kind is AlertKind.NOTICE or alert.story is None:
        head.append("  " + (alert.notice or ""))
        parts.append(head)
    elif alert.kind is AlertKind.UPDATE:
        # The first alert (named by `reply_to`) has the story; an update only says what changed.
        head.append(alert.story.title, style="bold")
        parts.append(head)
        for change in alert.changes:
            parts.append(Text("    • " + change.describe(), style="yellow"))
        if alert.story.link:
            parts.append(Text("    " + alert.story.link, style="blue"))
    else:
        body = _story_text(alert.story)
        head.append_text(body)
        parts.append(head)
        for change in alert.changes:
            parts.append(Text("    • " + change.describe(), style="yellow"))
        if alert.near_match is not None:
            parts.append(Text("    " + alert.near_match.describe(), style="magenta"))
        if alert.notice:
            parts.append(Text("    " + alert.notice))
    return _print(parts, color=color, width=width) + "\n"
