"""Story decisions that need no model: copies, windows, updates, and the lookup keys of candidates. The store
finds the candidates (`storage.stories_repo`); an exact copy (same canonical link, guid or normalised text)
or a near copy (MinHash similarity of the shingled text of at least `NEAR_DUPLICATE_SIMILARITY`) joins its
story here, and anything else is judged by the same-story model (`stories.grouping`) in `stories.batch`.

An entry with revised figures joins as an update only within `UPDATE_WINDOW` of the story (`may_update`):
beyond it, it is the next edition of a recurring report. `lead_signals` reads the days of the week a lead
names and whether it says a running count moved ("has risen to", "ya suman": the cues in
`stories/concepts.toml`), both features of the model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from stories.cleanup import VERSION_HEADING
from stories.figure_match import BACKGROUND_NAMES, UPDATE_CUES, figure_changes
from stories.folding import fold
from stories.model import KeyFigure
from stories.topics import fold_words

NEAR_DUPLICATE_SIMILARITY = 0.5
MATCH_WINDOW = timedelta(days=4)
UPDATE_WINDOW = timedelta(hours=72)
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
    """A story as alerted: its current figures and the time of its first entry (what windows and updates
    are judged on; the model compares the story's members, `stories.grouping.StoryView`)."""

    figures: tuple[KeyFigure, ...]
    time: datetime  # published, else first seen


_DAY_WORDS = frozenset(_DAYS)
_CUE_WORDS = tuple((cue, frozenset(cue.split())) for cue in UPDATE_CUES)


# The agencies' own marks of a new version of an item: at the head of its title (`VERSION_HEADING`), or
# "(updated)" / "(actualizado)" anywhere in it.
_UPDATE_HEADING = re.compile(VERSION_HEADING + r"|\((?:updated|actualizad[oa])\)", re.IGNORECASE)


def lead_signals(text: str) -> tuple[frozenset[int], bool]:
    """What a title and lead tell beyond names and figures: the days of the week they name (the event's days,
    0 = Monday) and whether they say a running count moved ("has risen to", "ya suman", or an agency's
    update heading on the title, the text's first line). One folding and one split of the text serve both; a
    cue is looked for only when all its words occur."""
    words = fold_words(text)
    present = frozenset(words)
    days = frozenset(_DAYS[word] for word in present & _DAY_WORDS)
    updating = bool(_UPDATE_HEADING.search(text.split("\n", 1)[0]))
    if updating:
        return days, True
    joined: str | None = None
    for cue, needed in _CUE_WORDS:
        if needed <= present:
            joined = joined or f" {' '.join(words)} "
            if f" {cue} " in joined:
                updating = True
                break
    return days, updating


def within_window(a: datetime, b: datetime, window: timedelta = MATCH_WINDOW) -> bool:
    return abs(a - b) <= window


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
                _name_day_key(name, day + shift)
                for name in names - BACKGROUND_NAMES
                for shift in range(-spread, spread + 1)
            }
        )
    )


@lru_cache(maxsize=100_000)
def _name_day_key(name: str, day: int) -> int:
    """One name on one day as a signed 64-bit key (cached: a beat's places recur in every poll)."""
    digest = hashlib.blake2b(f"name:{name}:{day}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
