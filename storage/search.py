"""Full-text search over stored entries, one story per result: SQLite FTS5 or PostgreSQL tsvector.

Both engines sit behind `search_stories(session, query, ...)`. The full-text objects are created by migration
0001 (`entries_fts` + triggers on SQLite; `search_vector` + GIN + the `entries_fts_config` text search
configuration on PostgreSQL). The engines never see raw user text: `handlers.news.query` reduces it to a
`values.query.NewsQuery` of words of letters and digits, each bound as a parameter (PostgreSQL) or as a quoted
FTS5 string (SQLite), so no input can produce a syntax error or an injection.

Ranking: each engine's relevance (bm25 / ts_rank_cd), normalised over the candidates, blended with recency.
Candidates are the most recently stored matches (at most CANDIDATE_WINDOW), which keeps a query for a word
found in half the archive fast; a rare word's every match is a candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EntryRow, FeedRow, StoryRow
from storage.types import UTCDateTime
from stories.summarize import summarize
from values.query import NewsQuery

CANDIDATE_WINDOW = 300
RELEVANCE_WEIGHT = 0.7
RECENCY_HALF_LIFE_HOURS = 72.0
PG_CONFIG = "entries_fts_config"
# Enough of an entry's stored text for a summary of its lead (`stories.summarize` reads no further).
LEAD_CHARS = 4000


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A story that matched, shown through its best-matching entry."""

    story_id: int
    entry_id: int
    title: str
    link: str | None
    source: str  # feed name of the best-matching entry
    summary: str
    published: datetime  # the entry's published time, else when it was first seen
    language: str | None
    other_sources: int  # how many other feeds carried the story
    topics: tuple[str, ...]
    figures: tuple[dict[str, Any], ...]
    score: float


@dataclass(frozen=True, slots=True)
class MatchClause:
    join: str  # added to FROM
    condition: str  # added to WHERE
    relevance: str  # higher is better
    newest_first: str  # ORDER BY that walks the matches newest first, cheaply for this engine


class SearchEngine(Protocol):
    """The dialect-specific half: which entries match, with a relevance where higher is better."""

    def match_clause(self, query: NewsQuery, params: dict[str, Any]) -> MatchClause | None:
        """None when nothing can match."""
        ...

    def exclusion_clause(self, query: NewsQuery, params: dict[str, Any]) -> str | None: ...

    def topic_clause(self, placeholders: str) -> str: ...

    def age_hours(self, column: str) -> str:
        """SQL for the hours between `column` and the bound `:now`."""
        ...


def _fts5_string(words: Sequence[str]) -> str:
    # Inside an FTS5 string every character is literal except the quote itself, which is doubled.
    return '"' + " ".join(words).replace('"', '""') + '"'


class Fts5Engine:
    """SQLite FTS5 external-content table `entries_fts` (title, summary, content)."""

    def match_expression(self, query: NewsQuery) -> str | None:
        positives = [_fts5_string([t]) for t in query.terms] + [_fts5_string(p) for p in query.phrases]
        if not positives:
            return None
        expression = "(" + " ".join(positives) + ")"
        for words in query.excluded:
            expression += " NOT " + _fts5_string(words)
        return expression

    def match_clause(self, query: NewsQuery, params: dict[str, Any]) -> MatchClause | None:
        expression = self.match_expression(query)
        if expression is None:
            return None
        params["match"] = expression
        return MatchClause(
            join="JOIN entries_fts ON entries_fts.rowid = e.id",
            condition="entries_fts MATCH :match",
            # bm25 is lower-is-better; title weighs most, then summary, then the full text.
            relevance="-bm25(entries_fts, 10.0, 3.0, 1.0)",
            # FTS5 walks its doclists in rowid order itself; ordering by e.id instead makes SQLite
            # collect and sort every match (50x slower for a word in 5% of a million entries).
            newest_first="entries_fts.rowid DESC",
        )

    def exclusion_clause(self, query: NewsQuery, params: dict[str, Any]) -> str | None:
        if not query.excluded:
            return None
        params["excluded_match"] = " OR ".join(_fts5_string(w) for w in query.excluded)
        return "e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH :excluded_match)"

    def topic_clause(self, placeholders: str) -> str:
        return f"EXISTS (SELECT 1 FROM json_each(s.topics) AS t WHERE t.value IN ({placeholders}))"

    def age_hours(self, column: str) -> str:
        return f"(julianday(:now) - julianday({column})) * 24.0"


class TsvectorEngine:
    """PostgreSQL generated `search_vector` column with a GIN index."""

    def _tsquery(self, query: NewsQuery, params: dict[str, Any], *, negate: bool) -> str:
        parts: list[str] = []
        for index, term in enumerate(query.terms):
            params[f"term_{index}"] = term
            parts.append(f"plainto_tsquery('{PG_CONFIG}', :term_{index})")
        for index, phrase in enumerate(query.phrases):
            params[f"phrase_{index}"] = " ".join(phrase)
            parts.append(f"phraseto_tsquery('{PG_CONFIG}', :phrase_{index})")
        if negate:
            for index, words in enumerate(query.excluded):
                params[f"excluded_{index}"] = " ".join(words)
                parts.append(f"(!! phraseto_tsquery('{PG_CONFIG}', :excluded_{index}))")
        return " && ".join(parts)

    def match_clause(self, query: NewsQuery, params: dict[str, Any]) -> MatchClause | None:
        if not query.has_text:
            return None
        tsquery = self._tsquery(query, params, negate=True)
        return MatchClause(
            join=f"CROSS JOIN (SELECT {tsquery} AS q) AS search_query",
            condition="e.search_vector @@ search_query.q",
            relevance="ts_rank_cd(e.search_vector, search_query.q)",
            newest_first="e.id DESC",
        )

    def exclusion_clause(self, query: NewsQuery, params: dict[str, Any]) -> str | None:
        if not query.excluded:
            return None
        parts = []
        for index, words in enumerate(query.excluded):
            params[f"excluded_{index}"] = " ".join(words)
            parts.append(f"phraseto_tsquery('{PG_CONFIG}', :excluded_{index})")
        return f"NOT (e.search_vector @@ ({' || '.join(parts)}))"

    def topic_clause(self, placeholders: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM json_array_elements_text(s.topics) AS t(name) "
            f"WHERE t.name IN ({placeholders}))"
        )

    def age_hours(self, column: str) -> str:
        return f"extract(epoch FROM (:now - {column})) / 3600.0"


def engine_for(dialect_name: str) -> SearchEngine:
    if dialect_name == "sqlite":
        return Fts5Engine()
    if dialect_name == "postgresql":
        return TsvectorEngine()
    raise ValueError(f"no full-text search for database dialect {dialect_name!r}")


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _candidate_statement(
    engine: SearchEngine, query: NewsQuery, topics: Sequence[str] | None, window: int, now: datetime
) -> tuple[Any, dict[str, Any]] | None:
    params: dict[str, Any] = {"window": window, "now": now}
    joins: list[str] = []
    conditions = ["e.story_id IS NOT NULL"]
    relevance, order = "0.0", "e.id DESC"
    if query.has_text:
        clause = engine.match_clause(query, params)
        if clause is None:
            return None
        joins.append(clause.join)
        conditions.append(clause.condition)
        relevance, order = clause.relevance, clause.newest_first
    else:
        excluded = engine.exclusion_clause(query, params)
        if excluded is not None:
            conditions.append(excluded)
    if query.since is not None:
        params["since"] = query.since
        conditions.append("coalesce(e.published_at, e.first_seen_at) >= :since")
    if query.lang is not None:
        params["lang"] = query.lang
        conditions.append("e.language = :lang")
    if query.source is not None:
        params["source"] = f"%{_escape_like(query.source.lower())}%"
        joins.append("JOIN feeds f ON f.id = e.feed_id")
        conditions.append("lower(f.name) LIKE :source ESCAPE '\\'")
    if topics is not None:
        if not topics:
            return None
        names = []
        for index, name in enumerate(topics):
            params[f"topic_{index}"] = name
            names.append(f":topic_{index}")
        joins.append("JOIN stories s ON s.id = e.story_id")
        conditions.append(engine.topic_clause(", ".join(names)))
    # Only ids, relevance and age here: the window can hold hundreds of rows, and converting their
    # text and timestamps would cost more than the full-text lookup itself.
    sql = (
        f"SELECT e.id AS entry_id, e.story_id AS story_id, {relevance} AS relevance, "
        f"{engine.age_hours('coalesce(e.published_at, e.first_seen_at)')} AS age_hours "
        f"FROM entries e {' '.join(joins)} WHERE {' AND '.join(conditions)} "
        f"ORDER BY {order} LIMIT :window"
    )
    typed = [bindparam("now", type_=UTCDateTime())]
    if "since" in params:
        typed.append(bindparam("since", type_=UTCDateTime()))
    return text(sql).bindparams(*typed), params


def _blend(candidates: Sequence[Any]) -> list[tuple[float, int, int]]:
    """(score, entry id, story id) for rows of (entry_id, story_id, relevance, age_hours)."""
    best = max((float(c.relevance or 0.0) for c in candidates), default=0.0)
    scored = []
    for candidate in candidates:
        relevance = float(candidate.relevance or 0.0) / best if best > 0 else 0.0
        age_hours = max(0.0, float(candidate.age_hours or 0.0))
        recency = 0.5 ** (age_hours / RECENCY_HALF_LIFE_HOURS)
        score = RELEVANCE_WEIGHT * relevance + (1 - RELEVANCE_WEIGHT) * recency
        scored.append((score, int(candidate.entry_id), int(candidate.story_id)))
    return scored


def _same_language(row: Any) -> bool:
    return row.language is None or row.story_language is None or row.language == row.story_language


def _hit_summary(row: Any) -> str:
    """The story's summary (cleaned, the lead, never boilerplate) when it is in the language of the entry
    shown; else the same kind of summary made from that entry's own stored text."""
    if _same_language(row) and row.story_summary:
        return str(row.story_summary)
    summary, content = row.entry_summary or "", row.entry_content or ""
    return summarize(content if len(content) > len(summary) else summary, row.title or "", clean=False)


def _hit_figures(row: Any) -> tuple[dict[str, Any], ...]:
    """The story's current figures, unless the entry shown is in another language and has figures of its
    own: then those, so the figures read in the language of the headline above them."""
    if not _same_language(row) and row.entry_figures:
        return tuple(row.entry_figures)
    return tuple(row.figures or ())


async def search_stories(
    session: AsyncSession,
    query: NewsQuery,
    now: datetime,
    *,
    limit: int = 10,
    topics: Sequence[str] | None = None,
    window: int = CANDIDATE_WINDOW,
) -> list[SearchHit]:
    """Stories matching `query`, best first, one hit per story.

    `topics`, when given, restricts to stories carrying any of these topic names (the caller expands a
    topic to its sub-topics). A query with neither words nor filters matches nothing.
    """
    if not query.has_text and not query.has_filters and topics is None:
        return []
    engine = engine_for(session.get_bind().dialect.name)
    built = _candidate_statement(engine, query, topics, window, now)
    if built is None:
        return []
    statement, params = built
    candidates = (await session.execute(statement, params)).all()
    best_per_story: dict[int, tuple[float, int]] = {}
    for score, entry_id, story_id in _blend(candidates):
        current = best_per_story.get(story_id)
        if current is None or (score, entry_id) > current:
            best_per_story[story_id] = (score, entry_id)
    ranked = sorted(best_per_story.items(), key=lambda item: (-item[1][0], -item[1][1]))[:limit]
    if not ranked:
        return []
    story_ids = [story_id for story_id, _ in ranked]
    entry_ids = [entry_id for _, (_, entry_id) in ranked]
    details = {
        row.id: row
        for row in await session.execute(
            select(
                EntryRow.id,
                EntryRow.title,
                EntryRow.link,
                func.substr(EntryRow.summary, 1, LEAD_CHARS).label("entry_summary"),
                func.substr(EntryRow.content, 1, LEAD_CHARS).label("entry_content"),
                EntryRow.figures.label("entry_figures"),
                EntryRow.language,
                EntryRow.published_at,
                EntryRow.first_seen_at,
                FeedRow.name.label("source"),
                StoryRow.topics,
                StoryRow.figures,
                StoryRow.summary.label("story_summary"),
                StoryRow.language.label("story_language"),
            )
            .join(FeedRow, FeedRow.id == EntryRow.feed_id)
            .join(StoryRow, StoryRow.id == EntryRow.story_id)
            .where(EntryRow.id.in_(entry_ids))
        )
    }
    feeds_per_story = dict(
        (
            await session.execute(
                select(EntryRow.story_id, func.count(func.distinct(EntryRow.feed_id)))
                .where(EntryRow.story_id.in_(story_ids))
                .group_by(EntryRow.story_id)
            )
        ).all()
    )
    hits = []
    for story_id, (score, entry_id) in ranked:
        row = details.get(entry_id)
        if row is None:  # deleted between the two queries
            continue
        hits.append(
            SearchHit(
                story_id=story_id,
                entry_id=entry_id,
                title=row.title,
                link=row.link,
                source=row.source,
                summary=_hit_summary(row),
                published=row.published_at or row.first_seen_at,
                language=row.language,
                other_sources=max(0, int(feeds_per_story.get(story_id, 1)) - 1),
                topics=tuple(row.topics or ()),
                figures=_hit_figures(row),
                score=score,
            )
        )
    return hits


async def recent_stories(
    session: AsyncSession,
    *,
    limit: int,
    topics: Sequence[str] | None = None,
    since: datetime | None = None,
    relevant_only: bool = True,
) -> list[StoryRow]:
    """Newest stories first, optionally only those carrying one of `topics`.

    Without `since`, newest by first sighting. With `since`, only stories published since then (their
    publication time, else when first seen, as `since:` in search) and newest published first: a feed's
    backlog, stored on its first poll, is not news of the period.
    """
    engine = engine_for(session.get_bind().dialect.name)
    params: dict[str, Any] = {"limit": limit}
    conditions = ["1 = 1"]
    if relevant_only:
        conditions.append("s.relevant = :relevant")
        params["relevant"] = True
    order = "s.first_seen_at DESC, s.id DESC"
    if since is not None:
        # coalesce(published_at, first_seen_at) >= :since, written so each half can use its index.
        conditions.append(
            "(s.published_at >= :since OR (s.published_at IS NULL AND s.first_seen_at >= :since))"
        )
        params["since"] = since
        order = "coalesce(s.published_at, s.first_seen_at) DESC, s.id DESC"
    if topics is not None:
        if not topics:
            return []
        names = []
        for index, name in enumerate(topics):
            params[f"topic_{index}"] = name
            names.append(f":topic_{index}")
        conditions.append(engine.topic_clause(", ".join(names)))
    statement = text(
        f"SELECT s.id FROM stories s WHERE {' AND '.join(conditions)} ORDER BY {order} LIMIT :limit"
    )
    if since is not None:
        statement = statement.bindparams(bindparam("since", type_=UTCDateTime()))
    ids = list((await session.execute(statement, params)).scalars())
    if not ids:
        return []
    rows = {
        row.id: row for row in (await session.execute(select(StoryRow).where(StoryRow.id.in_(ids)))).scalars()
    }
    return [rows[i] for i in ids if i in rows]
