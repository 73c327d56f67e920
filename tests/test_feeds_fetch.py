"""The HTTP fetcher against a real local server: statuses, caching, redirects, caps, timeouts, encodings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from config.settings import Settings, load_settings
from errors import FeedError
from feeds.fetch import USER_AGENT, FeedFetcher, parse_retry_after
from tests.fakes.feed_server import FeedItem, FeedServer, rss_document

ITEMS = [
    FeedItem("Cierre de la frontera en Cúcuta", "https://example.org/a1", guid="a1"),
    FeedItem("Border crossings reopen", "https://example.org/a2", guid="a2"),
]
BODY = rss_document("Border desk", ITEMS)


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        FETCH_TOTAL_TIMEOUT_SECONDS=1.0,
        FETCH_CONNECT_TIMEOUT_SECONDS=1.0,
        FEED_MAX_BYTES=200_000,
    )


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


@pytest.fixture
async def fetcher(settings: Settings) -> AsyncIterator[FeedFetcher]:
    async with FeedFetcher(settings) as running:
        yield running


async def test_200_returns_body_validators_and_hash(server: FeedServer, fetcher: FeedFetcher) -> None:
    url = server.feed("/feed.xml", BODY)
    result = await fetcher.fetch(url)
    assert result.status == 200 and not result.not_modified
    assert result.body == BODY
    assert result.etag and result.last_modified
    assert result.body_hash and len(result.body_hash) == 64
    assert result.parser_headers()["content-location"] == url
    request = server.requests_to("/feed.xml")[0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert "Wirewatch" in USER_AGENT and "https://" in USER_AGENT


async def test_conditional_get_gets_304_and_no_body(server: FeedServer, fetcher: FeedFetcher) -> None:
    url = server.feed("/feed.xml", BODY)
    first = await fetcher.fetch(url)
    second = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.status == 304 and second.body == b""
    sent = server.requests_to("/feed.xml")[1].headers
    assert sent["If-None-Match"] == first.etag
    assert sent["If-Modified-Since"] == first.last_modified


@pytest.mark.parametrize("status", [301, 308])
async def test_permanent_redirect_reports_new_url(
    server: FeedServer, fetcher: FeedFetcher, status: int
) -> None:
    target = server.feed("/new.xml", BODY)
    old = server.redirect("/old.xml", "/new.xml", status=status)
    result = await fetcher.fetch(old)
    assert result.body == BODY
    assert result.permanent_url == target and result.url == target


async def test_temporary_redirect_keeps_the_stored_url(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.feed("/new.xml", BODY)
    old = server.redirect("/old.xml", "/new.xml", status=302)
    result = await fetcher.fetch(old)
    assert result.body == BODY and result.permanent_url is None


async def test_more_than_five_redirects_fail(server: FeedServer, fetcher: FeedFetcher) -> None:
    for hop in range(7):
        server.redirect(f"/r{hop}", f"/r{hop + 1}", status=302)
    server.feed("/r7", BODY)
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(server.url("/r0"))
    assert caught.value.kind == "redirects"
    assert server.hits("/r6") == 0  # gave up after the sixth response


async def test_five_redirects_are_followed(server: FeedServer, fetcher: FeedFetcher) -> None:
    for hop in range(5):
        server.redirect(f"/r{hop}", f"/r{hop + 1}", status=307)
    server.feed("/r5", BODY)
    assert (await fetcher.fetch(server.url("/r0"))).body == BODY


async def test_410_is_gone(server: FeedServer, fetcher: FeedFetcher) -> None:
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(server.gone("/gone.xml"))
    assert caught.value.kind == "gone"
    assert "gone" in caught.value.reason and "disabled" in caught.value.reason


@pytest.mark.parametrize("status,kind", [(429, "rate_limited"), (503, "unavailable")])
async def test_throttling_honours_retry_after_seconds(
    server: FeedServer, fetcher: FeedFetcher, status: int, kind: str
) -> None:
    url = server.rate_limited("/busy.xml", "90", status=status)
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    assert caught.value.kind == kind
    assert caught.value.retry_after == 90.0
    assert "90 s" in caught.value.reason


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(header, now) == 300.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(format_datetime(now - timedelta(minutes=5), usegmt=True), now) == 0.0


@pytest.mark.parametrize("status,kind", [(500, "http_500"), (404, "http_404"), (403, "http_403")])
async def test_error_statuses_are_classified(
    server: FeedServer, fetcher: FeedFetcher, status: int, kind: str
) -> None:
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(server.status("/x.xml", status))
    assert caught.value.kind == kind
    assert f"HTTP {status}" in caught.value.reason


async def test_slow_server_times_out(server: FeedServer, fetcher: FeedFetcher) -> None:
    url = server.slow("/slow.xml", 5.0, BODY)
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    assert caught.value.kind == "timeout"
    assert "1 seconds" in caught.value.reason


async def test_slow_drip_body_times_out(server: FeedServer, fetcher: FeedFetcher) -> None:
    url = server.slow("/drip.xml", 5.0, BODY, before_headers=False)
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    assert caught.value.kind == "timeout"


@pytest.mark.parametrize("declare_length", [True, False])
async def test_oversized_body_is_refused(
    server: FeedServer, fetcher: FeedFetcher, declare_length: bool
) -> None:
    url = server.oversized("/big.xml", 1_000_000, declare_length=declare_length)
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    assert caught.value.kind == "too_large"
    assert "larger than" in caught.value.reason


async def test_endless_body_is_cut_at_the_cap(server: FeedServer, fetcher: FeedFetcher) -> None:
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(server.endless("/endless.xml"))
    assert caught.value.kind == "too_large"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_feed_is_decoded(server: FeedServer, fetcher: FeedFetcher, encoding: str) -> None:
    url = server.feed("/z.xml", BODY, compress=encoding)
    result = await fetcher.fetch(url)
    assert result.body == BODY
    assert "gzip" in server.requests_to("/z.xml")[0].headers["Accept-Encoding"]


async def test_html_page_is_not_a_feed(server: FeedServer, fetcher: FeedFetcher) -> None:
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(server.html_page("/index.html"))
    assert caught.value.kind == "not_a_feed"
    assert "HTML" in caught.value.reason


async def test_connection_refused_is_classified(fetcher: FeedFetcher) -> None:
    async with FeedServer() as gone_server:
        url = gone_server.url("/feed.xml")
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    assert caught.value.kind == "connection"


async def test_unknown_host_is_a_dns_failure(fetcher: FeedFetcher) -> None:
    # .invalid never resolves (RFC 2606), so no packet leaves the machine.
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch("http://no-such-host.invalid/feed.xml")
    assert caught.value.kind == "dns"
    assert "no-such-host.invalid" in caught.value.reason


async def test_tls_failure_is_classified(server: FeedServer, fetcher: FeedFetcher) -> None:
    # An https:// URL on the plain-HTTP server: the TLS handshake fails.
    server.feed("/feed.xml", BODY)
    url = server.url("/feed.xml").replace("http://", "https://")
    with pytest.raises(FeedError) as caught:
        await fetcher.fetch(url)
    assert caught.value.kind == "tls"
