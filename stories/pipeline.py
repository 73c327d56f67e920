"""The story pipeline: from a feed's parsed entries to stored entries, stories, revisions and LSH bands.

Per entry, in order: clean-up, language, beat detection, key figures, summary, fingerprint (`stories.prepare`:
all CPU, no I/O); then, per batch, a handful of indexed queries find the candidate stories and each entry's
story is decided (`stories.batch`, judged by `stories.cluster`); this module stores what was decided. The
pipeline flushes and never commits: the caller's transaction also writes the outbox rows for the events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import repeat
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import stories_repo
from storage.models import FeedRow
from storage.story_records import change_to_json, figure_to_json, figures_from_json, story_from_row
from stories import cluster
from stories.batch import Batch, Decision, find_candidates, load_story_states
from stories.figure_match import figure_changes, merge_figures
from stories.fingerprint import minhash_bytes
from stories.model import Entry, NearMatch, StoryEvent, StoryEventKind
from stories.prepare import Detector, LanguageDetector, Prepared, prepare_entry, source_hash

if TYPE_CHECKING:
    from config.settings import Settings
    from stories.article import ArticleFetcher
    from stories.topics import TopicCatalog

# A feed item with no full text and a description this short is a teaser: the article page has the story.
TEASER_MAX_CHARS = 400


def _edited(entry: Entry, stored: stories_repo.KnownEntry) -> bool:
    """Whether a feed item already stored (in a story) now carries other text."""
    return (
        stored.story_id is not None
        and stored.source_hash is not None
        and stored.source_hash != source_hash(entry)
    )


def _default_detector() -> Detector:
    from stories.detect import detect

    return detect


def _default_language_detector() -> LanguageDetector:
    from stories.language import detect_language

    return detect_language


class StoryPipeline:
    """Runs the stages and the store writes for one feed poll.

    Args:
        catalog: the beat and its topics (`stories.topics.load_topics`).
        settings: FETCH_ARTICLES and the fetch limits used for article pages.
        detector, language_detector: override `stories.detect.detect` / `stories.language.detect_language`.
        article_fetcher: override the article fetcher (default: one built from settings when FETCH_ARTICLES).
        window: how far apart in time two entries of one story may be (exact copies excepted).
    """

    def __init__(
        self,
        catalog: TopicCatalog,
        settings: Settings,
        *,
        detector: Detector | None = None,
        language_detector: LanguageDetector | None = None,
        article_fetcher: ArticleFetcher | None = None,
        window: timedelta = cluster.MATCH_WINDOW,
    ) -> None:
        self._catalog = catalog
        self._settings = settings
        self._detect = detector or _default_detector()
        self._language = language_detector or _default_language_detector()
        self._window = window
        self._articles = article_fetcher
        if self._articles is None and settings.fetch_articles:
            from stories.article import ArticleFetcher

            self._articles = ArticleFetcher(settings)

    # --- CPU stages ------------------------------------------------------------------------------------

    def prepare(self, entry: Entry, feed_language: str | None, now: datetime) -> Prepared:
        """Clean-up → language → detection → figures → summary → fingerprint, for one entry."""
        return prepare_entry(
            entry, feed_language, now, catalog=self._catalog, detect=self._detect, language=self._language
        )

    # --- the batch ---------------------------------------------------------------------------------------

    async def process(
        self, session: AsyncSession, feed: FeedRow, entries: list[Entry], now: datetime, alerting: bool
    ) -> list[StoryEvent]:
        """Store the entries new for `feed` and fold each into a story; one event per new entry.

        `alerting` is False for a feed's backlog: everything is stored and clustered the same way, but no
        article pages are fetched for entries nobody will be alerted about.
        """
        # Most of a feed's items were stored by earlier polls: skip them before any CPU stage runs, unless
        # the outlet edited one in place (same guid, new text): that is a new revision of its story.
        known = await stories_repo.known_entries(session, feed.id, [entry.entry_id for entry in entries])
        unseen = [entry for entry in entries if entry.entry_id not in known]
        edited = [
            (entry, stored)
            for entry in entries
            if (stored := known.get(entry.entry_id)) is not None and _edited(entry, stored)
        ]
        prepared = self._unique([self.prepare(entry, feed.language, now) for entry in unseen])
        fresh: list[Prepared] = []
        inserted: dict[str, int] = {}
        if prepared:
            inserted = await stories_repo.insert_new_entries(
                session, [self._entry_values(item, feed.id, now) for item in prepared]
            )
            fresh = [item for item in prepared if item.entry.entry_id in inserted]
        if not fresh and not edited:
            return []
        refetched: set[str] = set()
        if alerting and self._articles is not None and fresh:
            refetched = await self._fetch_articles(session, fresh, feed.language, now)
        # From here to the commit, stories are read and written: one worker at a time (edits in place
        # included, which write to their stories too), and no network I/O.
        await stories_repo.lock_story_decisions(session)
        events = await self._revise_edited(session, edited, feed.language, now) if edited else []
        if not fresh:
            return events
        # Feeds list newest first; folding in publication order makes the first report the story's
        # first alert and a later, revised count (326 -> 411) its update, never the other way round.
        fresh.sort(key=lambda item: item.time)
        candidates = await find_candidates(session, fresh, self._window)
        states = await load_story_states(session, candidates, fresh, self._window)
        batch = Batch(session, candidates, states, self._window, now)
        decisions = [batch.decide(item, inserted[item.entry.entry_id]) for item in fresh]
        await stories_repo.insert_stories(session, batch.created)  # new stories get their ids
        for decision in decisions:
            decision.snapshot.story_id = decision.state.row.id
        await self._write(session, decisions, refetched, now)
        return events + [self._event(decision) for decision in decisions]

    async def _revise_edited(
        self,
        session: AsyncSession,
        edited: list[tuple[Entry, stories_repo.KnownEntry]],
        feed_language: str | None,
        now: datetime,
    ) -> list[StoryEvent]:
        """Entries an outlet edited in place: the stored row takes the new text, and when the figures of
        the entry's story changed (326 -> 411) the story gets a new revision and an UPDATE event; an edit
        that changes no figure (a typo, a new paragraph) yields nothing."""
        rows = await stories_repo.load_stories(
            session, [stored.story_id for _, stored in edited if stored.story_id is not None]
        )
        first_keys = await stories_repo.entry_keys(
            session, [row.first_entry_id for row in rows.values() if row.first_entry_id is not None]
        )
        refreshed: list[dict[str, Any]] = []
        bands: list[tuple[int, int, int]] = []
        revisions: list[dict[str, Any]] = []
        events: list[StoryEvent] = []
        for entry, stored in edited:
            item = self.prepare(entry, feed_language, now)
            refreshed.append(
                {
                    "id": stored.id,
                    "title": item.entry.title,
                    "summary": item.entry.summary,
                    "content": item.entry.content,
                    "text_hash": item.print.text_hash,
                    "source_hash": item.source_hash,
                    "minhash": minhash_bytes(item.print.signature),
                    "figures": [figure_to_json(figure) for figure in item.figures],
                    "relevant": item.detection.relevant,
                    "topics": list(item.detection.topics),
                    "matched": list(item.detection.matched),
                }
            )
            row = rows.get(stored.story_id) if stored.story_id is not None else None
            if row is None:
                continue
            keys = (*item.print.bands, *item.print.figure_keys, *item.name_keys)
            bands.extend(zip(dict.fromkeys(keys), repeat(row.id), repeat(stored.id)))
            if row.first_entry_id == stored.id:  # the story is told in this entry's words
                row.title, row.summary = item.entry.title, item.summary
            old = figures_from_json(row.figures)
            changes = figure_changes(old, item.figures)
            if not changes:
                continue
            merged = merge_figures(old, changes)
            row.figures = [figure_to_json(figure) for figure in merged]
            row.revision = (row.revision or 1) + 1
            row.updated_at = now
            revisions.append(
                {
                    "story_id": row.id,
                    "revision": row.revision,
                    "entry_id": stored.id,
                    "figures": row.figures,
                    "changes": [change_to_json(change) for change in changes],
                    "created_at": now,
                }
            )
            if not row.relevant:
                continue  # stored and searchable, never alerted
            first = first_keys.get(row.first_entry_id) if row.first_entry_id is not None else None
            events.append(
                StoryEvent(
                    kind=StoryEventKind.UPDATE,
                    entry=item.entry,
                    story=story_from_row(row, merged),
                    duplicate_of=first if first != entry.entry_id else None,
                    changes=changes,
                    detection=item.detection,
                )
            )
        await stories_repo.refresh_entries(session, refreshed)
        await stories_repo.add_band_rows(session, bands)
        await stories_repo.add_revisions(session, revisions)
        await session.flush()
        return events

    @staticmethod
    def _unique(prepared: list[Prepared]) -> list[Prepared]:
        seen: set[str] = set()
        unique = []
        for item in prepared:
            if item.entry.entry_id not in seen:
                seen.add(item.entry.entry_id)
                unique.append(item)
        return unique

    @staticmethod
    def _entry_values(item: Prepared, feed_id: int, now: datetime) -> dict[str, Any]:
        entry = item.entry
        return {
            "feed_id": feed_id,
            "entry_key": entry.entry_id,
            "guid": entry.guid,
            "link": entry.link,
            "title": entry.title,
            "summary": entry.summary,
            "content": entry.content,
            "published_at": entry.published,
            "first_seen_at": entry.first_seen or now,
            "language": entry.language,
            "author": entry.author,
            "categories": list(entry.categories),
            "text_hash": item.print.text_hash,
            "source_hash": item.source_hash,
            "story_id": None,
            "relevant": item.detection.relevant,
            "topics": list(item.detection.topics),
            "matched": list(item.detection.matched),
            "figures": [figure_to_json(figure) for figure in item.figures],
            "minhash": minhash_bytes(item.print.signature),
        }

    async def _fetch_articles(
        self, session: AsyncSession, fresh: list[Prepared], feed_language: str | None, now: datetime
    ) -> set[str]:
        assert self._articles is not None
        refetched: set[str] = set()
        for index, item in enumerate(fresh):
            entry = item.entry
            if not item.detection.relevant or not entry.link or entry.content:
                continue
            if len(entry.summary) > TEASER_MAX_CHARS:
                continue
            text = await self._articles.article_text(session, entry.link, now)
            if text and len(text) > len(entry.summary):
                fresh[index] = self.prepare(dataclasses.replace(entry, content=text), feed_language, now)
                refetched.add(entry.entry_id)
        return refetched

    # --- writing -----------------------------------------------------------------------------------------

    async def _write(
        self, session: AsyncSession, decisions: Sequence[Decision], refetched: set[str], now: datetime
    ) -> None:
        bands: list[tuple[int, int, int]] = []
        assignments: list[tuple[int, int]] = []
        matches: list[tuple[int, dict[str, Any]]] = []
        refreshed: list[dict[str, Any]] = []
        revisions: list[dict[str, Any]] = []
        for decision in decisions:
            story_id = decision.state.row.id
            item = decision.prepared
            assignments.append((story_id, decision.entry_row_id))
            if decision.match is not None:
                matches.append((decision.entry_row_id, decision.match.as_json()))
            if item.entry.entry_id in refetched:
                refreshed.append(
                    {
                        "id": decision.entry_row_id,
                        "content": item.entry.content,
                        "text_hash": item.print.text_hash,
                        "minhash": minhash_bytes(item.print.signature),
                        "figures": [figure_to_json(figure) for figure in item.figures],
                    }
                )
            entry_row_id = decision.entry_row_id
            # zip builds the (band, story, entry) rows in C: about 30 an entry
            bands.extend(zip(dict.fromkeys(decision.bands), repeat(story_id), repeat(entry_row_id)))
            if decision.match is None or decision.changes:
                revisions.append(
                    {
                        "story_id": story_id,
                        "revision": decision.snapshot.revision,
                        "entry_id": decision.entry_row_id,
                        "figures": [figure_to_json(figure) for figure in decision.snapshot.figures],
                        "changes": [change_to_json(change) for change in decision.changes],
                        "created_at": now,
                    }
                )
        await stories_repo.assign_entries(session, assignments)
        await stories_repo.record_matches(session, matches)
        await stories_repo.refresh_entries(session, refreshed)
        await stories_repo.add_band_rows(session, bands)
        await stories_repo.add_revisions(session, revisions)
        await session.flush()  # stored stories this batch changed (revision, figures, source count)

    @staticmethod
    def _event(decision: Decision) -> StoryEvent:
        state = decision.state
        first = state.first_entry_key
        duplicate_of = first if first is not None and first != decision.prepared.entry.entry_id else None
        return StoryEvent(
            kind=decision.kind,
            entry=decision.prepared.entry,
            story=decision.snapshot,
            duplicate_of=duplicate_of,
            changes=decision.changes,
            detection=decision.prepared.detection,
            match=decision.match,
            near_match=_near_match(decision),
        )


def _near_match(decision: Decision) -> NearMatch | None:
    """The story a new one came close to joining (`Decision.closest`), as its alert names it; read after the
    batch's stories are inserted, so one created by this batch has its id."""
    if decision.closest is None:
        return None
    state, score = decision.closest
    row = state.row
    if row.id is None:
        return None
    return NearMatch(row.id, row.title, row.source, score)
