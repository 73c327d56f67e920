"""Fetch one feed over HTTP: conditional GET, bounded in time, size, redirects and concurrency.

Every failure leaves here as `errors.FeedError(kind, reason)`, `reason` in plain words for a reporter
reading `/news feeds`. Parsing happens elsewhere (`feeds.parse`), on the bytes this module returns.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import aiohttp

from config.settings import Settings
from errors import FeedError

BOT_URL = "https://github.com/wirewatch/wirewatch"
USER_AGENT = f"Wirewatch/0.1 (newsroom feed bot; +{BOT_URL})"
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = frozenset({301, 308})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
THROTTLE_STATUSES = frozenset({429, 503})
CHUNK_BYTES = 64 * 1024
# Servers give Retry-After in seconds or as an HTTP date; we never wait longer than a day for one.
MAX_RETRY_AFTER_SECONDS = 24 * 3600
_HTML_STARTS = (b"<!doctype html", b"<html")


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What came back: either a body to parse or "not modified"."""

    url: str  # final URL after redirects (base for relative links)
    status: int
    not_modified: bool
    body: bytes = b""
    body_hash: str | None = None  # SHA-256 of the body: many servers ignore conditional GET
    content_type: str = ""
    content_language: str = ""
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None  # set when the feed moved for good (301/308): store it
    elapsed_seconds: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)

    def parser_headers(self) -> dict[str, str]:
        """The response headers feedparser uses: charset, base URL and language."""
        headers = {"content-location": self.url}
        if self.content_type:
            headers["content-type"] = self.content_type
        if self.content_language:
            headers["content-language"] = self.content_language
        return headers


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), MAX_RETRY_AFTER_SECONDS))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return float(min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS))


def describe_status(status: int, reason: str | None) -> FeedError:
    """An HTTP error status as a FeedError with words a reporter understands."""
    phrase = f"HTTP {status}" + (f" {reason}" if reason else "")
    if status == 410:
        return FeedError("gone", f"the server says this feed is gone for good ({phrase}); feed disabled")
    if status == 404:
        return FeedError("http_404", f"the server says this feed does not exist ({phrase})")
    if status in (401, 403):
        return FeedError(f"http_{status}", f"the server refuses to give us this feed ({phrase})")
    if 400 <= status < 500:
        return FeedError(f"http_{status}", f"the server rejected the request ({phrase})")
    if status >= 500:
        return FeedError(f"http_{status}", f"the server had an internal problem ({phrase})")
    return FeedError(f"http_{status}", f"unexpected answer from the server ({phrase})")


def looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(_HTML_STARTS)


class HostLimiter:
    """At most `per_host` fetches in flight to one host, `overall` in total."""

    def __init__(self, overall: int, per_host: int) -> None:
        self._overall = asyncio.Semaphore(overall)
        self._per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    def host(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        semaphore = self._hosts.get(host)
        if semaphore is None:
            semaphore = self._hosts[host] = asyncio.Semaphore(self._per_host)
        return semaphore

    @property
    def overall(self) -> asyncio.Semaphore:
        return self._overall


class FeedFetcher:
    """Fetches feeds with one shared aiohttp session (given, or created and owned here).

    Args:
        settings: timeouts, size cap and concurrency limits (FETCH_*, FEED_MAX_BYTES).
        http_session: an existing `aiohttp.ClientSession` to reuse; it is not closed by `aclose()`.
    """

    def __init__(self, settings: Settings, http_session: aiohttp.ClientSession | None = None) -> None:
        self._settings = settings
        self._session = http_session
        self._owns_session = http_session is None
        self._limiter = HostLimiter(settings.fetch_concurrency, settings.fetch_per_host_concurrency)
        self._timeout = aiohttp.ClientTimeout(
            total=None,  # the whole fetch, redirects included, is bounded by asyncio.timeout below
            connect=settings.fetch_connect_timeout_seconds,
            sock_connect=settings.fetch_connect_timeout_seconds,
            sock_read=settings.fetch_total_timeout_seconds,
        )

    async def __aenter__(self) -> FeedFetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._settings.fetch_concurrency,
                limit_per_host=self._settings.fetch_per_host_concurrency,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
            self._owns_session = True
        return self._session

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET `url` with the stored validators; FeedError on anything that is not a usable body or a 304."""
        limit = self._settings.fetch_total_timeout_seconds
        try:
            # Waiting for a free slot is not the server's fault: the timeout starts once we hold one.
            async with self._limiter.overall, self._limiter.host(url):
                started = time.perf_counter()
                async with asyncio.timeout(limit):
                    result = await self._follow(url, etag, last_modified)
        except FeedError:
            raise
        except TimeoutError:
            raise FeedError("timeout", f"the server did not send the feed within {limit:g} seconds") from None
        except aiohttp.ClientConnectorDNSError:
            host = urlsplit(url).hostname or url
            raise FeedError("dns", f"the feed's host name {host!r} could not be found (DNS)") from None
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError) as error:
            raise FeedError("tls", f"secure connection failed (TLS/certificate problem: {error})") from None
        except aiohttp.ClientConnectorError as error:
            raise FeedError("connection", f"could not connect to the server ({error.os_error})") from None
        except aiohttp.ServerTimeoutError:
            raise FeedError("timeout", f"the server did not send the feed within {limit:g} seconds") from None
        except aiohttp.ClientPayloadError:
            raise FeedError("connection", "the server cut the feed off or sent it garbled") from None
        except (aiohttp.InvalidUrlClientError, ValueError) as error:
            raise FeedError("bad_url", f"the feed address is not a valid URL ({error})") from None
        except (aiohttp.ClientError, OSError) as error:
            raise FeedError("connection", f"the connection failed ({type(error).__name__})") from None
        return replace(result, elapsed_seconds=time.perf_counter() - started)

    async def _follow(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", "Accept": _ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        permanent_url: str | None = None
        still_permanent = True  # only an unbroken chain of 301/308 from the start moves the feed for good
        for _hop in range(MAX_REDIRECTS + 1):
            async with self._http().get(
                current, headers=headers, allow_redirects=False, timeout=self._timeout
            ) as response:
                if response.status in REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise FeedError("http_redirect", "the server redirected without saying where to")
                    target = urljoin(current, location)
                    if urlsplit(target).scheme not in ("http", "https"):
                        raise FeedError("bad_url", f"the server redirected to a non-web address: {target}")
                    if still_permanent and response.status in PERMANENT_REDIRECTS:
                        permanent_url = target
                    else:
                        still_permanent = False
                    current = target
                    continue
                return await self._read(response, current, permanent_url)
        raise FeedError("redirects", f"the server redirected more than {MAX_REDIRECTS} times")

    async def _read(
        self, response: aiohttp.ClientResponse, url: str, permanent_url: str | None
    ) -> FetchResult:
        new_etag = response.headers.get("ETag")
        new_modified = response.headers.get("Last-Modified")
        if response.status == 304:
            return FetchResult(
                url=url,
                status=304,
                not_modified=True,
                etag=new_etag,
                last_modified=new_modified,
                permanent_url=permanent_url,
            )
        if response.status in THROTTLE_STATUSES:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            hint = f"; retrying in {wait:.0f} s as asked" if wait is not None else ""
            word = "asks us to slow down" if response.status == 429 else "is temporarily unavailable"
            kind = "rate_limited" if response.status == 429 else "unavailable"
            raise FeedError(kind, f"the server {word} (HTTP {response.status}){hint}", retry_after=wait)
        if not 200 <= response.status < 300:
            raise describe_status(response.status, response.reason)
        body = await self._read_capped(response)
        if not body.strip():
            raise FeedError("empty", "the server answered with an empty body")
        if looks_like_html(body):
            raise FeedError("not_a_feed", "the address returns a web page (HTML), not an RSS or Atom feed")
        return FetchResult(
            url=url,
            status=response.status,
            not_modified=False,
            body=body,
            body_hash=hashlib.sha256(body).hexdigest(),
            content_type=response.headers.get("Content-Type", ""),
            content_language=response.headers.get("Content-Language", ""),
            etag=new_etag,
            last_modified=new_modified,
            permanent_url=permanent_url,
            headers=dict(response.headers),
        )

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        cap = self._settings.feed_max_bytes
        too_large = FeedError("too_large", f"the feed is larger than {_megabytes(cap)}; refused")
        declared = response.headers.get("Content-Length")
        # Content-Length counts compressed bytes; only an uncompressed answer can be refused up front.
        uncompressed = not response.headers.get("Content-Encoding")
        if declared and declared.isdigit() and uncompressed and int(declared) > cap:
            raise too_large
        buffer = bytearray()
        # Decompressed bytes are counted, so a small gzip bomb is refused as well.
        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
            buffer += chunk
            if len(buffer) > cap:
                raise too_large
        return bytes(buffer)


_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)


def _megabytes(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size} bytes"
