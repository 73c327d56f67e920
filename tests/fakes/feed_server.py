"""A local feed server for tests, benchmarks and `make demo`: real HTTP on 127.0.0.1, port 0.

Usage::

    async with FeedServer() as server:
        url = server.feed("/border.xml", rss_document("Border desk", [FeedItem("Title", "https://x/1")]))
        server.redirect("/old.xml", "/border.xml", status=301)
        server.status("/broken.xml", 500)
        ...
        server.hits("/border.xml")          # how many requests that path received
        server.requests                     # every request: path, method, headers

Every route method returns the absolute URL of the path. Routes can be replaced at any time (the next
request sees the new behaviour), which is how tests make a feed change between two polls.

Scenarios: `feed` (200 with ETag and Last-Modified, 304 on a matching conditional GET, optional gzip),
`redirect` (301/302/307/308), `status` (any status, optional headers such as Retry-After), `gone` (410),
`rate_limited` (429 or 503 + Retry-After), `slow` (headers or body delayed past a timeout), `endless`
(an infinite body), `oversized` (a body of a given size), `html_page`, `raw` (bytes exactly as given, e.g.
broken XML or an ISO-8859-1 feed) and `serve_directory` (every file of a directory under a prefix).
Builders `rss_document` and `atom_document` write small valid feeds from `FeedItem`s.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import escape

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    path: str
    method: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item of a generated feed."""

    title: str
    link: str
    guid: str | None = None
    summary: str = ""
    published: datetime | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    language: str | None = None  # Atom only: xml:lang on the entry


def rss_document(
    title: str,
    items: Sequence[FeedItem],
    *,
    link: str = "https://example.org/",
    language: str | None = "en",
    encoding: str = "utf-8",
) -> bytes:
    """An RSS 2.0 document, encoded in `encoding` and declaring it in the XML prolog."""
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>{escape(title)}</title><link>{escape(link)}</link><description>{escape(title)}</description>",
    ]
    if language:
        parts.append(f"<language>{escape(language)}</language>")
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title><link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.summary:
            parts.append(f"<description>{escape(item.summary)}</description>")
        if item.published:
            parts.append(f"<pubDate>{format_datetime(item.published.astimezone(UTC), usegmt=True)}</pubDate>")
        if item.author:
            parts.append(f"<dc:creator>{escape(item.author)}</dc:creator>")
        parts.extend(f"<category>{escape(category)}</category>" for category in item.categories)
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode(encoding, errors="xmlcharrefreplace")


def atom_document(
    title: str, items: Sequence[FeedItem], *, feed_id: str = "urn:wirewatch:test", language: str | None = None
) -> bytes:
    """An Atom 1.0 document in UTF-8."""
    lang = f' xml:lang="{escape(language)}"' if language else ""
    updated = max(
        (item.published for item in items if item.published), default=datetime(2026, 1, 1, tzinfo=UTC)
    )
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom"{lang}>',
        f"<title>{escape(title)}</title><id>{escape(feed_id)}</id><updated>{updated.isoformat()}</updated>",
    ]
    for item in items:
        entry_lang = f' xml:lang="{escape(item.language)}"' if item.language else ""
        parts.append(f"<entry{entry_lang}>")
        parts.append(f'<title>{escape(item.title)}</title><link href="{escape(item.link)}"/>')
        parts.append(f"<id>{escape(item.guid or item.link)}</id>")
        when = (item.published or updated).isoformat()
        parts.append(f"<updated>{when}</updated><published>{when}</published>")
        if item.summary:
            parts.append(f'<summary type="html">{escape(item.summary)}</summary>')
        if item.author:
            parts.append(f"<author><name>{escape(item.author)}</name></author>")
        parts.extend(f'<category term="{escape(category)}"/>' for category in item.categories)
        parts.append("</entry>")
    parts.append("</feed>")
    return "\n".join(parts).encode("utf-8")


HTML_PAGE = b"""<!DOCTYPE html>
<html><head><title>Noticias</title></head>
<body><h1>Portada</h1><p>This is a web page, not a feed.</p></body></html>
"""


@dataclass(slots=True)
class _Route:
    handler: Handler
    hits: int = 0


@dataclass(slots=True)
class FeedServer:
    """aiohttp server on 127.0.0.1 with scriptable routes; use as an async context manager."""

    host: str = "127.0.0.1"
    requests: list[RecordedRequest] = field(default_factory=list)
    _routes: dict[str, _Route] = field(default_factory=dict)
    _prefixes: dict[str, Path] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _port: int = 0
    _directory_content_type: str = "application/xml"

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only through the asyncio server
        assert server is not None and server.sockets
        self._port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FeedServer:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def hits(self, path: str) -> int:
        route = self._routes.get(path)
        return route.hits if route else sum(1 for request in self.requests if request.path == path)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    # --- scenarios ------------------------------------------------------------------------------

    def route(self, path: str, handler: Handler) -> str:
        """Any custom aiohttp handler at `path`."""
        self._routes[path] = _Route(handler)
        return self.url(path)

    def feed(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        etag: bool = True,
        last_modified: datetime | None = datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
        honour_conditional: bool = True,
        compress: str | None = None,
    ) -> str:
        """200 with the body; ETag/Last-Modified and 304 on a matching conditional GET.

        `compress` = "gzip" or "deflate" sends the body with that Content-Encoding.
        `honour_conditional=False` plays a server that ignores If-None-Match (always 200, same body).
        """
        tag = f'"{hashlib.sha256(body).hexdigest()[:16]}"' if etag else None
        modified = format_datetime(last_modified, usegmt=True) if last_modified else None

        async def handler(request: web.Request) -> web.StreamResponse:
            headers = {"Content-Type": content_type}
            if tag:
                headers["ETag"] = tag
            if modified:
                headers["Last-Modified"] = modified
            if honour_conditional and _not_modified(request, tag, modified):
                return web.Response(
                    status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"}
                )
            payload = body
            if compress == "gzip":
                payload = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            elif compress == "deflate":
                payload = zlib.compress(body)
                headers["Content-Encoding"] = "deflate"
            return web.Response(body=payload, headers=headers)

        return self.route(path, handler)

    def raw(self, path: str, body: bytes, *, content_type: str = "application/xml", status: int = 200) -> str:
        """The bytes exactly as given, no validators: broken XML, odd encodings, empty bodies."""

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, status=status, headers={"Content-Type": content_type})

        return self.route(path, handler)

    def html_page(self, path: str, body: bytes = HTML_PAGE) -> str:
        return self.raw(path, body, content_type="text/html; charset=utf-8")

    def redirect(self, path: str, to: str, *, status: int = 301) -> str:
        """A redirect to `to` (a path on this server or an absolute URL)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": to})

        return self.route(path, handler)

    def status(
        self, path: str, status: int, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> str:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, body=body, headers=headers or {})

        return self.route(path, handler)

    def gone(self, path: str) -> str:
        return self.status(path, 410, body=b"gone")

    def rate_limited(self, path: str, retry_after: str = "120", *, status: int = 429) -> str:
        """429 (or 503) with Retry-After in seconds or as an HTTP date."""
        return self.status(path, status, headers={"Retry-After": retry_after})

    def slow(self, path: str, delay_seconds: float, body: bytes = b"", *, before_headers: bool = True) -> str:
        """Waits `delay_seconds` before the headers (or, with before_headers=False, mid-body)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            if before_headers:
                await asyncio.sleep(delay_seconds)
                return web.Response(body=body, headers={"Content-Type": "application/rss+xml"})
            response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            await asyncio.sleep(delay_seconds)
            await response.write(body[len(body) // 2 :])
            await response.write_eof()
            return response

        return self.route(path, handler)

    def endless(self, path: str, chunk: bytes = b"<item><title>x</title></item>" * 1000) -> str:
        """A body that never ends (chunked), until the client hangs up."""

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            await response.prepare(request)
            await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
            try:
                while True:
                    await response.write(chunk)
            except (ConnectionError, asyncio.CancelledError):
                pass
            return response

        return self.route(path, handler)

    def oversized(self, path: str, size: int, *, declare_length: bool = True) -> str:
        """A body of `size` bytes, with or without Content-Length (without: chunked)."""
        block = b"<!-- padding -->" * 4096

        async def handler(request: web.Request) -> web.StreamResponse:
            headers = {"Content-Type": "application/rss+xml"}
            response = web.StreamResponse(headers=headers)
            if declare_length:
                response.content_length = size
            await response.prepare(request)
            sent = 0
            try:
                while sent < size:
                    piece = block[: size - sent]
                    await response.write(piece)
                    sent += len(piece)
                await response.write_eof()
            except ConnectionError:
                pass
            return response

        return self.route(path, handler)

    def serve_directory(self, prefix: str, directory: Path, *, content_type: str = "application/xml") -> str:
        """Every file under `directory` at `prefix/<relative path>`, with ETag/304; returns the prefix URL."""
        self._prefixes[prefix.rstrip("/") + "/"] = directory.resolve()
        self._directory_content_type = content_type
        return self.url(prefix.rstrip("/") + "/")

    def directory_urls(self, prefix: str, paths: Sequence[Path], directory: Path) -> list[str]:
        """URLs of `paths` (files under `directory`) as served by `serve_directory(prefix, directory)`."""
        base = prefix.rstrip("/") + "/"
        return [self.url(base + path.resolve().relative_to(directory.resolve()).as_posix()) for path in paths]

    # --- dispatch -------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(RecordedRequest(request.path, request.method, dict(request.headers)))
        route = self._routes.get(request.path)
        if route is not None:
            route.hits += 1
            return await route.handler(request)
        for prefix, directory in self._prefixes.items():
            if request.path.startswith(prefix):
                return await self._serve_file(request, directory, request.path[len(prefix) :])
        return web.Response(status=404, text="no such feed")

    async def _serve_file(self, request: web.Request, directory: Path, relative: str) -> web.StreamResponse:
        target = (directory / relative).resolve()
        if not target.is_relative_to(directory) or not target.is_file():
            return web.Response(status=404, text="no such file")
        body = target.read_bytes()
        tag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if _not_modified(request, tag, None):
            return web.Response(status=304, headers={"ETag": tag})
        return web.Response(body=body, headers={"Content-Type": self._directory_content_type, "ETag": tag})


def _not_modified(request: web.Request, etag: str | None, last_modified: str | None) -> bool:
    if etag and request.headers.get("If-None-Match") == etag:
        return True
    return bool(last_modified and not etag and request.headers.get("If-Modified-Since") == last_modified)
