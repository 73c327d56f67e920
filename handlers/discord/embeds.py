"""Discord embeds for alerts and `/news` answers, always inside Discord's documented limits.

Discord rejects a whole message (400, code 50035) when one embed part is too long, and discord.py does not
check, so every embed passes through `fit_embed` before it is sent: parts are cut at a word boundary with
an ellipsis, fields beyond 25 are dropped, and the description then the trailing fields give way until the
6,000-character total fits. Feed text is untrusted: mentions are defused here as well as by
`allowed_mentions=none` on every send, so `@everyone` in a headline neither pings nor renders as a mention.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import discord

from handlers.news.views import NewsReply, StoryLine, Table
from stories.model import Alert, AlertKind, AlertSource, KeyFigure, StoryCluster, top_figures

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
CONTENT_LIMIT = 2000
# When the total is over budget the description shrinks first, but never below this: it is the story.
DESCRIPTION_FLOOR = 300

DEFAULT_COLOUR = 0x1F6FEB
ERROR_COLOUR = 0xD9534F
UPDATE_PREFIX = "Update: "
ELLIPSIS = "…"
MAX_STORY_LINES = 10


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word boundary when one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def defuse(text: str) -> str:
    """Break `@everyone`, `@here`, `<@id>` and `<@&id>` so they render as plain text."""
    return discord.utils.escape_mentions(text)


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Cut every part of `embed` to its limit, then shrink it until the 6,000-character total fits."""
    if embed.title:
        embed.title = clip(embed.title, TITLE_LIMIT)
    if embed.description:
        embed.description = clip(embed.description, DESCRIPTION_LIMIT)
    if embed.author and embed.author.name:
        embed.set_author(name=clip(embed.author.name, AUTHOR_LIMIT), url=embed.author.url)
    if embed.footer and embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    fields = [
        (clip(f.name or "-", FIELD_NAME_LIMIT), clip(f.value or "-", FIELD_VALUE_LIMIT), bool(f.inline))
        for f in embed.fields[:FIELDS_LIMIT]
    ]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=inline)
    while len(embed) > EMBED_TOTAL_LIMIT:
        excess = len(embed) - EMBED_TOTAL_LIMIT
        description = embed.description or ""
        if len(description) > DESCRIPTION_FLOOR:
            embed.description = clip(description, max(DESCRIPTION_FLOOR, len(description) - excess))
        elif embed.fields:
            embed.remove_field(len(embed.fields) - 1)
        elif embed.footer and embed.footer.text:
            embed.set_footer(text=clip(embed.footer.text, max(0, len(embed.footer.text) - excess)) or None)
        elif description:
            embed.description = clip(description, max(0, len(description) - excess)) or None
        else:
            embed.title = clip(embed.title or "", max(0, len(embed.title or "") - excess)) or None
    return embed


def topic_colour(topics: Sequence[str], colours: Mapping[str, int]) -> int:
    """The most specific topic's colour: the first sub-topic that has one, else the beat's."""
    for name in [*topics[1:], *topics[:1]]:
        if name in colours:
            return colours[name]
    return DEFAULT_COLOUR


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%d %b %Y %H:%M UTC")


def _figure_fields(embed: discord.Embed, figures: Iterable[KeyFigure]) -> None:
    ranked = top_figures(figures)
    for figure in ranked:
        embed.add_field(name=defuse(figure.text), value=defuse(figure.what) or "-", inline=True)


def _link_label(text: str) -> str:
    # Square brackets would end a masked link's label early.
    return defuse(text).replace("[", "(").replace("]", ")")


def sources_field(sources: Sequence[AlertSource]) -> str:
    """`[Reuters](…) (en), [EFE](…) (es)`, then the languages: each outlet linked to its report."""
    outlets = []
    for source in sources:
        name = _link_label(source.name)
        linked = f"[{name}]({source.link})" if source.link and source.link.startswith("http") else name
        outlets.append(linked + (f" ({defuse(source.language)})" if source.language else ""))
    languages = sorted({source.language for source in sources if source.language})
    tail = f"\nLanguages: {defuse(', '.join(languages))}" if languages else ""
    return ", ".join(outlets) + tail


def alert_footer(story: StoryCluster, ref: str | None, sources: int = 0) -> str:
    """Source and time, the story number for `/news story`, and the delivery reference."""
    parts = [story.source]
    count = sources or story.source_count
    if count > 1:
        parts[0] += f" +{count - 1} more"
    when = _when(story.published or story.first_seen)
    if when:
        parts.append(when)
    parts.append(f"story {story.story_id}")
    if ref:
        parts.append(f"ref {ref}")
    return defuse(" · ".join(parts))


def alert_embed(alert: Alert, colours: Mapping[str, int], *, ref: str | None = None) -> discord.Embed:
    """The embed for a new story, an update of one, or a notice (e.g. "mute ended")."""
    story = alert.story
    if alert.kind is AlertKind.NOTICE or story is None:
        embed = discord.Embed(
            title="Wirewatch", description=defuse(alert.notice or ""), colour=DEFAULT_COLOUR
        )
        if ref:
            embed.set_footer(text=f"ref {ref}")
        return fit_embed(embed)
    colour = topic_colour(story.topics, colours)
    if alert.kind is AlertKind.UPDATE:  # an EDIT renders as the first alert it re-renders
        changed = [f"• {defuse(change.describe())}" for change in alert.changes] or ["• new reporting"]
        description = "**What changed**\n" + "\n".join(changed)
        if story.summary:
            description += "\n\n" + defuse(story.summary)
        title = UPDATE_PREFIX + defuse(story.title)
    else:
        description = defuse(story.summary)
        title = defuse(story.title)
    embed = discord.Embed(title=title, url=story.link or None, description=description or None, colour=colour)
    _figure_fields(embed, story.figures)
    if len(alert.sources) > 1 and alert.kind is not AlertKind.UPDATE:
        sources = sources_field(alert.sources)
        embed.add_field(name=f"{len(alert.sources)} sources", value=sources, inline=False)
    if alert.near_match is not None and alert.kind is not AlertKind.UPDATE:
        near = defuse(alert.near_match.describe())
        embed.add_field(name="Possibly the same story", value=near, inline=False)
    if story.matched:
        embed.add_field(name="Why it matched", value=defuse(", ".join(story.matched)), inline=False)
    if story.topics:
        embed.add_field(name="Topics", value=", ".join(story.topics), inline=False)
    embed.set_footer(text=alert_footer(story, ref, len(alert.sources)))
    return fit_embed(embed)


def _story_line(line: StoryLine) -> str:
    title = defuse(line.title)
    head = f"**[{title}]({line.link})**" if line.link else f"**{title}**"
    meta = [defuse(line.source)]
    if line.other_sources:
        meta.append(f"+{line.other_sources} more")
    if line.published:
        meta.append(_when(line.published))
    meta.append(f"story {line.story_id}")
    text = f"{head}\n{' · '.join(meta)}"
    if line.summary:
        text += "\n" + clip(defuse(line.summary), 280)
    return text


def _table_block(table: Table) -> str:
    """A monospace table inside a code block (Discord has no table markup)."""
    rows = [table.columns, *table.rows]
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(table.columns))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    body = "\n".join(lines).replace("```", "'''")
    # Keep the closing fence even when the table is cut.
    return "```\n" + clip(body, FIELD_VALUE_LIMIT - 8) + "\n```"


def reply_embed(reply: NewsReply) -> discord.Embed:
    """One embed for any `/news` answer: text, stories, sections, a table and examples."""
    parts = [defuse(reply.text)] if reply.text else []
    parts += [_story_line(line) for line in reply.stories[:MAX_STORY_LINES]]
    if len(reply.stories) > MAX_STORY_LINES:
        parts.append(f"…and {len(reply.stories) - MAX_STORY_LINES} more")
    colour = ERROR_COLOUR if reply.is_error else DEFAULT_COLOUR
    embed = discord.Embed(title=defuse(reply.title), description="\n\n".join(parts) or None, colour=colour)
    for section in reply.sections:
        lines = [defuse(text) for text in section.lines] + [_story_line(s) for s in section.stories]
        embed.add_field(name=defuse(section.heading) or "-", value="\n".join(lines) or "-", inline=False)
    if reply.table is not None and reply.table.rows:
        embed.add_field(
            name=defuse(reply.table.title) or "Table", value=_table_block(reply.table), inline=False
        )
    if reply.examples:
        examples = "\n".join(f"`{defuse(example)}`" for example in reply.examples)
        embed.add_field(name="Examples", value=examples, inline=False)
    if reply.generated_at is not None:
        embed.set_footer(text=f"as of {_when(reply.generated_at)}")
    return fit_embed(embed)
