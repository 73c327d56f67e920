"""Block Kit rendering of alerts and `/news` replies, built with `slack_sdk.models.blocks`.

Every piece of feed text goes through `mrkdwn` (escaped, cut to the documented limit), and each
message is capped at Slack's 50 blocks with a closing line saying how much was left out, so no story,
however long or hostile its text, can make Slack reject the message or ping a channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from handlers.news.views import NewsReply, ReplySection, StoryLine, Table
from handlers.slack.mrkdwn import code, escape, escaped_fit, fit, link, plain_fit, slack_date
from stories.model import Alert, AlertKind, AlertSource, KeyFigure, NearMatch, StoryCluster, top_figures

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 2000
MAX_FIELD_TEXT = 2000
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_TEXT = 75
# Readability caps, well inside the hard limits: an alert is read on a phone in a busy channel.
HEADLINE_CHARS = 400
NEAR_MATCH_CHARS = 600  # the other story's headline and source, in a context element
ALERT_SUMMARY_CHARS = 600
LINE_SUMMARY_CHARS = 240
FALLBACK_CHARS = 3000

ACTION_MUTE_TOPIC = "wirewatch_mute_topic"
ACTION_RELATED = "wirewatch_related"
ACTION_SHARE = "wirewatch_share"


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """`text` is the notification fallback (mrkdwn, escaped); `blocks` are plain dicts ready to send."""

    text: str
    blocks: list[dict[str, Any]]


# --- small builders --------------------------------------------------------------------------------------


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=fit(mrkdwn, MAX_SECTION_TEXT)))


def _context(*pieces: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=fit(p, MAX_CONTEXT_TEXT)) for p in pieces[:10]])


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=plain_fit(text, MAX_HEADER_TEXT), emoji=True))


def _button(label: str, action_id: str, value: str, *, primary: bool = False) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=plain_fit(label, MAX_BUTTON_TEXT), emoji=True),
        action_id=action_id,
        value=value[:MAX_BUTTON_VALUE],
        style="primary" if primary else None,
    )


def _chunked(lines: Iterable[str], limit: int = MAX_SECTION_TEXT) -> list[SectionBlock]:
    """Escaped mrkdwn lines packed into as few sections as fit; an over-long line is cut, not dropped."""
    sections: list[SectionBlock] = []
    current = ""
    for line in lines:
        line = fit(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            sections.append(_section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        sections.append(_section(current))
    return sections


def _finish(body: Sequence[Block], trailer: Sequence[Block] = ()) -> list[dict[str, Any]]:
    """Cap at 50 blocks, keeping the trailer (buttons) and saying how many blocks were left out."""
    room = MAX_BLOCKS - len(trailer)
    kept = list(body)
    if len(kept) > room:
        left_out = len(kept) - (room - 1)
        kept = [*kept[: room - 1], _context(f"_{left_out} more not shown: narrow the query to see them._")]
    return [block.to_dict() for block in [*kept, *trailer]]


def _figure_label(figure: KeyFigure) -> str:
    return escaped_fit(figure.text, 200)


def _figure_fields(figures: Sequence[KeyFigure]) -> SectionBlock | None:
    ranked = top_figures(figures)
    if not ranked:
        return None
    fields = [
        MarkdownTextObject(text=fit(f"*{_figure_label(f)}*\n{escape(f.what)}", MAX_FIELD_TEXT))
        for f in ranked
    ]
    return SectionBlock(fields=fields)


def _source_line(source: str, moment: Any, other_sources: int = 0) -> str:
    parts = [escaped_fit(source, 200)]
    if moment is not None:
        parts.append(slack_date(moment))
    if other_sources > 0:
        parts.append(f"+{other_sources} other source{'s' if other_sources != 1 else ''}")
    return " · ".join(parts)


def _headline(story: StoryCluster | StoryLine) -> str:
    return f"*{link(story.link, escaped_fit(story.title, HEADLINE_CHARS))}*"


def mute_topic_for(story: StoryCluster) -> str | None:
    """The topic the alert's mute button silences: the most specific one the story carries."""
    if not story.topics:
        return None
    return story.topics[1] if len(story.topics) > 1 else story.topics[0]


# --- alerts ----------------------------------------------------------------------------------------------


def render_alert(alert: Alert, *, edited: bool = False) -> SlackMessage:
    """A NEW alert, an UPDATE (posted in the first alert's thread) or a NOTICE; an EDIT is the NEW alert
    as the story stands now (sent with `chat.update`)."""
    if alert.kind is AlertKind.NOTICE or alert.story is None:
        notice = escaped_fit(alert.notice or "", MAX_SECTION_TEXT)
        return SlackMessage(text=fit(notice, FALLBACK_CHARS), blocks=_finish([_section(notice or " ")]))
    if alert.kind is AlertKind.UPDATE and not edited:
        return _render_update(alert)
    return _render_new(alert.story, alert.sources, edited=edited, near_match=alert.near_match)


def _sources_line(sources: Sequence[AlertSource]) -> str:
    """`2 sources: Reuters (en), EFE (es) · en, es`, each outlet linked to its report."""
    outlets = ", ".join(
        link(source.link, escaped_fit(source.name, 100))
        + (f" ({escaped_fit(source.language, 8)})" if source.language else "")
        for source in sources
    )
    languages = sorted({source.language for source in sources if source.language})
    tail = f" · {', '.join(escape(language) for language in languages)}" if languages else ""
    return f"{len(sources)} sources: {outlets}{tail}"


def _render_new(
    story: StoryCluster, sources: Sequence[AlertSource], *, edited: bool, near_match: NearMatch | None = None
) -> SlackMessage:
    count = len(sources) if sources else story.source_count
    counted = f" · {count} sources" if count > 1 else ""
    body: list[Block] = [_header(f"New story on the beat{counted}")]
    when = story.published or story.first_seen
    body.append(_section(f"{_headline(story)}\n{_source_line(story.source, when)}"))
    if story.summary:
        body.append(_section(escaped_fit(story.summary, ALERT_SUMMARY_CHARS)))
    if len(sources) > 1:
        body.append(_context(_sources_line(sources)))
    if near_match is not None:
        body.append(_context(escaped_fit(near_match.describe(), NEAR_MATCH_CHARS)))
    figures = _figure_fields(story.figures)
    if figures is not None:
        body.append(figures)
    if story.topics:
        body.append(_context("Topics: " + " ".join(code(t) for t in story.topics)))
    if story.matched:
        body.append(_context("Why it matched: " + ", ".join(escape(term) for term in story.matched)))
    if edited:
        body.append(_context(f"_Headline updated (revision {story.revision})._"))
    buttons: list[ButtonElement] = []
    topic = mute_topic_for(story)
    if topic is not None:
        buttons.append(_button(f"Mute {topic} here", ACTION_MUTE_TOPIC, topic))
    buttons.append(_button("Related stories", ACTION_RELATED, str(story.story_id)))
    fallback = f"New story: {escaped_fit(story.title, HEADLINE_CHARS)} ({escaped_fit(story.source, 200)})"
    return SlackMessage(
        text=fit(fallback, FALLBACK_CHARS), blocks=_finish(body, [ActionsBlock(elements=buttons)])
    )


def _render_update(alert: Alert) -> SlackMessage:
    story = alert.story
    assert story is not None
    changes = [escape(change.describe()) for change in alert.changes] or ["Figures revised."]
    lines = [f"*Update* to {_headline(story)}", *(f"• {line}" for line in changes)]
    body: list[Block] = [*_chunked(lines)]
    body.append(_context(_source_line(story.source, story.published or story.first_seen)))
    fallback = f"Update: {escaped_fit(story.title, HEADLINE_CHARS)}: " + "; ".join(changes)
    return SlackMessage(text=fit(fallback, FALLBACK_CHARS), blocks=_finish(body))


# --- /news replies ---------------------------------------------------------------------------------------


def _story_line(story: StoryLine) -> str:
    lines = [_headline(story), _source_line(story.source, story.published, story.other_sources)]
    if story.summary:
        lines.append(escaped_fit(story.summary, LINE_SUMMARY_CHARS))
    if story.figures:
        lines.append(
            "Figures: "
            + "; ".join(f"{_figure_label(f)} {escape(f.what)}" for f in top_figures(story.figures))
        )
    lines.append(f"Story {story.story_id}" + ("  " + " ".join(code(t) for t in story.topics[:5])))
    return "\n".join(lines)


def _table_blocks(table: Table) -> list[Block]:
    widths = [len(c) for c in table.columns]
    for row in table.rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]
    widths = [min(w, 40) for w in widths]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            plain_fit(cell, 40).ljust(w) for cell, w in zip(cells, widths, strict=False)
        ).rstrip()

    rows = [line(table.columns), *(line(row) for row in table.rows)]
    blocks: list[Block] = []
    if table.title:
        blocks.append(_section(f"*{escaped_fit(table.title, 300)}*"))
    chunk: list[str] = []
    size = 0
    for row in rows:
        row = escape(row.replace("```", "'''"))[: MAX_SECTION_TEXT - 10]
        if chunk and size + len(row) + 1 > MAX_SECTION_TEXT - 8:
            blocks.append(_section("```" + "\n".join(chunk) + "```"))
            chunk, size = [], 0
        chunk.append(row)
        size += len(row) + 1
    if chunk:
        blocks.append(_section("```" + "\n".join(chunk) + "```"))
    return blocks


def _section_blocks(section: ReplySection) -> list[Block]:
    blocks: list[Block] = [_section(f"*{escaped_fit(section.heading, 300)}*")]
    blocks.extend(_section(_story_line(story)) for story in section.stories)
    blocks.extend(_chunked(f"• {escape(line)}" for line in section.lines))
    return blocks


def render_reply(
    reply: NewsReply, *, share_command: str | None = None, shared_by: str | None = None
) -> SlackMessage:
    """A `/news` answer; `share_command` adds the "Share in channel" button (ephemeral replies only)."""
    title = ("⚠️ " if reply.is_error else "") + (reply.title or "Wirewatch")
    body: list[Block] = [_header(title)]
    if reply.text:
        body.extend(_chunked(escape(paragraph) for paragraph in reply.text.split("\n")))
    body.extend(_section(_story_line(story)) for story in reply.stories)
    for section in reply.sections:
        body.extend(_section_blocks(section))
    if reply.table is not None:
        body.extend(_table_blocks(reply.table))
    if reply.examples:
        body.append(_context("Try: " + " · ".join(code(example) for example in reply.examples)))
    if shared_by is not None:
        body.append(_context(f"Shared by <@{escape(shared_by)}>"))
    trailer: list[Block] = []
    if share_command is not None and reply.ephemeral and not reply.is_error and len(share_command) <= 2000:
        trailer = [
            DividerBlock(),
            ActionsBlock(elements=[_button("Share in channel", ACTION_SHARE, share_command)]),
        ]
    fallback = escaped_fit(reply.title, 300)
    if reply.text:
        fallback += ": " + escaped_fit(reply.text.split("\n")[0], 500)
    return SlackMessage(text=fit(fallback, FALLBACK_CHARS), blocks=_finish(body, trailer))


def render_refusal(text: str) -> SlackMessage:
    """A one-line ephemeral answer of ours (refusals, failures), no feed text in it."""
    escaped = escaped_fit(text, MAX_SECTION_TEXT)
    return SlackMessage(text=escaped, blocks=_finish([_section(escaped)]))
