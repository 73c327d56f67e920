"""Block Kit rendering: what an alert shows, that nothing in feed text can ping, and that limits hold."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from handlers.news.views import NewsReply, ReplySection, StoryLine, Table
from handlers.slack.blocks import (
    ACTION_MUTE_TOPIC,
    ACTION_RELATED,
    ACTION_SHARE,
    render_alert,
    render_reply,
)
from handlers.slack.mrkdwn import escape, escaped_fit, fit, safe_url
from stories.model import ALERT_FIGURES, Alert, AlertKind, FigureChange, KeyFigure, StoryCluster

PUBLISHED = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
INJECTION = "<!channel> breaking <@U0123> <!here> <#C999|general> <!subteam^S1> & more"
# Anything Slack would turn into a ping or a channel link; Slack's own date token is ours and harmless.
PING = re.compile(r"<(?!!date\^)[!@#]")


def story(**changes: Any) -> StoryCluster:
    values: dict[str, Any] = {
        "story_id": 42,
        "title": "Venezuela reopens the Simón Bolívar bridge to Cúcuta",
        "link": "https://news.example/border/bridge?utm=x&id=7",
        "source": "Example Wire",
        "summary": "Crossings resumed on Tuesday after a three-day closure.",
        "language": "en",
        "topics": ("venezuela-colombia-border", "crossings"),
        "matched": ("Simón Bolívar bridge", "Cúcuta"),
        "figures": (
            KeyFigure(value=326.0, text="326", what="deserters", score=2.0),
            KeyFigure(
                value=1_600_000.0, text="more than 1.6 million", what="migrants in Colombia", score=3.0
            ),
        ),
        "first_seen": PUBLISHED,
        "published": PUBLISHED,
        "source_count": 3,
    }
    values.update(changes)
    return StoryCluster(**values)


def texts(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every (type, text) pair in the blocks, however deeply nested."""
    found: list[tuple[str, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in {"mrkdwn", "plain_text"} and "text" in node:
                found.append((node["type"], node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found


def mrkdwn(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(text for kind, text in texts(blocks) if kind == "mrkdwn")


def assert_within_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        elif block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        elif block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 2000 for e in block["elements"])


def test_new_alert_shows_headline_link_source_summary_figures_topics_and_why() -> None:
    message = render_alert(Alert(kind=AlertKind.NEW, story=story()))
    blocks = message.blocks
    assert blocks[0]["type"] == "header" and "3 sources" in blocks[0]["text"]["text"]
    body = mrkdwn(blocks)
    assert (
        "<https://news.example/border/bridge?utm=x&amp;id=7|Venezuela reopens the Simón Bolívar bridge"
        in body
    )
    assert "Example Wire" in body and f"<!date^{int(PUBLISHED.timestamp())}^" in body
    assert "Crossings resumed on Tuesday" in body
    fields = next(b["fields"] for b in blocks if b["type"] == "section" and "fields" in b)
    # Highest-scored figure first.
    assert (
        fields[0]["text"].startswith("*more than 1.6 million*")
        and "migrants in Colombia" in fields[0]["text"]
    )
    contexts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert any("`venezuela-colombia-border`" in c and "`crossings`" in c for c in contexts)
    assert any(c.startswith("Why it matched:") and "Cúcuta" in c for c in contexts)
    actions = blocks[-1]
    assert actions["type"] == "actions"
    buttons = {e["action_id"]: e["value"] for e in actions["elements"]}
    assert buttons == {ACTION_MUTE_TOPIC: "crossings", ACTION_RELATED: "42"}
    assert "Venezuela reopens" in message.text and "Example Wire" in message.text


def test_update_lists_what_changed() -> None:
    changes = (
        FigureChange("deserters", KeyFigure(326.0, "326", "deserters"), KeyFigure(411.0, "411", "deserters")),
        FigureChange("detained", None, KeyFigure(12.0, "12", "detained")),
    )
    message = render_alert(Alert(kind=AlertKind.UPDATE, story=story(), changes=changes))
    body = mrkdwn(message.blocks)
    assert "deserters: 326 → 411" in body and "new: 12 detained" in body
    assert "deserters: 326 → 411" in message.text
    assert not any(b["type"] == "actions" for b in message.blocks)


def test_notice_is_plain_escaped_text() -> None:
    message = render_alert(Alert(kind=AlertKind.NOTICE, story=None, notice="Mute ended: 4 <stories> skipped"))
    assert message.text == "Mute ended: 4 &lt;stories&gt; skipped"
    assert mrkdwn(message.blocks) == message.text


@pytest.mark.parametrize("kind", [AlertKind.NEW, AlertKind.UPDATE])
def test_mention_injection_in_every_feed_field_renders_harmless(kind: AlertKind) -> None:
    hostile = story(
        title=INJECTION,
        source=INJECTION,
        summary=INJECTION,
        matched=(INJECTION,),
        figures=(KeyFigure(1.0, INJECTION, INJECTION),),
        link="javascript:alert(1)",
    )
    changes = (FigureChange(INJECTION, None, KeyFigure(2.0, INJECTION, INJECTION)),)
    message = render_alert(Alert(kind=kind, story=hostile, changes=changes))
    rendered = mrkdwn(message.blocks) + "\n" + message.text
    assert "&lt;!channel&gt;" in rendered  # the text is still there, shown literally
    assert not PING.search(rendered)
    assert "javascript:" not in json.dumps(message.blocks)


def test_reply_injection_renders_harmless() -> None:
    line = StoryLine(
        story_id=1, title=INJECTION, link=None, source=INJECTION, published=None, summary=INJECTION
    )
    reply = NewsReply(
        kind="search",
        title=INJECTION,
        text=INJECTION,
        stories=(line,),
        sections=(ReplySection(heading=INJECTION, stories=(line,), lines=(INJECTION,)),),
        table=Table(columns=("what", "value"), rows=((INJECTION, "1"),), title=INJECTION),
        examples=(INJECTION,),
    )
    message = render_reply(reply, share_command="venezuela")
    assert not PING.search(mrkdwn(message.blocks) + message.text)


def test_oversized_alert_is_truncated_within_every_limit() -> None:
    huge = story(
        title="Título " * 2000,
        source="S" * 5000,
        summary="& < > " * 3000,
        topics=tuple(f"topic-{i}" for i in range(400)),
        matched=tuple(f"term {i} & more" for i in range(1000)),
        figures=tuple(KeyFigure(float(i), "9" * 3000, "w" * 3000, score=float(i)) for i in range(40)),
        link="https://news.example/" + "a" * 5000,
    )
    message = render_alert(Alert(kind=AlertKind.NEW, story=huge))
    assert_within_limits(message.blocks)
    fields = next(b["fields"] for b in message.blocks if "fields" in b)
    # The alert promise: at most four figures, the top-scored first, each cut to the field limit.
    assert len(fields) == ALERT_FIGURES and fields[0]["text"].startswith("*" + "9" * 100)
    assert len(message.text) <= 3000
    # An over-long URL is dropped rather than cut into a broken link.
    assert "https://news.example/aaaa" not in json.dumps(message.blocks)
    many_changes = tuple(
        FigureChange(f"count {i}", KeyFigure(1.0, "1", "x"), KeyFigure(2.0, "2" * 500, "x"))
        for i in range(3000)
    )
    update = render_alert(Alert(kind=AlertKind.UPDATE, story=huge, changes=many_changes))
    assert_within_limits(update.blocks)
    assert "more not shown" in json.dumps(update.blocks[-1])


def test_oversized_reply_keeps_its_share_button_and_says_what_was_left_out() -> None:
    stories = tuple(
        StoryLine(
            story_id=i, title="t" * 4000, link=None, source="s", published=PUBLISHED, summary="x" * 4000
        )
        for i in range(120)
    )
    table = Table(
        columns=("day", "deserters"), rows=tuple((f"2026-11-{i % 28 + 1:02d}", "y" * 500) for i in range(400))
    )
    reply = NewsReply(kind="search", title="R" * 400, text="p\n" * 5000, stories=stories, table=table)
    message = render_reply(reply, share_command="deserters since:7d")
    assert_within_limits(message.blocks)
    assert len(message.blocks) == 50
    assert message.blocks[-1]["elements"][0]["action_id"] == ACTION_SHARE
    assert message.blocks[-1]["elements"][0]["value"] == "deserters since:7d"
    assert "more not shown" in json.dumps(message.blocks[-3])


def test_share_button_only_on_ephemeral_non_error_replies() -> None:
    def has_share(reply: NewsReply) -> bool:
        return ACTION_SHARE in json.dumps(render_reply(reply, share_command="x").blocks)

    assert has_share(NewsReply(kind="search", title="ok"))
    assert not has_share(NewsReply(kind="digest", title="ok", ephemeral=False))
    assert not has_share(NewsReply(kind="error", title="bad", is_error=True))


def test_table_renders_as_aligned_code() -> None:
    table = Table(columns=("day", "deserters"), rows=(("2026-11-01", "326"), ("2026-11-02", "411")))
    body = mrkdwn(render_reply(NewsReply(kind="figures", title="Deserters", table=table)).blocks)
    code = body[body.index("```") + 3 : body.rindex("```")].splitlines()
    assert code[1].index("326") == code[0].index("deserters")


@pytest.mark.parametrize("text", ["a&b" * 50, "<<<>>>" * 30, "x" * 99 + "&", "ñ&ü" * 40])
def test_truncation_never_cuts_an_entity(text: str) -> None:
    for limit in range(5, 120, 7):
        cut = escaped_fit(text, limit)
        assert len(cut) <= limit
        assert not re.search(r"&[a-z]*$", cut.removesuffix("…"))
        if len(escape(text)) <= limit:
            assert cut == escape(text)


def test_fit_leaves_short_text_alone() -> None:
    assert fit("short", 10) == "short"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/x?q=1&r=2", "https://a.example/x?q=1&amp;r=2"),
        ("https://a.example/x|<!channel>", "https://a.example/x%7C%3C!channel%3E"),
        ("ftp://a.example/x", None),
        ("javascript:alert(1)", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected
