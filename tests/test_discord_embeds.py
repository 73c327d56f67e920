"""Alert and reply embeds: content, colour per topic, graceful truncation, defused mentions.

Sizes are checked with the REST fake's `message_errors`, the same checks Discord documents and the fake
enforces, so a builder that overflows any limit fails here as it would fail in production.
"""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from handlers.discord.embeds import (
    DESCRIPTION_FLOOR,
    EMBED_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    TITLE_LIMIT,
    alert_embed,
    clip,
    fit_embed,
    reply_embed,
    topic_colour,
)
from handlers.news.views import NewsReply, ReplySection, StoryLine, Table
from stories.model import Alert, AlertKind, FigureChange, KeyFigure, StoryCluster
from tests.fakes.discord_api import message_errors

COLOURS = {"venezuela-colombia-border": 0xE8A317, "military-deserters": 0x8E44AD}
WHEN = datetime(2019, 2, 24, 14, 5, tzinfo=UTC)


def story(**changes: object) -> StoryCluster:
    values: dict[str, object] = {
        "story_id": 42,
        "title": "Venezuelan soldiers desert across the Simón Bolívar bridge",
        "link": "https://example.org/deserters",
        "source": "Reuters",
        "summary": "More than 100 members of the armed forces have crossed into Colombia.",
        "language": "en",
        "topics": ("venezuela-colombia-border", "military-deserters"),
        "matched": ("Simón Bolívar bridge", "deserters"),
        "figures": (KeyFigure(326.0, "326", "members of the armed forces", score=2.0),),
        "first_seen": WHEN,
        "published": WHEN,
        "source_count": 3,
    }
    values.update(changes)
    return StoryCluster(**values)  # type: ignore[arg-type]


def accepted(embed: discord.Embed) -> bool:
    return message_errors({"embeds": [embed.to_dict()]}) == {}


def test_new_alert_has_linked_title_summary_figures_footer_and_why() -> None:
    embed = alert_embed(Alert(AlertKind.NEW, story()), COLOURS, ref="abc123")
    assert embed.title == story().title
    assert embed.url == "https://example.org/deserters"
    assert embed.description == story().summary
    assert embed.colour is not None and embed.colour.value == COLOURS["military-deserters"]
    figure = next(f for f in embed.fields if f.name == "326")
    assert figure.value == "members of the armed forces" and figure.inline
    why = next(f for f in embed.fields if f.name == "Why it matched")
    assert why.value == "Simón Bolívar bridge, deserters"
    footer = embed.footer.text or ""
    assert footer.startswith("Reuters +2 more · 24 Feb 2019 14:05 UTC")
    assert footer.endswith("story 42 · ref abc123")


def test_colour_prefers_the_sub_topic_then_the_beat_then_the_default() -> None:
    assert topic_colour(("venezuela-colombia-border", "military-deserters"), COLOURS) == 0x8E44AD
    assert topic_colour(("venezuela-colombia-border", "unknown-topic"), COLOURS) == 0xE8A317
    assert topic_colour(("nothing",), {}) == discord.Colour(0x1F6FEB).value


def test_update_alert_lists_what_changed() -> None:
    old = KeyFigure(326.0, "326", "members of the armed forces")
    new = KeyFigure(411.0, "411", "members of the armed forces")
    change = FigureChange("members of the armed forces", old, new)
    embed = alert_embed(Alert(AlertKind.UPDATE, story(), changes=(change,)), COLOURS)
    assert (embed.title or "").startswith("Update: ")
    assert "members of the armed forces: 326 → 411" in (embed.description or "")


def test_notice_alert_is_plain_text() -> None:
    embed = alert_embed(Alert(AlertKind.NOTICE, None, notice="Mute ended: 4 stories skipped"), COLOURS)
    assert embed.description == "Mute ended: 4 stories skipped"


def test_huge_story_is_truncated_to_every_limit_and_still_reads() -> None:
    figures = tuple(KeyFigure(float(i), f"{i} " + "x" * 300, "y" * 2000, score=float(i)) for i in range(40))
    huge = story(
        title="Border " * 100,
        summary="word " * 3000,
        matched=tuple(f"term{i}" for i in range(500)),
        figures=figures,
        source="S" * 3000,
    )
    raw = discord.Embed(title=huge.title, description=huge.summary)
    assert not accepted(raw)  # the input really is over the limits
    embed = alert_embed(Alert(AlertKind.NEW, huge), COLOURS)
    assert accepted(embed)
    assert len(embed) <= EMBED_TOTAL_LIMIT
    assert len(embed.title or "") <= TITLE_LIMIT and (embed.title or "").endswith("…")
    # Fields give way before the summary shrinks below its floor (less the word-boundary cut).
    assert len(embed.description or "") >= DESCRIPTION_FLOOR * 0.8
    assert all(len(f.value or "") <= FIELD_VALUE_LIMIT for f in embed.fields)


def test_fit_embed_keeps_at_most_25_fields_and_cuts_each_part() -> None:
    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    for i in range(30):
        embed.add_field(name="n" * 300, value=f"{i} " + "v" * 1100)
    embed.set_footer(text="f" * 2100)
    fitted = fit_embed(embed)
    assert accepted(fitted)
    assert len(fitted.fields) <= 25


def test_clip_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    assert clip("short", 10) == "short"
    clipped = clip("the quick brown fox jumps", 18)
    assert clipped == "the quick brown…"
    assert len(clip("x" * 50, 10)) == 10


def test_mentions_in_feed_text_are_defused() -> None:
    hostile = story(
        title="@everyone look <@123456789012345678>",
        summary="@here and <@&123456789012345678>",
        matched=("@everyone",),
    )
    embed = alert_embed(Alert(AlertKind.NEW, hostile), COLOURS)
    rendered = str(embed.to_dict())
    for mention in ("@everyone", "@here", "<@123456789012345678>", "<@&123456789012345678>"):
        assert mention not in rendered
    assert "look" in (embed.title or "")


def test_reply_embed_renders_stories_sections_table_and_examples() -> None:
    line = StoryLine(7, "Aid convoy blocked", "https://example.org/aid", "AFP", WHEN, "Trucks wait.", 2)
    reply = NewsReply(
        kind="search",
        title="2 stories for aid",
        text="Newest first.",
        stories=(line,),
        sections=(ReplySection("Humanitarian aid", lines=("one line",)),),
        table=Table(("day", "deserters"), (("2019-02-23", "326"), ("2019-02-24", "411")), title="Deserters"),
        examples=("/news aid since:7d",),
    )
    embed = reply_embed(reply)
    assert embed.title == "2 stories for aid"
    description = embed.description or ""
    assert "[Aid convoy blocked](https://example.org/aid)" in description
    assert "AFP · +2 more" in description and "story 7" in description
    names = [f.name for f in embed.fields]
    assert names == ["Humanitarian aid", "Deserters", "Examples"]
    table = embed.fields[1].value or ""
    assert table.startswith("```") and table.endswith("```") and "2019-02-24  411" in table
    assert accepted(embed)


def test_error_reply_is_red() -> None:
    embed = reply_embed(NewsReply(kind="error", title="Not understood", is_error=True))
    assert embed.colour is not None and embed.colour.value == 0xD9534F


def test_an_alert_shows_at_most_four_figures_highest_ranked_first() -> None:
    figures = tuple(KeyFigure(float(n), str(n), f"thing {n}", score=float(n % 7)) for n in range(1, 10))
    embed = alert_embed(Alert(kind=AlertKind.NEW, story=story(figures=figures)), {})
    shown = [field.name for field in embed.fields if field.inline]
    assert shown == ["6", "5", "4", "3"]  # scores 6, 5, 4, 3 of the nine figures
