"""The article text cache (`article_cache`): every fetch outcome per URL, failures included, so a page is
fetched once however many feeds link to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ArticleCacheRow


@dataclass(frozen=True, slots=True)
class CachedArticle:
    status: str  # "ok", or why the page could not be had
    text: str


async def cached_article(session: AsyncSession, url: str) -> CachedArticle | None:
    row = await session.get(ArticleCacheRow, url)
    return CachedArticle(row.status, row.text) if row is not None else None


async def store_article(session: AsyncSession, url: str, status: str, text: str, now: datetime) -> None:
    """Record a fetch outcome; a URL another worker stored first is kept as it is."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ArticleCacheRow)
        .values(url=url, fetched_at=now, status=status, text=text)
        .on_conflict_do_nothing(index_elements=["url"])
    )
    await session.execute(statement)
