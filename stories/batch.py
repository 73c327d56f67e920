"""Deciding the story of each new entry of one feed poll: the store's candidates for the whole batch (exact
copies, LSH bands, figure keys, and day-bucketed keys of names, rare title words and agency guids), then,
entry by entry in publication order, an exact copy, a near copy, or the same-story model's verdict on the
candidates' members (`stories.grouping`) joins a story, or the entry starts one.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import TypeVar

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from storage import stories_repo
from storage.models import StoryRow
from storage.stories_repo import NewStoryRow
from storage.story_records import figure_to_json, figures_from_json, story_from_row
from stories import cluster
from stories.figure_match import figure_changes, merge_figures
from stories.fingerprint import figure_value_key, minhash_from_bytes, names, similarity
from stories.grouping.features import StoryView, agency_of, compare, guid_base, make_view
from stories.grouping.model import SameStoryModel, load_model
from stories.grouping.terms import cosine
from stories.model import FigureChange, StoryCluster, StoryEventKind, StoryMatch
from stories.prepare import LEAD_CHARS, Prepared, story_view

# Model comparisons per entry: the stories sharing the most lookup keys (figures, names, words) with it.
MAX_FACT_CANDIDATES = 3
MAX_MEMBERS_COMPARED = 3  # the first report and the two latest entries (a copy, the update)
# An entry that starts its own story names the story it came closest to joining when the model gave that
# story's best member this much (`NearMatch`). On dev, the pairs the model was asked about that scored 0.8-0.9
# were one story 85% of the time (933 pairs, out-of-fold, 12,490 entries), 0.7-0.8 77%: at 0.8 the alert's
# "possibly the same story" is right far more often than not. With the threshold at 0.9 and no story
# agreement (MODEL_CARD.md), the line comes where the best member scored 0.8-0.9; with an agreement, also
# where it reached the threshold and the story's other reports did not agree. A refit may put the threshold
# under the bar: the bar then follows it down (`near_match_bar`), since a member at the threshold is one the
# model itself would join.
NEAR_MATCH_BAR = 0.8
# A pair whose words overlap less than this is not compared by the model: a fifth of dev's candidate pairs
# (2,084 of 10,693), of which the shipped model puts 4 at the threshold, all one story. At 0.1 it skipped
# 1,626 more, 48 of them one story and sure (most of them translations: their words meet only through the
# bridge), and every split's F1 was 0.016 lower.
MIN_TEXT_COSINE = 0.05
Member = TypeVar("Member")  # a story's member as the caller holds it (a view, an entry, a replay position)
Story = TypeVar("Story")  # a candidate story as the caller holds it
# Stored members seen as the model sees them, kept across batches: the same candidate stories come back
# poll after poll. Keyed by entry row id and the text it was made from (an edit in place makes a new key).
MEMBER_VIEWS_KEPT = 20_000
_member_views: OrderedDict[tuple[int, str, str], StoryView] = OrderedDict()
# A guid shorter than this without a scheme ("1234") is unique only within its feed.
MIN_GLOBAL_GUID_LENGTH = 16


def global_guid(guid: str | None) -> str | None:
    if guid and (":" in guid or "/" in guid or len(guid) >= MIN_GLOBAL_GUID_LENGTH):
        return guid
    return None


@dataclass(slots=True)
class StoryState:
    """A story touched by this batch: stored already, or created by an earlier entry of the batch."""

    row: StoryRow | NewStoryRow  # NewStoryRow: created by this batch, inserted once every entry is decided
    facts: cluster.StoryFacts  # the story as alerted: current figures, first entry's time
    first_entry_key: str | None
    created: bool = False
    # Each entry of the story: a new entry may tell the facts of any of them (the Spanish copy, the update).
    # An entry of this batch stays `Prepared` until a later entry compares with it (`member_view`).
    members: list[StoryView | Prepared] = field(default_factory=list)
    pending_key: int = 0  # for stories created in this batch: their key in the batch's index until inserted
    # When the current figures were reported (the latest update's entry); None = the first entry's time.
    figures_time: datetime | None = None


def member_view(member: StoryView | Prepared) -> StoryView:
    return story_view(member) if isinstance(member, Prepared) else member


def compared_members(members: Sequence[Member]) -> Sequence[Member]:
    """The members of a story an entry is compared with: the first report and the latest ones (a translation
    of the first, a copy of the update). The training replay compares the same ones."""
    if len(members) <= MAX_MEMBERS_COMPARED:
        return members
    return [members[0], *members[-(MAX_MEMBERS_COMPARED - 1) :]]


def best_story(
    scored: Iterable[tuple[Story, Sequence[float]]], threshold: float, agreement: float
) -> tuple[Story, float, float] | None:
    """The story an entry joins, given each candidate story with the probabilities of its compared members
    (a member the model was not asked about counts 0): the one whose best member scores highest, if that
    reaches the threshold and the story's mean reaches the agreement. (story, best, mean), or None. Only the
    story matched best is asked to agree: an entry matching one member of a story of the same running event,
    and not the others, starts its own story instead of chaining two. The training replay decides the same
    way."""
    best: tuple[Story, float, float] | None = None
    for story, probabilities in scored:
        top = max(probabilities, default=0.0)
        if best is None or top > best[1]:
            best = (story, top, sum(probabilities) / len(probabilities) if probabilities else 0.0)
    if best is None or best[1] < threshold or best[2] < agreement:
        return None
    return best


def near_match_bar(threshold: float) -> float:
    """The probability an entry's best member of an on-beat story must reach for the entry's new story to name
    it (`NEAR_MATCH_BAR`, or the model's threshold when a refit put it lower)."""
    return min(NEAR_MATCH_BAR, threshold)


def item_of(member: StoryView | Prepared) -> tuple[str | None, str | None]:
    """(guid without its version suffix, site): what an agency's versions of one item share. Read from the
    entry itself for an entry of this batch, so no view is built for it."""
    if isinstance(member, Prepared):
        return guid_base(member.entry.guid), agency_of(member.entry.link)
    return member.guid_base, member.agency


@dataclass(slots=True)
class Decision:
    prepared: Prepared
    entry_row_id: int
    state: StoryState
    kind: StoryEventKind
    match: StoryMatch | None  # None: the entry started the story
    snapshot: StoryCluster  # the story as this entry left it (revision, figures); id filled after flush
    changes: tuple[FigureChange, ...] = ()
    bands: list[int] = field(default_factory=list)
    closest: tuple[StoryState, float] | None = None  # a new story: the on-beat story it came close to joining


@dataclass(slots=True)
class Candidates:
    """What the store returned for the whole batch, indexed for per-entry lookups."""

    by_link: dict[str, int] = field(default_factory=dict)
    by_guid: dict[str, int] = field(default_factory=dict)
    by_hash: dict[str, int] = field(default_factory=dict)
    band_entries: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # band -> (story, entry)
    figure_stories: dict[int, set[int]] = field(default_factory=dict)
    story_times: dict[int, datetime] = field(default_factory=dict)  # story -> its time, for the window
    signatures: dict[int, np.ndarray] = field(default_factory=dict)  # entry row id -> MinHash signature


async def find_candidates(session: AsyncSession, fresh: list[Prepared], window: timedelta) -> Candidates:
    """What the store holds that the batch's entries may belong to: a handful of indexed queries for the whole
    batch, never a scan."""
    found = Candidates()
    links = [item.entry.link for item in fresh if item.entry.link]
    guids = [guid for item in fresh if (guid := global_guid(item.entry.guid))]
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
    # Stories stating the same figures, then stories naming the same people and places on the same days: a
    # translation with no figure in common (or none at all) is found by them. Day-bucketed keys: the same
    # indexed lookup. Asked once per stretch of the batch's days no longer than the window (one stretch for a
    # usual poll): the lookup's row limit, there for a common figure ("2") shared by many stories, then
    # bounds the stories of those days, instead of keeping only the newest of a backlog's weeks.
    for stretch in time_stretches(fresh, window):
        since = stretch[0].time - window
        until = stretch[-1].time + window
        for keys in (
            [key for item in stretch for key in item.print.figure_keys],
            [key for item in stretch for key in item.name_lookup],
        ):
            if keys:
                hits = await stories_repo.find_stories_by_figures(session, keys, since, until)
                for key, story_id, told in hits:
                    found.figure_stories.setdefault(key, set()).add(story_id)
                    found.story_times[story_id] = told
    entry_ids = {entry_id for hits in found.band_entries.values() for _, entry_id in hits}
    stored = await stories_repo.load_signatures(session, entry_ids)
    found.signatures = {entry_id: minhash_from_bytes(data) for entry_id, data in stored.items()}
    return found


def time_stretches(fresh: list[Prepared], window: timedelta) -> list[list[Prepared]]:
    """The batch's entries in time order, cut into stretches each spanning no more than `window`."""
    stretches: list[list[Prepared]] = []
    for item in sorted(fresh, key=lambda entry: entry.time):
        if stretches and item.time - stretches[-1][0].time <= window:
            stretches[-1].append(item)
        else:
            stretches.append([item])
    return stretches


def ranked_stories(item: Prepared, indexes: tuple[Candidates, ...], window: timedelta) -> list[int]:
    """The `MAX_FACT_CANDIDATES` stories of these indexes within the entry's matching `window` sharing the
    most lookup keys (figures, names, words) with it; ties keep the order in which the stories were first
    counted, as a stable sort would. Stories outside the window are left out before the best are taken: a
    batch's lookups span all of its entries' days (a backlog, an archive replayed), and a story of another
    week sharing a common figure ("2", "20") must not take the place of the story the entry belongs to."""
    shared: Counter[int] = Counter()  # counted in C: a place named by dozens of stories costs little
    for index in indexes:
        for key in (*item.print.figure_keys, *item.name_lookup):
            stories = index.figure_stories.get(key)
            if stories:
                shared.update(stories)
    moment = item.time

    def in_window(story_id: int) -> bool:
        told = next((index.story_times[story_id] for index in indexes if story_id in index.story_times), None)
        return told is None or abs(moment - told) <= window

    best = [story_id for story_id, _ in shared.most_common(MAX_FACT_CANDIDATES)]
    if all(map(in_window, best)):  # a usual poll: its lookups found only stories of its own days
        return best
    ranked = (story_id for story_id, _ in shared.most_common() if in_window(story_id))
    return list(islice(ranked, MAX_FACT_CANDIDATES))


def compared_stories(found: Candidates, fresh: list[Prepared], window: timedelta) -> set[int]:
    """The stored stories some entry of the batch may compare with: each entry's `MAX_FACT_CANDIDATES` stored
    stories within its window sharing the most lookup keys (a stored story outside them is outside
    `Batch._same_story`'s ranking too: stories the batch creates only push it down), and every story holding
    one of its agency guids."""
    wanted: set[int] = set()
    for item in fresh:
        wanted.update(ranked_stories(item, (found,), window))
        for key in item.guid_lookup:
            wanted.update(found.figure_stories.get(key, ()))
    return wanted


async def load_story_states(
    session: AsyncSession, found: Candidates, fresh: list[Prepared], window: timedelta
) -> dict[int, StoryState]:
    """The candidate stories, with what matching compares: their facts and their members' facts."""
    story_ids: set[int] = set(found.by_link.values()) | set(found.by_guid.values())
    story_ids |= set(found.by_hash.values())
    story_ids |= {story_id for hits in found.band_entries.values() for story_id, _ in hits}
    # A copy's story gets this batch's entries in its index too, so it may rise into another entry's
    # candidates: its members are loaded if the store found it by a key as well.
    keyed = {story_id for ids in found.figure_stories.values() for story_id in ids}
    by_facts = compared_stories(found, fresh, window) | (story_ids & keyed)
    story_ids |= by_facts
    rows = await stories_repo.load_stories(session, story_ids)
    first_keys = await stories_repo.entry_keys(
        session, [row.first_entry_id for row in rows.values() if row.first_entry_id is not None]
    )
    states = {
        story_id: StoryState(
            row=row,
            facts=cluster.StoryFacts(figures_from_json(row.figures), row.published_at or row.first_seen_at),
            first_entry_key=first_keys.get(row.first_entry_id) if row.first_entry_id else None,
        )
        for story_id, row in rows.items()
    }
    revised = [story_id for story_id, row in rows.items() if (row.revision or 1) > 1]
    for story_id, reported in (await stories_repo.latest_revision_times(session, revised)).items():
        states[story_id].figures_time = reported
    for member in await stories_repo.load_story_members(session, by_facts):
        states[member.story_id].members.append(_member_view(member))
    for state in states.values():
        state.members.reverse()  # loaded newest first; compared oldest (the first report) first
    return states


def _member_view(member: stories_repo.StoryMember) -> StoryView:
    lead = (member.content if len(member.content) > len(member.summary) else member.summary)[:LEAD_CHARS]
    key = (member.entry_id, member.title, lead)
    view = _member_views.get(key)
    if view is not None:
        _member_views.move_to_end(key)
        return view
    days, updating = cluster.lead_signals(f"{member.title}\n{lead}")
    view = make_view(
        title=member.title,
        lead=lead,
        language=member.language,
        time=member.published_at or member.first_seen_at,
        link=member.link,
        guid=member.guid,
        names=names(f"{member.title}.\n{lead}"),
        figures=figures_from_json(member.figures),
        days=days,
        updating=updating,
        topics=member.topics,
    )
    _keep_view(key, view)
    return view


def _keep_view(key: tuple[int, str, str], view: StoryView) -> None:
    _member_views[key] = view
    if len(_member_views) > MEMBER_VIEWS_KEPT:
        _member_views.popitem(last=False)


class Batch:
    """Decides the story of each new entry of one batch, in order, against the store's candidates and the
    stories created by earlier entries of the same batch."""

    def __init__(
        self,
        session: AsyncSession,
        found: Candidates,
        states: dict[int, StoryState],
        window: timedelta,
        now: datetime,
    ) -> None:
        self._session = session
        self._found = found
        self._states = states
        self._window = window
        self._now = now
        self._local = Candidates()
        self._pending: list[StoryState] = []  # created in this batch; keyed -(index + 1) until inserted
        self._model: SameStoryModel = load_model()

    @property
    def created(self) -> list[NewStoryRow]:
        """Stories this batch started, to be inserted in one statement once every entry is decided."""
        return [state.row for state in self._pending]

    def _state(self, key: int) -> StoryState | None:
        if key < 0:
            return self._pending[-key - 1]
        return self._states.get(key)

    def _exact(self, item: Prepared) -> tuple[StoryState, StoryMatch] | None:
        entry = item.entry
        guid = global_guid(entry.guid)
        for index in (self._found, self._local):
            for table, key, reason in (
                (index.by_link, entry.link, "same link"),
                (index.by_guid, guid, "same guid"),
                (index.by_hash, item.print.text_hash, "same text"),
            ):
                story = table.get(key) if key else None
                if story is not None and (state := self._state(story)) is not None:
                    return state, StoryMatch(cluster.MatchKind.EXACT, 1.0, (reason,))
        return None

    def _near(self, item: Prepared) -> tuple[StoryState, StoryMatch] | None:
        best: tuple[float, StoryState] | None = None
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
        if best is None:
            return None
        evidence = (f"near copy: {best[0]:.2f} of the text's word sequences alike",)
        return best[1], StoryMatch(cluster.MatchKind.NEAR, best[0], evidence)

    def _next_version(self, item: Prepared) -> tuple[StoryState, StoryMatch] | None:
        """The agency's own next version of an item (guid ":2", "?v=2") joins the item's story: certain,
        like a copy. The same site too: a short guid ("12345678") may recur at another outlet."""
        if not item.guid_lookup:
            return None
        mine = item_of(item)
        for index in (self._found, self._local):
            for key in item.guid_lookup:
                for story_id in index.figure_stories.get(key, ()):
                    state = self._state(story_id)
                    if state is None or not cluster.within_window(item.time, state.facts.time, self._window):
                        continue
                    if any(item_of(member) == mine for member in state.members):
                        evidence = ("same agency guid (another version)",)
                        return state, StoryMatch(cluster.MatchKind.EXACT, 1.0, evidence)
        return None

    def _same_story(
        self, item: Prepared
    ) -> tuple[tuple[StoryState, StoryMatch] | None, tuple[StoryState, float] | None]:
        """The story the model joins the entry to, with why; else the on-beat story it came closest to, when
        the model's best probability for it reaches `NEAR_MATCH_BAR` (`NearMatch`)."""
        # Stories sharing the most lookup keys first; only the best few are compared, so a common small
        # number ("2") or word shared by dozens of stories costs nothing.
        ranked = ranked_stories(item, (self._found, self._local), self._window)
        # (the story and its member matched best, the compared members' probabilities)
        scored: list[tuple[tuple[StoryState, StoryView], list[float]]] = []
        mine: StoryView | None = None  # worked out at the first comparison: most entries have none
        model = self._model
        for story_id in ranked:
            state = self._state(story_id)
            if state is None or not state.members:
                continue
            if not cluster.within_window(item.time, state.facts.time, self._window):
                continue
            compared = compared_members(state.members)
            top: tuple[float, StoryView] | None = None
            # a member the model is not asked about (few words in common, ruled out) counts 0
            probabilities = [0.0] * len(compared)
            for index, member in enumerate(compared):
                other = member_view(member)
                mine = mine or story_view(item)
                overlap = cosine(mine.text_vector, other.text_vector)
                if overlap < MIN_TEXT_COSINE:
                    continue
                pair = compare(mine, other, text_cosine=overlap, stop_if_ruled_out=True)
                if pair.ruled_out is not None:
                    continue
                probability = model.probability(pair.values)
                probabilities[index] = probability
                if top is None or probability > top[0]:
                    top = (probability, other)
            if top is not None:
                scored.append(((state, top[1]), probabilities))
        best = best_story(scored, model.threshold, model.story_agreement)
        if best is None or mine is None:
            # The on-beat story matched best, asked only to reach the lower bar: `best_story`'s own choice.
            on_beat = (candidate for candidate in scored if candidate[0][0].row.relevant)
            closest = best_story(on_beat, near_match_bar(model.threshold), 0.0)
            return None, ((closest[0][0], closest[1]) if closest is not None else None)
        (state, other), probability, agreement = best
        evidence = model.evidence(compare(mine, other, explain=True))
        if len(state.members) > 1:
            evidence.append(f"agrees with the story's reports at {agreement:.2f}")
        return (state, StoryMatch(cluster.MatchKind.MODEL, probability, tuple(evidence))), None

    def decide(self, item: Prepared, entry_row_id: int) -> Decision:
        found = self._exact(item) or self._next_version(item) or self._near(item)
        closest = None
        if found is None:
            found, closest = self._same_story(item)
        if (
            found is not None
            and found[1].kind != cluster.MatchKind.EXACT
            and not cluster.may_update(item.time, found[0].facts.time, found[0].facts.figures, item.figures)
        ):
            found = None
        if found is None:
            decision = self._new_story(item, entry_row_id)
            decision.closest = closest
        else:
            decision = self._join(item, entry_row_id, found[0], found[1])
        if decision.match is None or decision.match.kind != cluster.MatchKind.EXACT:
            decision.bands = [*item.print.bands, *item.print.figure_keys, *item.name_keys]
        self._remember(item, decision)
        return decision

    def _new_story(self, item: Prepared, entry_row_id: int) -> Decision:
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
        state = StoryState(
            row=row,
            facts=cluster.StoryFacts(tuple(item.figures), item.time),
            first_entry_key=entry.entry_id,
            created=True,
            members=[item],
            pending_key=-(len(self._pending) + 1),
        )
        self._pending.append(state)
        kind = StoryEventKind.NEW if detection.relevant else StoryEventKind.OFF_BEAT
        return Decision(item, entry_row_id, state, kind, None, story_from_row(row, tuple(item.figures)))

    def _join(self, item: Prepared, entry_row_id: int, state: StoryState, match: StoryMatch) -> Decision:
        row = state.row
        detection = item.detection
        row.source_count = (row.source_count or 1) + 1
        state.members.append(item)
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
        return Decision(
            item, entry_row_id, state, kind, match, story_from_row(row, state.facts.figures), changes
        )

    def _remember(self, item: Prepared, decision: Decision) -> None:
        """Index this entry so later entries of the same batch find its story, and keep its view for the
        polls that will load it as a member of its story."""
        if item.view is not None:
            _keep_view((decision.entry_row_id, item.entry.title, item.body[:LEAD_CHARS]), item.view)
        state = decision.state
        key = state.row.id if state.row.id is not None else state.pending_key
        local = self._local
        entry = item.entry
        if entry.link:
            local.by_link.setdefault(entry.link, key)
        guid = global_guid(entry.guid)
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
        local.story_times.setdefault(key, state.facts.time)
