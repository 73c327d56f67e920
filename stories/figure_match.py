"""Comparing two key figures: do they count the same thing, is one a revision of the other, or the same
figure stated vaguer. Story matching (`stories.cluster`) and updates (326 -> 411) are built on this.

A figure's `what` is compared by stems and EN/ES concepts (`stories/concepts.toml`: "troops", "militares",
"members of the armed forces"), so an update worded differently still pairs 326 -> 411; the same value
counting known different things ("20 trucks", "20 soldiers") is not shared. A qualified figure the other,
precise value satisfies ("more than 300" for 326, "about 400" for 411) is the same figure, not a change.

Story matching compares an entry's figures with those of a dozen candidate stories and their members, so
what each figure contributes (value key, qualifier, stems, concepts, weight) is worked out once, in a
`FigureFacts`, and the pairwise tests are set operations.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from stories.fingerprint import figure_value_key, is_distinctive
from stories.folding import fold
from stories.model import FigureChange, KeyFigure

CONCEPTS_FILE = Path(__file__).resolve().parent / "concepts.toml"
# A revised count of the same thing stays within this factor of the old one (326 -> 411); a guessed pairing
# (no shared words, e.g. across languages) within the tighter one.
REVISION_RATIO = 3.0
GUESSED_REVISION_RATIO = 2.0
# Evidence one shared figure gives that two reports are one story (see `figure_weight`).
POINTS_DISTINCTIVE = 1.0
POINTS_SMALL = 0.5
POINTS_ROUND = 0.5  # a round count ("20", "300"): recurs across a beat's stories by chance
LARGE_FIGURE = 10_000
# Words of a figure's `what` are compared by their first letters, folded (a crude EN/ES stem: "militares" and
# "military", "migrantes" and "migrants" meet), then by concept.
WHAT_STEM_LETTERS = 5
_WHAT_WORD = re.compile(r"\w+")
_WHAT_STOP = frozenset({"of", "in", "the", "de", "del", "en", "la", "el", "los", "las", "a", "an"})
# A figure stated with a qualifier is a bound or an estimate, not a new count. How far a precise value may sit
# from the qualified one and still agree.
_AT_LEAST = ("more than", "over ", "at least", "upwards of", "in excess of", "mas de", "al menos")
_ABOUT = ("about", "some ", "around", "roughly", "approximately", "nearly", "almost", "close to", "estimated",
          "an estimated", "up to", "unos", "unas", "cerca de", "alrededor de", "casi", "aproximadamente",
          "mas o menos", "hasta", "en torno a", "poco menos de", "poco mas de", "por lo menos")  # fmt: skip
_AT_MOST = ("fewer than", "less than", "under ", "menos de", "no more than")
AT_LEAST_SPAN = 1.5  # "more than 300" agrees with 300..450
ABOUT_SPAN = 0.15  # "about 400" agrees with 340..460


@dataclass(frozen=True, slots=True)
class PeopleConcepts:
    """The concepts that count people (`[people]` of the concepts file): generic, groups and states."""

    generic: frozenset[str]
    groups: frozenset[str]
    states: frozenset[str]
    every: frozenset[str] = dataclasses.field(init=False)  # all three: asked of every figure compared

    def __post_init__(self) -> None:
        object.__setattr__(self, "every", self.generic | self.groups | self.states)

    def may_be_one_count(self, a: frozenset[str], b: frozenset[str]) -> bool:
        """Whether known concepts `a` and `b`, sharing none, may still count the same people: both count
        people, and they do not name two groups ("soldiers", "migrants") or two states ("dead", "injured")."""
        if not (a & self.every and b & self.every):
            return False
        return not (a & self.groups and b & self.groups) and not (a & self.states and b & self.states)


def _load_concepts(path: Path) -> tuple[dict[str, str], frozenset[str], tuple[str, ...], PeopleConcepts]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = {fold(word): concept for concept, words in data["concepts"].items() for word in words.split()}
    background = frozenset(fold(name) for name in data["background_names"])
    listed = data["people"]
    people = PeopleConcepts(*(frozenset(listed[kind]) for kind in ("generic", "groups", "states")))
    unknown = people.every - set(data["concepts"])
    if unknown:
        raise ValueError(f"{path}: [people] names concepts it does not define: {sorted(unknown)}")
    return table, background, tuple(fold(cue) for cue in data["update_cues"]), people


_CONCEPTS, BACKGROUND_NAMES, UPDATE_CUES, _PEOPLE = _load_concepts(CONCEPTS_FILE)
_CONCEPT_NAMES = frozenset(_CONCEPTS.values())


@lru_cache(maxsize=50_000)
def what_words(what: str) -> frozenset[str]:
    return frozenset(fold(word) for word in _WHAT_WORD.findall(what) if fold(word) not in _WHAT_STOP)


@lru_cache(maxsize=50_000)
def what_concepts(what: str, concepts: bool = True) -> frozenset[str]:
    """What a figure counts, as stems and concepts: "Venezuelan military personnel" and "members of
    Venezuela's armed forces" and "militares venezolanos" share "armed-forces". The beat's countries only
    qualify the noun, so they count only when nothing else is said."""
    stems = {
        (concepts and (_CONCEPTS.get(word) or _CONCEPTS.get(word.removesuffix("s"))))
        or word[:WHAT_STEM_LETTERS]
        for word in what_words(what)
        if len(word) > 1
    }
    return frozenset(stems - BACKGROUND_NAMES) or frozenset(stems)


@lru_cache(maxsize=50_000)
def _qualifier_of(written: str) -> str | None:
    text = fold(written.strip()) + " "
    for kind, prefixes in (("at-least", _AT_LEAST), ("about", _ABOUT), ("at-most", _AT_MOST)):
        if text.startswith(prefixes):
            return kind
    return None


def figure_weight(figure: KeyFigure) -> float:
    """Evidence of one shared figure: a distinctive one (money, a percentage, a decimal, a count from 10 up
    that is not round, any from 10,000 up) is rarely shared by chance; a round ("20", "300") or small count
    is."""
    if not is_distinctive(figure):
        return POINTS_SMALL
    value = float(figure.value)
    if figure.unit is not None or not value.is_integer() or value >= LARGE_FIGURE:
        return POINTS_DISTINCTIVE
    round_ = int(value) % 10 == 0
    return POINTS_ROUND if round_ and len(str(int(value)).rstrip("0")) < 2 else POINTS_DISTINCTIVE


@dataclass(frozen=True, slots=True)
class FigureFacts:
    """A figure with what comparing it needs, worked out once (see `figure_facts`)."""

    figure: KeyFigure
    key: tuple[float, str]  # `figure_value_key`: the value as shared and looked up
    value: float
    unit: str | None
    qualifier: str | None  # "at-least", "about", "at-most" or None for a precise value
    stems: frozenset[str]  # what it counts, as stems only
    concepts: frozenset[str]  # ... as stems and concepts
    known: frozenset[str]  # the concepts of the table among them
    weight: float  # `figure_weight`


@lru_cache(maxsize=100_000)
def _facts_of(figure: KeyFigure) -> FigureFacts:
    concepts = what_concepts(figure.what)
    return FigureFacts(
        figure=figure,
        key=figure_value_key(figure),
        value=figure.value,
        unit=figure.unit,
        qualifier=_qualifier_of(figure.text),
        stems=what_concepts(figure.what, False),
        concepts=concepts,
        known=frozenset(word for word in concepts if word in _CONCEPT_NAMES),
        weight=figure_weight(figure),
    )


def figure_facts(figures: Sequence[KeyFigure]) -> tuple[FigureFacts, ...]:
    return tuple(_facts_of(figure) for figure in figures)


def _overlap(words_a: frozenset[str], words_b: frozenset[str]) -> bool:
    """At least half of the shorter description is shared."""
    if not words_a or not words_b:
        return False
    return 2 * len(words_a & words_b) >= min(len(words_a), len(words_b))


def same_words(a: FigureFacts, b: FigureFacts, concepts: bool = True) -> bool:
    """What the two figures count overlaps (in stems or concepts) by at least half of the shorter one."""
    return _overlap(a.concepts, b.concepts) if concepts else _overlap(a.stems, b.stems)


def comparable(a: FigureFacts, b: FigureFacts, ratio: float = GUESSED_REVISION_RATIO) -> bool:
    """Same unit and close in value: a revised count, not a different quantity."""
    if a.unit != b.unit or a.value <= 0 or b.value <= 0:
        return False
    return 1 / ratio <= a.value / b.value <= ratio


def same_thing(a: FigureFacts, b: FigureFacts, concepts: bool = True) -> bool:
    """Two values of one quantity: same unit, overlapping words, and a plausible revision (not 20 -> 411)."""
    return comparable(a, b, REVISION_RATIO) and same_words(a, b, concepts)


def different_things(a: FigureFacts, b: FigureFacts) -> bool:
    """The same value counting different things, by known concepts ("20 trucks", "20 soldiers"). Unknown
    words say nothing: a figure's description may be a stray word of its sentence. People counted as people,
    as a group or by their state may be one count ("11 personas", "once detenidos": `PeopleConcepts`)."""
    return (
        bool(a.known and b.known)
        and not (a.concepts & b.concepts)
        and not _PEOPLE.may_be_one_count(a.known, b.known)
    )


def _within_qualifier(vague: FigureFacts, value: float) -> bool:
    kind, bound = vague.qualifier, float(vague.value)
    if kind == "at-least":
        return bound <= value <= bound * AT_LEAST_SPAN
    if kind == "about":
        return abs(value - bound) <= bound * ABOUT_SPAN
    if kind == "at-most":
        return bound / AT_LEAST_SPAN <= value <= bound
    return False


def agrees(a: FigureFacts, b: FigureFacts) -> bool:
    """A bound or estimate that the other, precise value satisfies ("more than 300" and 326, "about 400" and
    411): the same figure stated more or less precisely, not a revision."""
    # The same kind of bound moved ("at least 326" then "at least 411", "about 300" then "about 400") is a
    # revised figure: a change. Two precise values are never merely consistent either.
    if a.unit != b.unit or a.qualifier == b.qualifier:
        return False
    return _within_qualifier(a, float(b.value)) or _within_qualifier(b, float(a.value))


def consistent(a: KeyFigure, b: KeyFigure) -> bool:
    """`agrees`, for two figures."""
    return agrees(_facts_of(a), _facts_of(b))


def revisions(
    old: Sequence[FigureFacts], new: Sequence[FigureFacts], concepts: bool = True
) -> tuple[list[tuple[KeyFigure, KeyFigure]], bool]:
    """Pairs (old, new) of the same thing with different values, and whether the last pair is a guess.

    Figures are paired by what they count (same unit, overlapping words); when exactly one figure on each side
    is left unpaired and they are comparable (a translation's "militares" for "members"), they pair as a
    guess.
    """
    old_left = list(old)
    # The same thing with the same value is unchanged; settle those first, so that an old value quoted
    # again for context ("411, up from 326 a day earlier") cannot hide the revision of that very count.
    new_left = [item for item in new if not _take(old_left, item, _same_value)]
    # Then a bound or estimate the other side's precise value satisfies ("more than 300" for 326): the same
    # figure stated vaguer (or more precisely), not a revision.
    new_left = [item for item in new_left if not _take(old_left, item, _vaguer)]
    pairs: list[tuple[KeyFigure, KeyFigure]] = []
    unpaired: list[FigureFacts] = []
    revised = _revised_by_concept if concepts else _revised_by_stem
    for item in new_left:
        partner = _take(old_left, item, revised)
        if partner is None:
            unpaired.append(item)
        else:
            pairs.append((partner.figure, item.figure))
    if pairs:
        return pairs, False
    # Whatever is left with a value found on the other side is the same figure in other words (a
    # translation's "militares" for "members"): unchanged.
    new_values = {item.key for item in new}
    old_unpaired = [item for item in old_left if item.key not in new_values]
    if len(old_unpaired) != 1:
        return pairs, False
    old_values = {item.key for item in old}
    new_unpaired = [item for item in unpaired if item.key not in old_values]
    if (
        len(new_unpaired) == 1
        and comparable(old_unpaired[0], new_unpaired[0])
        and not agrees(old_unpaired[0], new_unpaired[0])
        and not different_things(old_unpaired[0], new_unpaired[0])
    ):
        return [(old_unpaired[0].figure, new_unpaired[0].figure)], True
    return pairs, False


def _same_value(old: FigureFacts, new: FigureFacts) -> bool:
    return old.key == new.key and same_words(old, new)


def _vaguer(old: FigureFacts, new: FigureFacts) -> bool:
    return agrees(old, new) and same_words(old, new)


def _revised_by_concept(old: FigureFacts, new: FigureFacts) -> bool:
    return old.key != new.key and same_thing(old, new, True)


def _revised_by_stem(old: FigureFacts, new: FigureFacts) -> bool:
    return old.key != new.key and same_thing(old, new, False)


def _take(
    candidates: list[FigureFacts], item: FigureFacts, pairs: Callable[[FigureFacts, FigureFacts], bool]
) -> FigureFacts | None:
    """Remove and return the first candidate that `pairs` with `item`, if any (each figure pairs once)."""
    for index, candidate in enumerate(candidates):
        if pairs(candidate, item):
            del candidates[index]
            return candidate
    return None


def figure_changes(old: Sequence[KeyFigure], new: Sequence[KeyFigure]) -> tuple[FigureChange, ...]:
    """What changed from the story's figures to an entry's: revised values of the same thing.

    Figures that appear unchanged, or only on one side, are not changes. A change is labelled in the
    story's words (the first alert's language): a Spanish update to an English alert reads
    "members of Venezuela's armed forces: 326 → 411" in the English alert's thread.
    """
    pairs, _ = revisions(figure_facts(old), figure_facts(new))
    return tuple(
        FigureChange(what=before.what or after.what, old=before, new=after) for before, after in pairs
    )


def in_words_of(figures: Sequence[KeyFigure], words: Sequence[KeyFigure]) -> tuple[KeyFigure, ...]:
    """`figures` labelled in the words of another report of the same story (an alert in a channel's language):
    a figure that report states with the same value takes its wording and label ("326 militares"), a revised
    value it counts the same thing of takes its label (411 where it said 326). The values are never changed,
    and a figure that report does not have keeps its own words. Alerts and thread updates both come here, so
    an update reads in its alert's language."""
    others = list(figure_facts(words))
    relabelled = []
    for facts in figure_facts(figures):
        figure = facts.figure
        partner = _take(others, facts, _same_figure)
        if partner is not None:
            relabelled.append(dataclasses.replace(figure, what=partner.figure.what, text=partner.figure.text))
            continue
        partner = _take(others, facts, _revised_by_concept)
        if partner is None and len(others) == 1 and comparable(others[0], facts):
            # The one figure left on each side, close in value (a translation's "militares" for "members").
            partner = others.pop()
        relabelled.append(dataclasses.replace(figure, what=partner.figure.what) if partner else figure)
    return tuple(relabelled)


def changes_in_words_of(
    changes: Sequence[FigureChange], words: Sequence[KeyFigure]
) -> tuple[FigureChange, ...]:
    """Figure changes labelled like `in_words_of`, each side on its own (the report had 326, not 411)."""
    relabelled = []
    for change in changes:
        old = in_words_of((change.old,), words)[0] if change.old else None
        new = in_words_of((change.new,), words)[0] if change.new else None
        labelled = old or new
        what = labelled.what if labelled is not None and labelled.what else change.what
        relabelled.append(FigureChange(what=what, old=old, new=new))
    return tuple(relabelled)


def _same_figure(mine: FigureFacts, theirs: FigureFacts) -> bool:
    # Same value and unit in two reports of one story is one figure, whatever the words, unless known
    # concepts say otherwise ("20 trucks", "20 soldiers").
    return mine.key == theirs.key and mine.unit == theirs.unit and not different_things(mine, theirs)


def merge_figures(old: Sequence[KeyFigure], changes: Sequence[FigureChange]) -> tuple[KeyFigure, ...]:
    """The story's figures after an update: revised values replace the old ones in place, keeping the story's
    label of what they count (its language stays the first alert's)."""
    replaced = {
        figure_value_key(change.old): dataclasses.replace(change.new, what=change.old.what or change.new.what)
        for change in changes
        if change.old and change.new
    }
    return tuple(replaced.get(figure_value_key(figure), figure) for figure in old)
