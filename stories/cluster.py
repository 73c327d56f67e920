"""Which story an entry belongs to, and whether it changes that story's figures. Pure decisions: the store
finds the candidates (`storage.stories_repo`), this module judges them.

An entry joins a story when it is
- an exact copy: same canonical link, same guid, or the same normalised text;
- a near copy: MinHash similarity of the shingled text of at least `NEAR_DUPLICATE_SIMILARITY`, in the window;
- the same facts: within the window, enough shared (or revised) figures, shared names and closeness in time
  (`facts_score`). This is how a Spanish version of an English wire story, a rewrite by another outlet or
  an update with a new count finds the original.
Two stories on the same topic share a background figure ("armed forces of 365,000"), not most of their
figures, so they stay apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from stories.fingerprint import figure_value_key, is_distinctive
from stories.model import FigureChange, KeyFigure
from stories.numerals import fold

NEAR_DUPLICATE_SIMILARITY = 0.5
MATCH_WINDOW = timedelta(days=4)
UPDATE_WINDOW = timedelta(hours=36)
MIN_SHARED_FIGURE_RATIO = 0.5
# Weights of the same-facts evidence (see facts_score). The threshold needs, e.g., two distinctive figures and
# a shared name, or one distinctive figure, three names and publication within hours; small counts ("4
# soldiers") weigh half, so a pair of them also needs names and timing.
SAME_FACTS_SCORE = 2.5
POINTS_DISTINCTIVE = 1.0
POINTS_SMALL = 0.5
POINTS_REVISION = 0.75
POINTS_NAME = 0.5
MAX_NAME_POINTS = 1.5
POINTS_ALL_RECUR = 0.5
POINTS_CLOSE_IN_TIME = 0.5
CLOSE_IN_TIME = timedelta(hours=6)
# A revised count of the same thing stays within this factor of the old one (326 -> 411); a guessed pairing
# (no shared words, e.g. across languages) within the tighter one.
REVISION_RATIO = 3.0
GUESSED_REVISION_RATIO = 2.0
_WHAT_WORD = re.compile(r"\w+")
_WHAT_STOP = frozenset({"of", "in", "the", "de", "del", "en", "la", "el", "los", "las", "a", "an"})


class MatchKind:
    EXACT = "exact"
    NEAR = "near"
    FACTS = "facts"


@dataclass(slots=True)
class StoryFacts:
    """What matching needs to know about a story already stored (or created earlier in the same batch)."""

    figures: tuple[KeyFigure, ...]
    names: frozenset[str]
    time: datetime  # published, else first seen


def within_window(a: datetime, b: datetime, window: timedelta = MATCH_WINDOW) -> bool:
    return abs(a - b) <= window


def _value_keys(figures: Sequence[KeyFigure]) -> dict[tuple[float, str], KeyFigure]:
    return {figure_value_key(figure): figure for figure in figures}


def facts_score(
    figures: Sequence[KeyFigure], names: frozenset[str], when: datetime, story: StoryFacts
) -> float:
    """How strongly an entry and a story tell the same facts; 0 when they cannot be the same story.

    Points: each figure both state (a distinctive one counts double a small count), each figure of the same
    thing (shared words) with a plausibly revised value (an update), shared names (capped), all figures of a
    side recurring,
    and publication close in time (translations and republications follow within hours). At least one
    figure must be shared and shared-or-revised figures must cover half of the smaller side.
    """
    mine = _value_keys(figures)
    theirs = _value_keys(story.figures)
    shared = mine.keys() & theirs.keys()
    if not shared:
        return 0.0
    revised, guessed = _revisions(story.figures, figures)
    if guessed:
        revised = []  # a pairing by magnitude alone is no evidence that two stories are one
    smaller = min(len(mine), len(theirs))
    if (len(shared) + len(revised)) / smaller < MIN_SHARED_FIGURE_RATIO:
        return 0.0
    if len(shared) + len(revised) == 1 and _is_round(mine[next(iter(shared))]):
        return 0.0  # "20", "300": round numbers recur across a beat's stories by chance
    score = sum(POINTS_DISTINCTIVE if is_distinctive(mine[key]) else POINTS_SMALL for key in shared)
    score += len(revised) * POINTS_REVISION
    score += min(len(names & story.names) * POINTS_NAME, MAX_NAME_POINTS)
    if len(shared) >= 2 and len(shared) == smaller:
        score += POINTS_ALL_RECUR
    if abs(when - story.time) <= CLOSE_IN_TIME:
        score += POINTS_CLOSE_IN_TIME
    return score


def _is_round(figure: KeyFigure) -> bool:
    value = float(figure.value)
    return value.is_integer() and int(value) % 10 == 0


def facts_match(
    figures: Sequence[KeyFigure], names: frozenset[str], when: datetime, story: StoryFacts
) -> bool:
    """Same story told in other words or another language (see `facts_score`)."""
    return facts_score(figures, names, when, story) >= SAME_FACTS_SCORE


@lru_cache(maxsize=50_000)
def what_words(figure: KeyFigure) -> frozenset[str]:
    return frozenset(fold(word) for word in _WHAT_WORD.findall(figure.what) if fold(word) not in _WHAT_STOP)


def _same_thing(a: KeyFigure, b: KeyFigure) -> bool:
    """Two values of one quantity: same unit, overlapping words, and a plausible revision (not 20 -> 411)."""
    if a.unit != b.unit or not _comparable(a, b, REVISION_RATIO):
        return False
    return _same_words(a, b)


def _same_words(a: KeyFigure, b: KeyFigure) -> bool:
    """What the two figures count overlaps by at least half of the shorter description."""
    words_a, words_b = what_words(a), what_words(b)
    if not words_a or not words_b:
        return False
    overlap = len(words_a & words_b)
    return overlap / min(len(words_a), len(words_b)) >= 0.5


def _comparable(a: KeyFigure, b: KeyFigure, ratio: float = GUESSED_REVISION_RATIO) -> bool:
    """Same unit and close in value: a revised count, not a different quantity."""
    if a.unit != b.unit or a.value <= 0 or b.value <= 0:
        return False
    return 1 / ratio <= a.value / b.value <= ratio


def _revisions(
    old: Sequence[KeyFigure], new: Sequence[KeyFigure]
) -> tuple[list[tuple[KeyFigure, KeyFigure]], bool]:
    """Pairs (old, new) of the same thing with different values, and whether the last pair is a guess.

    Figures are paired by what they count (same unit, overlapping words); when exactly one figure on each side
    is left unpaired and they are comparable (a translation's "militares" for "members"), they pair as a
    guess.
    """
    old_left, new_left = list(old), list(new)
    # The same thing with the same value is unchanged; settle those first, so that an old value quoted
    # again for context ("411, up from 326 a day earlier") cannot hide the revision of that very count.
    for figure in list(new_left):
        partner = next(
            (
                c
                for c in old_left
                if figure_value_key(c) == figure_value_key(figure) and _same_words(c, figure)
            ),
            None,
        )
        if partner is not None:
            old_left.remove(partner)
            new_left.remove(figure)
    pairs: list[tuple[KeyFigure, KeyFigure]] = []
    for figure in list(new_left):
        partner = next(
            (
                c
                for c in old_left
                if figure_value_key(c) != figure_value_key(figure) and _same_thing(c, figure)
            ),
            None,
        )
        if partner is not None:
            pairs.append((partner, figure))
            old_left.remove(partner)
            new_left.remove(figure)
    # Whatever is left with a value found on the other side is the same figure in other words (a
    # translation's "militares" for "members"): unchanged.
    new_values = {figure_value_key(figure) for figure in new}
    old_values = {figure_value_key(figure) for figure in old}
    old_left = [figure for figure in old_left if figure_value_key(figure) not in new_values]
    new_left = [figure for figure in new_left if figure_value_key(figure) not in old_values]
    if not pairs and len(old_left) == 1 and len(new_left) == 1 and _comparable(*old_left, *new_left):
        return [(old_left[0], new_left[0])], True
    return pairs, False


def figure_changes(old: Sequence[KeyFigure], new: Sequence[KeyFigure]) -> tuple[FigureChange, ...]:
    """What changed from the story's figures to an entry's: revised values of the same thing.

    Figures that appear unchanged, or only on one side, are not changes.
    """
    pairs, _ = _revisions(old, new)
    return tuple(
        FigureChange(what=after.what or before.what, old=before, new=after) for before, after in pairs
    )


def merge_figures(old: Sequence[KeyFigure], changes: Sequence[FigureChange]) -> tuple[KeyFigure, ...]:
    """The story's figures after an update: revised values replace the old ones in place."""
    replaced = {figure_value_key(change.old): change.new for change in changes if change.old and change.new}
    return tuple(replaced.get(figure_value_key(figure), figure) for figure in old)


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
