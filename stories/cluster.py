"""Which story an entry belongs to. Pure decisions: the store finds the candidates
(`storage.stories_repo`), this module judges them; comparing two figures is `stories.figure_match`'s job.

An entry joins a story when it is
- an exact copy: same canonical link, same guid, or the same normalised text;
- a near copy: MinHash similarity of the shingled text of at least `NEAR_DUPLICATE_SIMILARITY`, in the window;
- the same facts: within the window, a score over shared (or revised, or vaguer) figures weighted by how
  distinctive they are and whether they count the same thing, shared names (accents and case folded; the
  beat's two countries excluded), the day of the week both name, closeness in time, and for an entry with
  no figures to compare, a shared sub-topic (`score_facts`). This is how a Spanish version of an English wire
  story, a rewrite by another outlet or an update with a new count finds the original; candidates come from
  indexed figure keys and day-bucketed name keys (`name_keys`), never a scan.
Two stories on the same topic share a background figure ("armed forces of 365,000"), not most of their
figures, and a round count at the same places on another day is another event, so they stay apart; so is the
next edition of a daily report (every count moved, another day named, nothing saying a count rose).

An entry with revised figures joins as an update only within `UPDATE_WINDOW` of the story (`may_update`); a
follow-up whose lead says its headline count moved ("has risen to", "ya suman": `lead_signals`, the cues in
`stories/concepts.toml`) joins on that revised count even when it shares no other figure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from stories.figure_match import (
    BACKGROUND_NAMES,
    REVISION_RATIO,
    UPDATE_CUES,
    FigureFacts,
    agrees,
    comparable,
    different_things,
    figure_changes,
    figure_facts,
    figure_weight,
    revisions,
    same_thing,
    same_words,
)
from stories.model import KeyFigure
from stories.numerals import fold
from stories.topics import fold_words

NEAR_DUPLICATE_SIMILARITY = 0.5
MATCH_WINDOW = timedelta(days=4)
UPDATE_WINDOW = timedelta(hours=72)
MIN_SHARED_FIGURE_RATIO = 0.5
# Weights of the same-facts evidence (see score_facts). The threshold needs, e.g., two distinctive figures and
# a shared name, or one distinctive figure, three names and publication within hours; small counts ("4
# soldiers") weigh half, so a pair of them also needs names and timing.
SAME_FACTS_SCORE = 2.5
# A shared figure that counts the same thing on both sides (by stems or concepts): this times its weight.
POINTS_SAME_WHAT = 0.5
POINTS_VAGUE = 0.5  # a vaguer statement of the other side's figure ("more than 300" for 326)
POINTS_REVISION = 0.75
POINTS_NAME = 0.5
MAX_NAME_POINTS = 2.0
POINTS_ALL_RECUR = 0.5
POINTS_CLOSE_IN_TIME = 0.5
CLOSE_IN_TIME = timedelta(hours=6)
# Evidence beyond figures (see score_facts): the days of the week the texts mention (the event's day; two
# reports naming only different days tell different events) and, for a story found by names alone (no
# figures to compare), a higher bar and a shared sub-topic.
POINTS_SAME_DAY = 0.5
POINTS_OTHER_DAY = -1.0
NAMES_ONLY_EXTRA = 0.5
MAX_NAME_POINTS_NAMES_ONLY = 2.0
_DAY_NAMES = (
    "monday lunes|tuesday martes|wednesday miércoles|thursday jueves|friday viernes|saturday sábado|"
    "sunday domingo"
)
_DAYS = {fold(word): day for day, words in enumerate(_DAY_NAMES.split("|")) for word in words.split()}


class MatchKind:
    EXACT = "exact"
    NEAR = "near"
    MODEL = "model"


@dataclass(slots=True)
class StoryFacts:
    """What matching needs to know about an entry, or a story already stored (or created earlier in the same
    batch): the pipeline compares one entry with a dozen candidate stories and their members."""

    figures: tuple[KeyFigure, ...]
    names: frozenset[str]
    time: datetime  # published, else first seen
    days: frozenset[int] = frozenset()  # days of the week the title and lead mention (see `day_mentions`)
    updating: bool = False  # the title or lead says a running count moved (see `lead_signals`)
    # `figure_facts(figures)` and the same by value key, worked out on first use and again only if `figures`
    # is replaced (an update).
    _compared: _Compared | None = field(default=None, repr=False, compare=False)

    def figure_facts(self) -> tuple[tuple[FigureFacts, ...], dict[tuple[float, str], FigureFacts]]:
        if self._compared is None or self._compared[0] is not self.figures:
            facts = figure_facts(self.figures)
            self._compared = (self.figures, facts, {item.key: item for item in facts})
        return self._compared[1], self._compared[2]


_Compared = tuple[tuple[KeyFigure, ...], tuple[FigureFacts, ...], dict[tuple[float, str], FigureFacts]]


_DAY_WORDS = frozenset(_DAYS)
_CUE_WORDS = tuple((cue, frozenset(cue.split())) for cue in UPDATE_CUES)


def lead_signals(text: str) -> tuple[frozenset[int], bool]:
    """What a title and lead tell beyond names and figures: the days of the week they name (the event's days,
    0 = Monday) and whether they say a running count moved ("has risen to", "ya suman"). One folding and one
    split of the text serve both; a cue is looked for only when all its words occur."""
    words = fold_words(text)
    present = frozenset(words)
    days = frozenset(_DAYS[word] for word in present & _DAY_WORDS)
    updating = False
    joined: str | None = None
    for cue, needed in _CUE_WORDS:
        if needed <= present:
            joined = joined or f" {' '.join(words)} "
            if f" {cue} " in joined:
                updating = True
                break
    return days, updating


def day_mentions(text: str) -> frozenset[int]:
    """Days of the week a text names, in English or Spanish (0 = Monday): the days of the event it tells."""
    return lead_signals(text)[0]


def within_window(a: datetime, b: datetime, window: timedelta = MATCH_WINDOW) -> bool:
    return abs(a - b) <= window


def score_facts(entry: StoryFacts, story: StoryFacts, *, same_topic: bool = True) -> float:
    """How strongly an entry and a story tell the same facts; 0 when they cannot be the same story.

    Points: each figure both state of the same thing (a distinctive one, non-round or large, counts double a
    round or small count; the same value counting different things, "20 trucks" and "20 soldiers", counts
    nothing), each figure of the same thing with a plausibly revised value (an update), shared names other
    than the beat's two countries (capped), all figures of a side recurring, the same day of the week named
    (another day only: minus), and publication close in time (translations and republications follow within
    hours). When both sides state figures, shared-or-revised ones must cover half of the smaller side. When
    one side has none, names, days and time decide alone, against a higher bar and only on a shared topic.
    """
    new_facts, mine = entry.figure_facts()
    old_facts, theirs = story.figure_facts()
    shared = [key for key in mine.keys() & theirs.keys() if not different_things(mine[key], theirs[key])]
    if (
        mine
        and theirs
        and not shared
        and not any(comparable(new, old, REVISION_RATIO) for new in new_facts for old in old_facts)
    ):
        # Nothing shared and no value within reach of a revision or a vaguer statement of another: most
        # candidates found by names alone end here, before the pairing below.
        return 0.0
    shared_names = (entry.names & story.names) - BACKGROUND_NAMES
    score = 0.0
    revised: list[tuple[KeyFigure, KeyFigure]] = []
    lead_revised = False
    if mine and theirs:
        # Revisions as evidence of one story pair by stems only: by concept, "411 deserters in total" would
        # revise "326 members of the armed forces" in the next day's different story. By concept only the
        # two lead figures pair ("1,104 members of the armed forces" for "1,032 soldiers").
        revised, guessed = revisions(old_facts, new_facts, concepts=False)
        if guessed:
            revised = []  # a pairing by magnitude alone is no evidence that two stories are one
        old_lead, new_lead = old_facts[0], new_facts[0]
        # The headline count of both revised in the same words, by a report saying its count moved ("more
        # than 9,400 people" -> "has risen to more than 12,700 people displaced"), is the update itself: the
        # other figures of such a follow-up are new facts, not a sign of another story.
        lead_revised = entry.updating and (old_lead.figure, new_lead.figure) in revised
        if (
            not revised
            and old_lead.key != new_lead.key
            and same_thing(old_lead, new_lead)
            and not agrees(old_lead, new_lead)
        ):
            revised = [(old_lead.figure, new_lead.figure)]
        # A bound or estimate of a precise figure on the other side ("more than 300" for 326) is the same
        # figure, told vaguer.
        vague = [
            item
            for item in new_facts
            if item.key not in theirs
            and any(agrees(other, item) and same_words(other, item) for other in old_facts)
        ]
        smaller = min(len(mine), len(theirs))
        evidence = len(shared) + len(revised) + len(vague)
        if not evidence or (evidence / smaller < MIN_SHARED_FIGURE_RATIO and not lead_revised):
            return 0.0
        for key in shared:
            item = mine[key]
            score += item.weight * (1 + POINTS_SAME_WHAT) if same_words(item, theirs[key]) else item.weight
        score += POINTS_VAGUE * len(vague)
        # A revised count is evidence as strong as the figure is distinctive: 326 -> 411 deserters tells one
        # story, 3 -> 2 laboratories may be the next raid.
        score += sum(POINTS_REVISION * figure_weight(after) for _, after in revised)
        score += min(len(shared_names) * POINTS_NAME, MAX_NAME_POINTS)
        if len(shared) >= 2 and len(shared) == smaller:
            score += POINTS_ALL_RECUR
    else:
        if not same_topic:
            return 0.0
        score -= NAMES_ONLY_EXTRA  # the bar is higher: nothing but names to go on
        score += min(len(shared_names) * POINTS_NAME, MAX_NAME_POINTS_NAMES_ONLY)
    if entry.days and story.days:
        # An update is reported on a later day than the count it revises ("411, up from 326"): when a
        # revised figure comes with a figure both still state, or the headline count is revised in a report
        # published on a later date, another day is no evidence against it. Two reports of the same hour
        # naming different days tell two days' events.
        later_date = entry.time.astimezone(UTC).date() > story.time.astimezone(UTC).date()
        update = bool(revised) and (bool(shared) or (lead_revised and later_date))
        if entry.days & story.days:
            score += POINTS_SAME_DAY
        elif revised and not update:
            # Every count moved, none recurs, another day is named and nothing says a count rose: the next
            # edition of a daily or weekly report (Monday's crossings, Tuesday's crossings), however alike
            # its template. Its own story.
            return 0.0
        elif not update:
            score += POINTS_OTHER_DAY
    if abs(entry.time - story.time) <= CLOSE_IN_TIME:
        score += POINTS_CLOSE_IN_TIME
    return score


def facts_score(
    figures: Sequence[KeyFigure],
    names: frozenset[str],
    when: datetime,
    story: StoryFacts,
    *,
    days: frozenset[int] = frozenset(),
    same_topic: bool = True,
) -> float:
    """`score_facts` of an entry given by its parts."""
    return score_facts(StoryFacts(tuple(figures), names, when, days), story, same_topic=same_topic)


def facts_match(
    figures: Sequence[KeyFigure],
    names: frozenset[str],
    when: datetime,
    story: StoryFacts,
    *,
    days: frozenset[int] = frozenset(),
    same_topic: bool = True,
) -> bool:
    """Same story told in other words or another language (see `score_facts`)."""
    score = facts_score(figures, names, when, story, days=days, same_topic=same_topic)
    return score >= SAME_FACTS_SCORE


def may_update(
    entry_time: datetime, story_time: datetime, old: Sequence[KeyFigure], new: Sequence[KeyFigure]
) -> bool:
    """Whether an entry that reads like the story may join it. A copy with the same figures may come days
    later; one with revised figures only within `UPDATE_WINDOW`: beyond it, it is the next edition of a
    recurring report (yesterday's count, today's count), a story of its own."""
    return abs(entry_time - story_time) <= UPDATE_WINDOW or not figure_changes(old, new)


def is_later(entry_time: datetime | None, story_time: datetime | None) -> bool:
    """An older copy arriving late is not an update, even if its figures differ."""
    return entry_time is None or story_time is None or entry_time >= story_time


NAME_KEY_DAYS = 1  # a story found by names alone is looked up this many days either side of the entry's


def name_keys(names: frozenset[str], when: datetime, spread: int = 0) -> tuple[int, ...]:
    """Lookup keys for the stories naming the same people and places on the same day (± `spread` days): one
    per name and day, so a key's rows stay bounded by a day's stories however many are stored. The beat's two
    countries are named by every story and get no key."""
    day = when.astimezone(UTC).date().toordinal()
    return tuple(
        sorted(
            {
                int.from_bytes(
                    hashlib.blake2b(f"name:{name}:{day + shift}".encode(), digest_size=8).digest(),
                    "big",
                    signed=True,
                )
                for name in names - BACKGROUND_NAMES
                for shift in range(-spread, spread + 1)
            }
        )
    )
