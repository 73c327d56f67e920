"""Parsing and normalisation: encodings, broken XML, ids, links, dates, languages, text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from errors import FeedError
from feeds.html_text import html_to_text
from feeds.links import canonical_link
from feeds.parse import FeedContext, FeedParser, entry_key, parse_document
from tests.fakes.feed_server import FeedItem, atom_document, rss_document

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ES = FeedContext(name="El Pitazo", language="es")
EN = FeedContext(name="Border desk", language="en")
HEADERS = {"content-type": "application/rss+xml", "content-location": "https://example.org/feed.xml"}


def parse(body: bytes, context: FeedContext = EN, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return parse_document(body, headers or HEADERS, context, NOW)


def test_canonical_link_drops_tracking_and_fragment() -> None:
    url = "HTTPS://Example.org:443/news/a?id=7&utm_source=rss&UTM_Medium=x&fbclid=1&gclid=2&at_medium=RSS#top"
    assert canonical_link(url) == "https://example.org/news/a?id=7"
    assert canonical_link("https://example.org") == "https://example.org/"
    assert canonical_link("javascript:alert(1)") is None
    assert canonical_link("") is None


def test_html_to_text_strips_markup_and_decodes_entities() -> None:
    markup = (
        "<p>Migrantes en <b>C&uacute;cuta</b>&nbsp;&#8220;hoy&#8221;</p><script>x()</script><p>Segundo</p>"
    )
    assert html_to_text(markup) == 'Migrantes en Cúcuta "hoy"\n\nSegundo'


def test_rss_entries_are_normalised() -> None:
    published = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    body = rss_document(
        "Border desk",
        [
            FeedItem(
                "Crossing &amp; <b>closure</b>",
                "https://example.org/a?utm_campaign=x#frag",
                guid="guid-1",
                summary="<p>Two <i>thousand</i> people &mdash; waited</p>",
                published=published.astimezone(__import__("zoneinfo").ZoneInfo("America/Caracas")),
                author="Ana Pérez",
                categories=("Frontera", "Migración", "Frontera"),
            ),
            FeedItem("No guid here", "https://example.org/b?fbclid=zz"),
        ],
    )
    parsed = parse(body)
    first, second = parsed.entries
    assert first.entry_id == "guid-1" and first.guid == "guid-1"
    assert first.title == "Crossing & closure"
    assert first.link == "https://example.org/a"
    assert first.summary == "Two thousand people - waited"
    assert first.published == published and first.published.tzinfo is not None
    assert first.first_seen == NOW
    assert first.author == "Ana Pérez"
    assert first.categories == ("Frontera", "Migración")
    assert first.feed_name == "Border desk"
    assert second.entry_id == "https://example.org/b" and second.guid is None
    assert second.published == NOW  # no date: first-seen time


def test_entry_without_guid_or_link_gets_hash_of_title_and_date() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>Only a title</title><pubDate>Sun, 01 Mar 2026 08:00:00 GMT</pubDate></item>
    <item><title>Only a title</title><pubDate>Sun, 01 Mar 2026 09:00:00 GMT</pubDate></item>
    </channel></rss>"""
    first, second = parse(body).entries
    assert first.entry_id.startswith("sha256:") and first.entry_id != second.entry_id
    assert first.entry_id == entry_key(None, None, "Only a title", datetime(2026, 3, 1, 8, tzinfo=UTC))
    assert parse(body).entries[0].entry_id == first.entry_id  # stable across parses


def test_future_dates_fall_back_to_first_seen() -> None:
    body = rss_document("t", [FeedItem("Typo year", "https://e.org/1", published=NOW + timedelta(days=400))])
    assert parse(body).entries[0].published == NOW


def test_language_is_the_entrys_else_the_configured_one() -> None:
    body = atom_document(
        "mixed",
        [FeedItem("Hola", "https://e.org/1"), FeedItem("Hello", "https://e.org/2", language="en-GB")],
        language="es",
    )
    spanish, english = parse(body, ES).entries
    assert spanish.language == "es"
    assert english.language == "en"
    # A CMS that declares en-US on a Spanish site does not override the configured language.
    wordpress = rss_document("t", [FeedItem("Hola", "https://e.org/1")], language="en-US")
    assert parse(wordpress, ES).entries[0].language == "es"


@pytest.mark.parametrize("declared_in", ["prolog", "http"])
def test_iso_8859_1_feed_is_decoded(declared_in: str) -> None:
    body = rss_document(
        "Frontera", [FeedItem("Migración en Cúcuta: niños", "https://e.org/1")], encoding="iso-8859-1"
    )
    assert "Cúcuta".encode("iso-8859-1") in body
    headers = dict(HEADERS)
    if declared_in == "http":
        body = body.replace(b'encoding="iso-8859-1"', b"")
        headers["content-type"] = "application/rss+xml; charset=ISO-8859-1"
    assert parse(body, ES, headers).entries[0].title == "Migración en Cúcuta: niños"


def test_broken_xml_with_recoverable_entries_is_used_with_a_warning() -> None:
    body = rss_document("t", [FeedItem(f"Item {n}", f"https://e.org/{n}", guid=str(n)) for n in range(3)])
    broken = body.replace(b"<title>Item 1</title>", b"<title>Item 1 & co</title>")
    parsed = parse(broken)
    assert len(parsed.entries) == 3
    assert parsed.warning and "malformed" in parsed.warning
    assert parse(body).warning is None


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(FeedError) as caught:
        parse(b"<html><body><p>hello</p></body></html>")
    assert caught.value.kind == "not_a_feed"


def test_garbage_without_entries_is_a_parse_error() -> None:
    with pytest.raises(FeedError) as caught:
        parse(b"\x00\x01 this is not XML {}")
    assert caught.value.kind == "parse"
    assert "malformed" in caught.value.reason


def test_duplicate_guids_in_one_document_are_kept_once() -> None:
    body = rss_document(
        "t", [FeedItem("A", "https://e.org/1", guid="same"), FeedItem("B", "https://e.org/2", guid="same")]
    )
    parsed = parse(body)
    assert [entry.title for entry in parsed.entries] == ["A"] and parsed.skipped == 1


def test_relative_links_resolve_against_the_final_url() -> None:
    body = rss_document("t", [FeedItem("A", "/news/1")])
    headers = dict(HEADERS, **{"content-location": "https://outlet.example/rss/feed.xml"})
    assert parse(body, EN, headers).entries[0].link == "https://outlet.example/news/1"


async def test_parser_runs_in_an_executor_and_reports_errors() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="parse") as pool:
        parser = FeedParser(pool)
        body = rss_document("t", [FeedItem("A", "https://e.org/1")])
        parsed = await parser.parse(body, HEADERS, EN, NOW)
        assert [entry.title for entry in parsed.entries] == ["A"]
        with pytest.raises(FeedError) as caught:
            await parser.parse(b"<html><body>x</body></html>", HEADERS, EN, NOW)
        assert caught.value.kind == "not_a_feed"


async def test_parser_in_a_process_pool_returns_the_same_entries() -> None:
    body = rss_document("t", [FeedItem("Cúcuta", "https://e.org/1?utm_source=x", guid="g1")])
    parser = FeedParser.with_process_pool(1)
    try:
        parsed = await parser.parse(body, HEADERS, ES, NOW)
        with pytest.raises(FeedError) as caught:
            await parser.parse(b"<html><body>x</body></html>", HEADERS, ES, NOW)
    finally:
        parser.close()
    assert parsed.entries == parse(body, ES).entries
    assert caught.value.kind == "not_a_feed"
