"""Article text for on-beat entries whose feed gives only a teaser (FETCH_ARTICLES).

The page is fetched with the same limits as feeds (connect and total timeouts, FEED_MAX_BYTES) and extracted
with trafilatura in a worker thread, never on the event loop. Every outcome, failures included, is cached
per URL in `article_cache`, so a page is fetched once however many feeds link to it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import aiohttp
import trafilatura
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from storage.article_cache import cached_article, store_article
from stories.cleanup import clean_article

log = logging.getLogger(__name__)
USER_AGENT = "Wirewatch/0.1 (newsroom feed monitor; article text for alerts)"
MAX_URL_LENGTH = 2048  # article_cache.url


class ArticleTooLarge(Exception):
    pass


def extract_text(html: bytes | str) -> str:
    """Main text of an article page: precision over recall, comments never included."""
    text = trafilatura.extract(html, favor_precision=True, include_comments=False, include_tables=False)
    return clean_article(text or "")


class ArticleFetcher:
    """Fetches and extracts article pages, cached per URL in the store.

    Args:
        settings: FETCH_CONNECT_TIMEOUT_SECONDS, FETCH_TOTAL_TIMEOUT_SECONDS and FEED_MAX_BYTES.
        http_session: an aiohttp session to reuse (not closed here); default: one per fetch.
    """

    def __init__(self, settings: Settings, http_session: aiohttp.ClientSession | None = None) -> None:
        self._settings = settings
        self._http = http_session

    async def article_text(self, session: AsyncSession, url: str, now: datetime) -> str | None:
        """The cached or freshly fetched text of `url`; None when the page could not be had."""
        if len(url) > MAX_URL_LENGTH:
            return None
        cached = await cached_article(session, url)
        if cached is not None:
            return cached.text if cached.status == "ok" else None
        status, text = await self._fetch(url)
        await store_article(session, url, status, text, now)
        return text if status == "ok" else None

    async def _fetch(self, url: str) -> tuple[str, str]:
        try:
            async with asyncio.timeout(self._settings.fetch_total_timeout_seconds):
                body = await self._download(url)
        except TimeoutError:
            return "timeout", ""
        except ArticleTooLarge:
            return "too_large", ""
        except (aiohttp.ClientError, OSError, ValueError) as error:
            log.info("article fetch failed for %s: %s", url, type(error).__name__)
            return "connection", ""
        text = await asyncio.to_thread(extract_text, body)
        return ("ok", text) if text else ("no_text", "")

    async def _download(self, url: str) -> bytes:
        limit = self._settings.feed_max_bytes
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=self._settings.fetch_connect_timeout_seconds,
            sock_read=self._settings.fetch_total_timeout_seconds,
        )
        owned = self._http is None
        http = self._http or aiohttp.ClientSession(timeout=timeout)
        try:
            async with http.get(url, headers={"User-Agent": USER_AGENT}, timeout=timeout) as response:
                response.raise_for_status()
                if response.content_length is not None and response.content_length > limit:
                    raise ArticleTooLarge
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > limit:
                        raise ArticleTooLarge
                return bytes(body)
        finally:
            if owned:
                await http.close()
