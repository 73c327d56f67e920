"""Article fetch for teaser-only entries: extraction, the per-URL cache, the size limit, and its use by the
pipeline (loopback HTTP only)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html import escape

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import DEFAULT_TOPICS_FILE, load_settings
from storage.db import session_factory
from storage.models import ArticleCacheRow, EntryRow, FeedRow
from stories.article import ArticleFetcher
from stories.model import Entry
from stories.pipeline import StoryPipeline
from stories.topics import load_topics

NOW = datetime(2019, 2, 26, 19, tzinfo=UTC)
PARAGRAPHS = [
    "A total of 326 members of Venezuela's armed forces have deserted and crossed the border into Colombia "
    "since Saturday, Migration Colombia said on Tuesday.",
    "AFP has seen at least 20 deserters arriving in the border town of Cucuta since Saturday, although none "
    "of them were armed or of a high rank.",
    "Venezuela's armed forces number about 365,000 members, and about 1.6 million civilians are in the "
    "colectivos, officials in Bogota said.",
]
PAGE = (
    "<html><head><title>Deserters</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
    "<div class='share'>Share on Facebook</div><article><h1>Colombia says 326 Venezuelan army deserters</h1>"
    + "".join(f"<p>{escape(paragraph)}</p>" for paragraph in PARAGRAPHS)
    + "</article><aside><h3>You may also like</h3><p>Microsoft earnings beat expectations.</p></aside>"
    "<div id='comments'><p>Great article, thanks!</p></div>"
    "<footer>All rights reserved.</footer></body></html>"
)


class ArticleServer:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.base = ""

    async def page(self, request: web.Request) -> web.Response:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        if request.path == "/huge":
            return web.Response(
                body=b"<html><body>" + b"x" * 50_000 + b"</body></html>", content_type="text/html"
            )
        return web.Response(text=PAGE, content_type="text/html")


@pytest.fixture
async def server() -> AsyncIterator[ArticleServer]:
    state = ArticleServer()
    app = web.Application()
    app.router.add_get("/{name}", state.page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield state
    finally:
        await runner.cleanup()


async def test_article_text_is_extracted_once_and_cached(
    sqlite_engine: AsyncEngine, server: ArticleServer
) -> None:
    fetcher = ArticleFetcher(load_settings())
    url = f"{server.base}/deserters"
    async with session_factory(sqlite_engine)() as session, session.begin():
        text = await fetcher.article_text(session, url, NOW)
        again = await fetcher.article_text(session, url, NOW)
    assert text is not None and text == again
    assert "326 members of Venezuela's armed forces" in text
    for noise in ("Share on Facebook", "Microsoft", "Great article", "All rights reserved"):
        assert noise not in text
    assert server.hits["/deserters"] == 1
    async with session_factory(sqlite_engine)() as session:
        cached = await session.get(ArticleCacheRow, url)
        assert cached is not None and cached.status == "ok"


async def test_pages_over_the_size_limit_are_not_read(
    sqlite_engine: AsyncEngine, server: ArticleServer
) -> None:
    fetcher = ArticleFetcher(load_settings(FEED_MAX_BYTES=10_000))
    async with session_factory(sqlite_engine)() as session, session.begin():
        assert await fetcher.article_text(session, f"{server.base}/huge", NOW) is None
        cached = await session.get(ArticleCacheRow, f"{server.base}/huge")
        assert cached is not None and cached.status == "too_large"


async def test_pipeline_reads_the_article_of_an_on_beat_teaser(
    sqlite_engine: AsyncEngine, server: ArticleServer
) -> None:
    settings = load_settings(FETCH_ARTICLES=True)
    pipeline = StoryPipeline(load_topics(DEFAULT_TOPICS_FILE), settings)
    teaser = Entry(
        entry_id="t1",
        feed_name="afp",
        title="Colombia says 326 Venezuelan army deserters since Saturday",
        link=f"{server.base}/deserters",
        summary="Hundreds of Venezuelan soldiers have crossed the border into Colombia.",
        published=NOW,
    )
    async with session_factory(sqlite_engine)() as session, session.begin():
        feed = FeedRow(name="afp", url="https://afp.example/rss", language="en", created_at=NOW)
        session.add(feed)
        await session.flush()
        events = await pipeline.process(session, feed, [teaser], NOW, alerting=True)
    assert events[0].detection.relevant
    assert {figure.value for figure in events[0].story.figures} >= {326, 20, 365_000, 1_600_000}
    async with session_factory(sqlite_engine)() as session:
        stored = (await session.execute(select(EntryRow))).scalar_one()
        assert "at least 20 deserters" in stored.content
    assert server.hits["/deserters"] == 1
