"""The story pipeline: from a feed's parsed entries to stored entries, stories, revisions and LSH bands.

Per entry, in order: clean-up, language, beat detection, key figures, summary, fingerprint (all CPU, no I/O);
then, per batch, a handful of indexed queries find the candidate stories and `stories.cluster` decides. The
pipeline flushes and never commits: the caller's transaction also writes the outbox rows for the events.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from storage import stories_repo
from storage.models import FeedRow, StoryRow
from storage.stories_repo import NewStoryRow
from storage.story_records import change_to_json, figure_to_json, figures_from_json, story_from_row
from stories import cluster
from stories.cleanup import clean_article, clean_text
from stories.figure_match import figure_changes, merge_figures
from stories.figures import extract_figures
from stories.fingerprint import (
    Fingerprint,
    figure_value_key,
    fingerprint,
    minhash_bytes,
    minhash_from_bytes,
    names,
    similarity,
)
from stories.model import (
    Detection,
    Entry,
    FigureChange,
    KeyFigure,
    StoryCluster,
    StoryEvent,
    StoryEventKind,
)
from stories.summarize import summarize

if TYPE_CHECKING:
    from config.settings import Settings
    from stories.article import ArticleFetcher
    from stories.topics import TopicCatalog

Detector = Callable[[Entry, "TopicCatalog"], Detection]
LanguageDetector = Callable[..., "str | None"]

# The lead is what names and the summary come from; later paragraphs mention every actor in the conflict.
LEAD_CHARS = 600
# A feed item with no full text and a description this short is a teaser: the article page has the story.
TEASER_MAX_CHARS = 400
# Same-facts comparisons per entry: the stories sharing the most figures with it.
MAX_FACT_CANDIDATES = 12
MAX_MEMBERS_COMPARED = 8  # the story's latest entries: the first, its copies and its updates
# A guid shorter than this without a scheme ("1234") is unique only within its feed.
MIN_GLOBAL_GUID_LENGTH = 16


def _same_topic(topics: Sequence[str], story_topics: Sequence[str] | None) -> bool:
    """Whether an entry and a story share a sub-topic (the beat itself, listed first, is not one); entries
    with no sub-topic (off the beat) are not told apart this way."""
    mine, theirs = set(topics[1:]), set((story_topics or ())[1:])
    return not mine or not theirs or bool(mine & theirs)


def source_hash(entry: Entry) -> str:
    """Hash of an item's text as the feed gives it: a later poll compares it, before any clean-up runs, to see
    an edit in place (same guid, new text)."""
    text = "\x1f".join((entry.title, entry.summary, entry.content))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _edited(entry: Entry, stored: stories_repo.KnownEntry) -> bool:
    """Whether a feed item already stored (in a story) now carries other text."""
    return (
        stored.story_id is not None
        and stored.source_hash is not None
        and stored.source_hash != source_hash(entry)
    )


def _global_guid(guid: str | None) -> str | None:
    if guid and (":" in guid or "/" in guid or len(guid) >= MIN_GLOBAL_GUID_LENGTH):
        return guid
    return None


@dataclass(slots=True)
class Prepared:
    """An entry after the CPU stages: what storing and clustering need."""

    entry: Entry
    body: str
    detection: Detection
    figures: list[KeyFigure]
    summary: str
    print: Fingerprint
    time: datetime
    days: frozenset[int] = frozenset()  # days of the week the title and lead name
    name_keys: tuple[int, ...] = ()  # stored: the names on the entry's day (`cluster.name_keys`)
    name_lookup: tuple[int, ...] = ()  # looked up: the names on the days around it
    source_hash: str | None = None  # of the text as the feed gave it (`source_hash`)
    updating: bool = False  # the title or lead says a running count moved (`cluster.reports_update`)


@dataclass(slots=True)
class _StoryState:
    """A story touched by this batch: stored already, or created by an earlier entry of the batch."""

    row: StoryRow | NewStoryRow  # NewStoryRow: created by this batch, inserted once every entry is decided
    facts: cluster.StoryFacts  # the story as alerted: current figures, first entry's time
    first_entry_key: str | None
    created: bool = False
    # Each entry of the story: a new entry may tell the facts of any of them (the Spanish copy, the update).
    members: list[cluster.StoryFacts] = field(default_factory=list)
    pending_key: int = 0  # for stories created in this batch: their key in the batch's index until inserted
    # When the current figures were reported (the latest update's entry); None = the first entry's time.
    figures_time: datetime | None = None


@dataclass(slots=True)
class _Decision:
    prepared: Prepared
    entry_row_id: int
    state: _StoryState
    kind: StoryEventKind
    match: str | None  # None: the entry started the story
    snapshot: StoryCluster  # the story as this entry left it (revision, figures); id filled after flush
    changes: tuple[FigureChange, ...] = ()
    bands: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Candidates:
    """What the store returned for the whole batch, indexed for per-entry lookups."""

    by_link: dict[str, int] = field(default_factory=dict)
    by_guid: dict[str, int] = field(default_factory=dict)
    by_hash: dict[str, int] = field(default_factory=dict)
    band_entries: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # band -> (story, entry)
    figure_stories: dict[int, set[int]] = field(default_factory=dict)
    signatures: dict[int, np.ndarray] = field(default_factory=dict)  # entry row id -> MinHash signature


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
        title = clean_text(entry.title)
        summary_text = clean_article(entry.summary)
        content = clean_article(entry.content)
        body = content if len(content) > len(summary_text) else summary_text
        language = self._language(f"{title}\n{body}", hint=entry.language or feed_language)
        cleaned = dataclasses.replace(
            entry,
            title=title,
            summary=summary_text,
            content=content,
            language=language or entry.language or feed_language,
            first_seen=entry.first_seen or now,
        )
        detection = self._detect(cleaned, self._catalog)
        figures = extract_figures(body, cleaned.language, title=title)
        summary = summarize(body, title, clean=False)
        lead = body[:LEAD_CHARS]
        printed = fingerprint(title, body, lead, figures)
        time = cleaned.published or now
        return Prepared(
            entry=cleaned,
            body=body,
            detection=detection,
            figures=figures,
            summary=summary,
            print=printed,
            time=time,
            days=cluster.day_mentions(f"{title}\n{lead}"),
            # Only on-beat entries are found by names: off the beat, nobody is alerted about a missed copy.
            name_keys=cluster.name_keys(printed.names, time) if detection.relevant else (),
            name_lookup=(
                cluster.name_keys(printed.names, time, cluster.NAME_KEY_DAYS) if detection.relevant else ()
            ),
            source_hash=source_hash(entry),
            updating=cluster.reports_update(f"{title}\n{lead}"),
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
        candidates = await self._candidates(session, fresh)
        states = await self._load_states(session, candidates)
        batch = _Batch(session, candidates, states, self._window, now)
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
            bands.extend((band, row.id, stored.id) for band in dict.fromkeys(keys))
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

    async def _candidates(self, session: AsyncSession, fresh: list[Prepared]) -> _Candidates:
        found = _Candidates()
        links = [item.entry.link for item in fresh if item.entry.link]
        guids = [guid for item in fresh if (guid := _global_guid(item.entry.guid))]
        hashes = [item.print.text_hash for item in fresh]
        for hit in await stories_repo.find_exact_copies(session, links, guids, hashes):
            if hit.link:
                found.by_link.setdefault(hit.link, hit.story_id)
            if hit.guid:
                found.by_guid.setdefault(hit.guid, hit.story_id)
            if hit.text_hash:
                found.by_hash.setdefault(hit.text_hash, hit.story_id)
        bands = [band for item in fresh for band in item.print.bands]
        for band, story_id, entry_id in await stories_repo.find_band_hits(session, bands):
            found.band_entries.setdefault(band, []).append((story_id, entry_id))
        figure_keys = [key for item in fresh for key in item.print.figure_keys]
        if figure_keys:
            since = min(item.time for item in fresh) - self._window
            until = max(item.time for item in fresh) + self._window
            hits = await stories_repo.find_stories_by_figures(session, figure_keys, since, until)
            for key, story_id in hits:
                found.figure_stories.setdefault(key, set()).add(story_id)
        # Stories naming the same people and places on the same days: a translation with no figure in
        # common (or none at all) is found by them. Day-bucketed keys: the same indexed lookup.
        name_keys = [key for item in fresh for key in item.name_lookup]
        if name_keys:
            since = min(item.time for item in fresh) - self._window
            until = max(item.time for item in fresh) + self._window
            hits = await stories_repo.find_stories_by_figures(session, name_keys, since, until)
            for key, story_id in hits:
                found.figure_stories.setdefault(key, set()).add(story_id)
        entry_ids = {entry_id for hits in found.band_entries.values() for _, entry_id in hits}
        stored = await stories_repo.load_signatures(session, entry_ids)
        found.signatures = {entry_id: minhash_from_bytes(data) for entry_id, data in stored.items()}
        return found

    async def _load_states(self, session: AsyncSession, found: _Candidates) -> dict[int, _StoryState]:
        story_ids: set[int] = set(found.by_link.values()) | set(found.by_guid.values())
        story_ids |= set(found.by_hash.values())
        story_ids |= {story_id for hits in found.band_entries.values() for story_id, _ in hits}
        story_ids |= {story_id for ids in found.figure_stories.values() for story_id in ids}
        rows = await stories_repo.load_stories(session, story_ids)
        first_keys = await stories_repo.entry_keys(
            session, [row.first_entry_id for row in rows.values() if row.first_entry_id is not None]
        )
        states = {
            story_id: _StoryState(
                row=row,
                facts=cluster.StoryFacts(
                    figures=figures_from_json(row.figures),
                    names=names(f"{row.title}.\n{row.summary}"),
                    time=row.published_at or row.first_seen_at,
                    days=cluster.day_mentions(f"{row.title}\n{row.summary}"),
                ),
                first_entry_key=first_keys.get(row.first_entry_id) if row.first_entry_id else None,
            )
            for story_id, row in rows.items()
        }
        revised = [story_id for story_id, row in rows.items() if (row.revision or 1) > 1]
        for story_id, reported in (await stories_repo.latest_revision_times(session, revised)).items():
            states[story_id].figures_time = reported
        by_facts = {story_id for ids in found.figure_stories.values() for story_id in ids}
        for member in await stories_repo.load_story_members(session, by_facts):
            lead = member.content if len(member.content) > len(member.summary) else member.summary
            states[member.story_id].members.append(
                cluster.StoryFacts(
                    figures=figures_from_json(member.figures),
                    names=names(f"{member.title}.\n{lead[:LEAD_CHARS]}"),
                    time=member.published_at or member.first_seen_at,
                    days=cluster.day_mentions(f"{member.title}\n{lead[:LEAD_CHARS]}"),
                )
            )
        return states

    # --- writing -----------------------------------------------------------------------------------------

    async def _write(
        self, session: AsyncSession, decisions: Sequence[_Decision], refetched: set[str], now: datetime
    ) -> None:
        bands: list[tuple[int, int, int]] = []
        assignments: list[tuple[int, int]] = []
        refreshed: list[dict[str, Any]] = []
        revisions: list[dict[str, Any]] = []
        for decision in decisions:
            story_id = decision.state.row.id
            item = decision.prepared
            assignments.append((story_id, decision.entry_row_id))
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
            bands.extend((band, story_id, entry_row_id) for band in dict.fromkeys(decision.bands))
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
        await stories_repo.refresh_entries(session, refreshed)
        await stories_repo.add_band_rows(session, bands)
        await stories_repo.add_revisions(session, revisions)
        await session.flush()  # stored stories this batch changed (revision, figures, source count)

    @staticmethod
    def _event(decision: _Decision) -> StoryEvent:
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
        )


class _Batch:
    """Decides the story of each new entry of one batch, in order, against the store's candidates and the
    stories created by earlier entries of the same batch."""

    def __init__(
        self,
        session: AsyncSession,
        found: _Candidates,
        states: dict[int, _StoryState],
        window: timedelta,
        now: datetime,
    ) -> None:
        self._session = session
        self._found = found
        self._states = states
        self._window = window
        self._now = now
        self._local = _Candidates()
        self._pending: list[_StoryState] = []  # created in this batch; keyed -(index + 1) until inserted

    @property
    def created(self) -> list[NewStoryRow]:
        """Stories this batch started, to be inserted in one statement once every entry is decided."""
        return [state.row for state in self._pending]

    def _state(self, key: int) -> _StoryState | None:
        if key < 0:
            return self._pending[-key - 1]
        return self._states.get(key)

    def _exact(self, item: Prepared) -> _StoryState | None:
        entry = item.entry
        guid = _global_guid(entry.guid)
        for index in (self._found, self._local):
            for table, key in (
                (index.by_link, entry.link),
                (index.by_guid, guid),
                (index.by_hash, item.print.text_hash),
            ):
                story = table.get(key) if key else None
                if story is not None and (state := self._state(story)) is not None:
                    return state
        return None

    def _near(self, item: Prepared) -> _StoryState | None:
        best: tuple[float, _StoryState] | None = None
        compared: set[int] = set()  # an entry sharing several bands is compared once
        for index in (self._found, self._local):
            for band in item.print.bands:
                for story_id, entry_id in index.band_entries.get(band, ()):
                    if entry_id in compared:
                        continue
                    compared.add(entry_id)
                    state = self._state(story_id)
                    stored = index.signatures.get(entry_id)
                    if state is None or stored is None:
                        continue
                    if not cluster.within_window(item.time, state.facts.time, self._window):
                        continue
                    score = similarity(item.print.signature, stored)
                    if score >= cluster.NEAR_DUPLICATE_SIMILARITY and (best is None or score > best[0]):
                        best = (score, state)
        return best[1] if best is not None else None

    def _same_facts(self, item: Prepared) -> _StoryState | None:
        # Stories sharing the most figure keys first; only the best few are scored, so a common small
        # number ("2") shared by dozens of stories costs nothing.
        shared: dict[int, int] = {}
        for index in (self._found, self._local):
            for key in (*item.print.figure_keys, *item.name_lookup):
                for story_id in index.figure_stories.get(key, ()):
                    shared[story_id] = shared.get(story_id, 0) + 1
        ranked = sorted(shared, key=lambda story_id: -shared[story_id])[:MAX_FACT_CANDIDATES]
        best: tuple[float, _StoryState] | None = None
        mine = cluster.StoryFacts(tuple(item.figures), item.print.names, item.time, item.days, item.updating)
        for story_id in ranked:
            state = self._state(story_id)
            if state is None or not cluster.within_window(item.time, state.facts.time, self._window):
                continue
            same_topic = _same_topic(item.detection.topics, state.row.topics)
            score = max(
                cluster.score_facts(mine, member, same_topic=same_topic)
                for member in (state.members or [state.facts])[-MAX_MEMBERS_COMPARED:]
            )
            if score >= cluster.SAME_FACTS_SCORE and (best is None or score > best[0]):
                best = (score, state)
        return best[1] if best is not None else None

    def decide(self, item: Prepared, entry_row_id: int) -> _Decision:
        match = cluster.MatchKind.EXACT
        state = self._exact(item)
        if state is None:
            match, state = cluster.MatchKind.NEAR, self._near(item)
        if state is None:
            match, state = cluster.MatchKind.FACTS, self._same_facts(item)
        if (
            state is not None
            and match != cluster.MatchKind.EXACT
            and not cluster.may_update(item.time, state.facts.time, state.facts.figures, item.figures)
        ):
            state = None
        if state is None:
            decision = self._new_story(item, entry_row_id)
        else:
            decision = self._join(item, entry_row_id, state, match)
        if decision.match != cluster.MatchKind.EXACT:
            decision.bands = [*item.print.bands, *item.print.figure_keys, *item.name_keys]
        self._remember(item, decision)
        return decision

    def _new_story(self, item: Prepared, entry_row_id: int) -> _Decision:
        entry = item.entry
        detection = item.detection
        row = NewStoryRow(
            title=entry.title,
            link=entry.link,
            source=entry.feed_name,
            summary=item.summary,
            language=entry.language,
            relevant=detection.relevant,
            topics=list(detection.topics),
            matched=list(detection.matched),
            figures=[figure_to_json(figure) for figure in item.figures],
            revision=1,
            source_count=1,
            first_entry_id=entry_row_id,
            first_seen_at=entry.first_seen or self._now,
            published_at=entry.published,
            updated_at=self._now,
        )
        state = _StoryState(
            row=row,
            facts=cluster.StoryFacts(tuple(item.figures), item.print.names, item.time, item.days),
            first_entry_key=entry.entry_id,
            created=True,
            members=[cluster.StoryFacts(tuple(item.figures), item.print.names, item.time, item.days)],
            pending_key=-(len(self._pending) + 1),
        )
        self._pending.append(state)
        kind = StoryEventKind.NEW if detection.relevant else StoryEventKind.OFF_BEAT
        return _Decision(item, entry_row_id, state, kind, None, story_from_row(row, tuple(item.figures)))

    def _join(self, item: Prepared, entry_row_id: int, state: _StoryState, match: str) -> _Decision:
        row = state.row
        detection = item.detection
        row.source_count = (row.source_count or 1) + 1
        state.facts.names = state.facts.names | item.print.names
        state.members.append(cluster.StoryFacts(tuple(item.figures), item.print.names, item.time, item.days))
        changes: tuple[FigureChange, ...] = ()
        # A copy older than the figures the story now shows (a late translation of the first report) is
        # not an update: it would turn 411 back into 326.
        if cluster.is_later(item.time, state.figures_time or state.facts.time):
            changes = figure_changes(state.facts.figures, item.figures)
        if changes and len(state.members) > 1:
            # A value an earlier entry of the story already stated is a copy of that report arriving late
            # (a translation of the first count after the update), not a revision back to it.
            stated = {figure_value_key(f) for member in state.members[:-1] for f in member.figures}
            changes = tuple(c for c in changes if c.new is None or figure_value_key(c.new) not in stated)
        if changes:
            state.figures_time = item.time
            merged = merge_figures(state.facts.figures, changes)
            state.facts.figures = merged
            row.figures = [figure_to_json(figure) for figure in merged]
            row.revision = (row.revision or 1) + 1
            row.updated_at = self._now
        if detection.relevant and not row.relevant:
            # The first on-beat entry of a story stored as off-beat: that is the story's first alert.
            row.relevant = True
            row.topics = list(detection.topics)
            row.matched = list(detection.matched)
            row.updated_at = self._now
            kind = StoryEventKind.NEW
        elif not row.relevant:
            kind = StoryEventKind.OFF_BEAT
        elif changes:
            kind = StoryEventKind.UPDATE
        else:
            kind = StoryEventKind.DUPLICATE
        return _Decision(
            item, entry_row_id, state, kind, match, story_from_row(row, state.facts.figures), changes
        )

    def _remember(self, item: Prepared, decision: _Decision) -> None:
        """Index this entry so later entries of the same batch find its story."""
        state = decision.state
        key = state.row.id if state.row.id is not None else state.pending_key
        local = self._local
        entry = item.entry
        if entry.link:
            local.by_link.setdefault(entry.link, key)
        guid = _global_guid(entry.guid)
        if guid:
            local.by_guid.setdefault(guid, key)
        local.by_hash.setdefault(item.print.text_hash, key)
        figure_keys = {*item.print.figure_keys, *item.name_keys}
        for band in decision.bands:
            if band in figure_keys:
                local.figure_stories.setdefault(band, set()).add(key)
            else:
                local.band_entries.setdefault(band, []).append((key, decision.entry_row_id))
        local.signatures[decision.entry_row_id] = item.print.signature
