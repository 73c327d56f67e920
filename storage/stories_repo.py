"""Queries the story pipeline runs, named by intent. Every lookup is an indexed candidate query (by link,
guid, text hash, LSH band key or figure key), batched per feed poll, so its cost does not grow with the number
of stories stored.

Nothing here commits: the caller's transaction also writes outbox rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EntryRow, StoryBandRow, StoryRevisionRow, StoryRow

_ENTRIES = EntryRow.__tablename__
_BANDS = StoryBandRow.__tablename__
_STORIES = StoryRow.__tablename__
# Well under SQLite's and PostgreSQL's bind-parameter limits, including multi-row inserts of ~20 columns.
_CHUNK = 900
_LEAD_CHARS = 1000  # enough of an entry's text to read the names in its lead
T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_for(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def _select_in(
    session: AsyncSession, sql: str, values: Iterable[Any], *leading: Any, trailing: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """Rows of `sql`, written with `?` placeholders (`leading` before `{IN}`, `trailing` after it) and `{IN}`
    for an IN list, over `values` (deduplicated and sorted, in chunks under the bind-parameter limits).

    Driver SQL for the per-batch candidate lookups: a batch asks about a few thousand keys, and SQLAlchemy's
    expansion and processing of an IN list costs more per key than the index probe itself.
    """
    connection = await session.connection()
    positional = connection.dialect.paramstyle == "qmark"
    rows: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(set(values))):
        text = sql.replace("{IN}", ", ".join("?" * len(chunk)))
        if not positional:
            text = text.replace("?", "%s")  # psycopg
        result = await connection.exec_driver_sql(text, (*leading, *chunk, *trailing))
        rows.extend(tuple(row) for row in result.all())
    return rows


# Key of the PostgreSQL advisory lock under which workers decide stories: "WWSTORY" in ASCII.
STORY_DECISION_LOCK_KEY = 0x57575354_4F5259


async def lock_story_decisions(session: AsyncSession) -> None:
    """Serialise story decisions across workers until this transaction ends (PostgreSQL).

    Two workers polling different feeds may each get a copy of a brand-new story at the same instant; under
    READ COMMITTED neither sees the other's uncommitted story, so both would start one and the desk would get
    two alerts. The second worker waits here until the first commits, then finds its story. Only the
    lookup-decide-write step of a poll runs under the lock (the CPU stages run before it). SQLite needs no
    lock: its single writer already serialises these transactions, whose writes come before the lookups.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_DECISION_LOCK_KEY})


@dataclass(frozen=True, slots=True)
class ExactHit:
    story_id: int
    link: str | None
    guid: str | None
    text_hash: str | None


async def insert_new_entries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """INSERT … ON CONFLICT (feed_id, entry_key) DO NOTHING; returns entry_key -> id of the rows inserted.

    One statement executed for many parameter sets: SQLAlchemy batches it into multi-row INSERTs
    ("insertmanyvalues") and compiles it once, which a `.values([...])` statement would not allow.
    """
    if not rows:
        return {}
    table = EntryRow.__table__
    statement = (
        _insert_for(session)(table)
        .on_conflict_do_nothing(index_elements=["feed_id", "entry_key"])
        .returning(table.c.id, table.c.entry_key)
    )
    result = await session.execute(statement, list(rows))
    return {entry_key: entry_id for entry_id, entry_key in result.all()}


@dataclass(frozen=True, slots=True)
class KnownEntry:
    """An entry a feed already has, with what telling an edit in place apart needs."""

    id: int
    story_id: int | None
    source_hash: str | None  # of the item's text as the feed gave it (see `pipeline.source_hash`)


async def known_entries(session: AsyncSession, feed_id: int, keys: Sequence[str]) -> dict[str, KnownEntry]:
    """The entries of these keys the feed already has, by key (the unique (feed_id, entry_key) index answers),
    with the hash of their text as the feed gave it, so the caller sees an edit in place."""
    sql = (
        f"SELECT entry_key, id, story_id, source_hash FROM {_ENTRIES} "
        f"WHERE feed_id = ? AND entry_key IN ({{IN}})"
    )
    return {row[0]: KnownEntry(*row[1:]) for row in await _select_in(session, sql, keys, feed_id)}


async def find_exact_copies(
    session: AsyncSession, links: Sequence[str], guids: Sequence[str], hashes: Sequence[str]
) -> list[ExactHit]:
    """Stored entries (already in a story) with one of these canonical links, guids or text hashes."""
    hits: list[ExactHit] = []
    for column, values in (("link", links), ("guid", guids), ("text_hash", hashes)):
        sql = (
            f"SELECT story_id, link, guid, text_hash FROM {_ENTRIES} "
            f"WHERE {column} IN ({{IN}}) AND story_id IS NOT NULL"
        )
        hits.extend(ExactHit(*row) for row in await _select_in(session, sql, values))
    return hits


async def find_band_hits(session: AsyncSession, band_keys: Sequence[int]) -> list[tuple[int, int, int]]:
    """(band_key, story_id, entry_id) for every stored LSH band or figure key among `band_keys`."""
    sql = f"SELECT band_key, story_id, entry_id FROM {_BANDS} WHERE band_key IN ({{IN}})"
    return [(row[0], row[1], row[2]) for row in await _select_in(session, sql, band_keys)]


# Written out as `select()` would compile it (same text, same plan, so the same rows within the limit), as
# driver SQL: expanding a few thousand keys into an IN list was most of its cost.
_STORIES_BY_FIGURES = (
    f"SELECT DISTINCT {_BANDS}.band_key, {_BANDS}.story_id, "
    f"coalesce({_STORIES}.published_at, {_STORIES}.first_seen_at) FROM {_BANDS} "
    f"JOIN {_STORIES} ON {_STORIES}.id = {_BANDS}.story_id "
    f"WHERE {_BANDS}.band_key IN ({{IN}}) "
    f"AND coalesce({_STORIES}.published_at, {_STORIES}.first_seen_at) BETWEEN ? AND ? "
    f"ORDER BY {_BANDS}.story_id DESC LIMIT ? OFFSET ?"
)


async def find_stories_by_figures(
    session: AsyncSession, figure_keys: Sequence[int], since: datetime, until: datetime, limit: int = 500
) -> list[tuple[int, int, datetime]]:
    """(figure_key, story_id, story time) of stories in the time window that mention one of these figures;
    newest stories first and at most `limit` per chunk of keys: a common figure ("2") may be shared by many
    stories in the window. The story's time lets each entry of a batch keep to its own matching window:
    the batch's window spans all of its entries' days."""
    connection = await session.connection()
    # The column type turns the window's aware datetimes into what the driver stores (SQLite: naive UTC text)
    # and the stored values back into aware datetimes.
    dialect = connection.dialect
    column_type = StoryRow.__table__.c.published_at.type.dialect_impl(dialect)
    as_stored = column_type.bind_processor(dialect)
    as_loaded = column_type.result_processor(dialect, None)
    window = [as_stored(since), as_stored(until)] if as_stored is not None else [since, until]
    rows = await _select_in(session, _STORIES_BY_FIGURES, figure_keys, trailing=(*window, limit, 0))
    load = as_loaded or (lambda value: value)
    return [(row[0], row[1], load(row[2])) for row in rows]


async def load_signatures(session: AsyncSession, entry_ids: Iterable[int]) -> dict[int, bytes]:
    ids = sorted(set(entry_ids))
    signatures: dict[int, bytes] = {}
    for chunk in _chunks(ids):
        statement = select(EntryRow.id, EntryRow.minhash).where(
            EntryRow.id.in_(chunk), EntryRow.minhash.is_not(None)
        )
        signatures.update({row[0]: row[1] for row in (await session.execute(statement)).all()})
    return signatures


async def load_stories(session: AsyncSession, story_ids: Iterable[int]) -> dict[int, StoryRow]:
    ids = sorted(set(story_ids))
    stories: dict[int, StoryRow] = {}
    for chunk in _chunks(ids):
        for row in (await session.execute(select(StoryRow).where(StoryRow.id.in_(chunk)))).scalars():
            stories[row.id] = row
    return stories


@dataclass(frozen=True, slots=True)
class StoryMember:
    """An entry of a candidate story, as the same-facts comparison needs it."""

    story_id: int
    title: str
    summary: str
    content: str
    figures: list[Any]
    published_at: datetime | None
    first_seen_at: datetime
    entry_id: int
    link: str | None
    guid: str | None
    language: str | None
    topics: list[Any]


async def load_story_members(
    session: AsyncSession, story_ids: Iterable[int], limit: int = 5000
) -> list[StoryMember]:
    """The entries of these stories (newest first, at most `limit` in all)."""
    ids = sorted(set(story_ids))
    members: list[StoryMember] = []
    for chunk in _chunks(ids):
        statement = (
            select(
                EntryRow.story_id,
                EntryRow.title,
                func.substr(EntryRow.summary, 1, _LEAD_CHARS),
                func.substr(EntryRow.content, 1, _LEAD_CHARS),
                EntryRow.figures,
                EntryRow.published_at,
                EntryRow.first_seen_at,
                EntryRow.id,
                EntryRow.link,
                EntryRow.guid,
                EntryRow.language,
                EntryRow.topics,
            )
            .where(EntryRow.story_id.in_(chunk))
            .order_by(EntryRow.id.desc())
            .limit(limit)
        )
        members.extend(StoryMember(*row) for row in (await session.execute(statement)).all())
    return members


async def entry_keys(session: AsyncSession, entry_ids: Iterable[int]) -> dict[int, str]:
    """entry row id -> Entry.entry_id, for naming a story's first entry."""
    ids = sorted(set(entry_ids))
    keys: dict[int, str] = {}
    for chunk in _chunks(ids):
        statement = select(EntryRow.id, EntryRow.entry_key).where(EntryRow.id.in_(chunk))
        keys.update({row[0]: row[1] for row in (await session.execute(statement)).all()})
    return keys


# Narrow integer rows written by the thousand (about 20 band rows per entry): as driver SQL with positional
# rows, SQLAlchemy's per-row parameter processing, which cost more than SQLite's own work, is skipped.
_ADD_BANDS = f"INSERT INTO {_BANDS} (band_key, story_id, entry_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
_ASSIGN_STORIES = f"UPDATE {_ENTRIES} SET story_id = ? WHERE id = ?"


async def _execute_many(session: AsyncSession, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run `sql`, written with `?` placeholders, once per row, in the session's transaction."""
    connection = await session.connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")  # psycopg: positional rows take %s
    await connection.exec_driver_sql(sql, list(rows))


async def add_band_rows(session: AsyncSession, rows: Sequence[tuple[int, int, int]]) -> None:
    """Store (band_key, story_id, entry_id) rows; a row already stored is skipped."""
    if rows:
        await _execute_many(session, _ADD_BANDS, rows)


_STORY_COLUMNS = [column.key for column in StoryRow.__table__.columns if column.key != "id"]


@dataclass(slots=True)
class NewStoryRow:
    """A story started by the current batch, until `insert_stories` stores it: the columns of `StoryRow` as
    plain attributes. An ORM instance would pay attribute instrumentation on every field of a row that is
    inserted in bulk and never flushed through the session."""

    title: str
    link: str | None
    source: str
    summary: str
    language: str | None
    relevant: bool
    topics: list[Any]
    matched: list[Any]
    figures: list[Any]
    revision: int
    source_count: int
    first_entry_id: int | None
    first_seen_at: datetime
    published_at: datetime | None
    updated_at: datetime
    id: int | None = None


async def insert_stories(session: AsyncSession, stories: Sequence[NewStoryRow]) -> None:
    """INSERT new stories in one executemany statement and set their ids.

    The rows are plain (not added to the session): the unit of work would insert them one by one. Ids come
    back with each story's first entry, which is unique per story, so no ordering guarantee is needed.
    """
    if not stories:
        return
    table = StoryRow.__table__
    statement = insert(table).returning(table.c.id, table.c.first_entry_id)
    values = [{key: getattr(story, key) for key in _STORY_COLUMNS} for story in stories]
    ids = {first: story_id for story_id, first in (await session.execute(statement, values)).all()}
    for story in stories:
        story.id = ids[story.first_entry_id]


async def assign_entries(session: AsyncSession, assignments: Sequence[tuple[int, int]]) -> None:
    """Set entries' story_id: (story_id, entry row id) pairs, one executemany UPDATE by primary key."""
    if assignments:
        await _execute_many(session, _ASSIGN_STORIES, assignments)


async def record_matches(session: AsyncSession, matches: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Why each entry joined its story: (entry row id, `StoryMatch.as_json()`) pairs."""
    if matches:
        rows = [{"id": entry_id, "match": match} for entry_id, match in matches]
        await session.execute(update(EntryRow), rows)


async def refresh_entries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk UPDATE of entries by primary key with re-computed columns (after an article fetch)."""
    if rows:
        await session.execute(update(EntryRow), list(rows))


async def add_revisions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(StoryRevisionRow.__table__), list(rows))


async def latest_revision_times(session: AsyncSession, story_ids: Sequence[int]) -> dict[int, datetime]:
    """For revised stories: when the entry behind their latest revision was published (else first seen)."""
    times: dict[int, datetime] = {}
    for chunk in _chunks(list(story_ids)):
        query = (
            select(StoryRevisionRow.story_id, EntryRow.published_at, EntryRow.first_seen_at)
            .join(EntryRow, EntryRow.id == StoryRevisionRow.entry_id)
            .where(StoryRevisionRow.story_id.in_(chunk))
            .order_by(StoryRevisionRow.story_id, StoryRevisionRow.revision)
        )
        for story_id, published, first_seen in await session.execute(query):
            times[story_id] = published or first_seen  # ordered by revision: the last one wins
    return times
