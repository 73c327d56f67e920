"""Word associations: pairs of terms that two reports of one story use for the same thing in other words
("quake" and "seism", "gather" and "meet", "acnur" and "unhcr": a rewrite's synonym, or a translation the
bridge lexicon lacks). Learned by `make train-grouping` (`training.word_associations`) from the dev split's
candidate pairs: a pair of terms, one in each report and not in the other, kept when it occurs in same-story
pairs of at least `MIN_STORIES` stories and more often there than in pairs of different stories. At run time a
table lookup, like the bridge.

The table (`data/word_associations.tsv.gz`): `term<TAB>term<TAB>score` per line, terms as
`stories.grouping.terms` makes them (stemmed, cut, Spanish bridged), the score the log-ratio of same-story
stories to different-story pairs that hold the two.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterable, Set
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ASSOCIATIONS_FILE = Path(__file__).resolve().parent / "data" / "word_associations.tsv.gz"
# A pair of words must link reports of this many different stories: fewer, and it is one file's vocabulary
# (on dev, 3 kept out-of-fold recall at precision 0.98 at 0.80 on 8,472 entries, 2 the same with a table
# 1.8 times larger, 5 kept 0.78).
MIN_STORIES = 3
# The same-story model's features read from an `AssociationEvidence`, in the order of `values()`.
ASSOCIATION_FEATURES = ("associated_words", "association_strength", "strongest_association")
MAX_ASSOCIATED = 20  # pairs of associated words counted: beyond that, more says nothing new
MAX_STRENGTH = 40.0


@dataclass(frozen=True, slots=True)
class AssociationEvidence:
    count: float  # associated pairs of words, one in each report (capped at `MAX_ASSOCIATED`)
    strength: float  # their scores summed (capped at `MAX_STRENGTH`)
    strongest: float  # the highest score among them
    example: tuple[str, str] | None  # the pair of the highest score, for `why`

    def values(self) -> tuple[float, float, float]:
        """The values of `ASSOCIATION_FEATURES`: what `compare` gives the bot and training fits on."""
        return self.count, self.strength, self.strongest


NO_ASSOCIATION = AssociationEvidence(0.0, 0.0, 0.0, None)


class WordAssociations:
    """The table as each term's associated terms and their scores (symmetric)."""

    def __init__(self, pairs: Iterable[tuple[str, str, float]] = ()) -> None:
        self.neighbours: dict[str, dict[str, float]] = {}
        for left, right, score in pairs:
            self.neighbours.setdefault(left, {})[right] = score
            self.neighbours.setdefault(right, {})[left] = score
        # Few terms have an associated term (about 2,000 of the stored corpus's tens of thousands), and the
        # table is symmetric: a pair's terms are cut down to these first, in C, before any neighbour is read.
        self._linked_terms = frozenset(self.neighbours)

    def __len__(self) -> int:
        return sum(map(len, self.neighbours.values())) // 2

    def evidence(self, mine: Iterable[str], theirs: Set[str]) -> AssociationEvidence:
        """What links the terms only one report has (`mine`) to those only the other has (`theirs`)."""
        theirs = self._linked_terms.intersection(theirs)
        if not theirs:
            return NO_ASSOCIATION
        found: list[tuple[float, str, str]] = []
        for term in self._linked_terms.intersection(mine):
            linked = self.neighbours[term]
            found.extend((score, term, other) for other in linked.keys() & theirs if (score := linked[other]))
        if not found:
            return NO_ASSOCIATION
        # fsum and max over the whole tuple: the same values whatever order the sets are read in
        strongest, term, other = max(found)
        return AssociationEvidence(
            float(min(len(found), MAX_ASSOCIATED)),
            min(math.fsum(score for score, _, _ in found), MAX_STRENGTH),
            strongest,
            (term, other),
        )


def read_associations(path: Path) -> WordAssociations:
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or "\t" not in line:
                continue
            left, right, score = line.rstrip("\n").split("\t")
            rows.append((left, right, float(score)))
    return WordAssociations(rows)


@cache
def word_associations(path: Path = ASSOCIATIONS_FILE) -> WordAssociations:
    """The shipped table; an empty one when it cannot be read (the model then sees no associated words, as
    for two reports that share none)."""
    try:
        return read_associations(path)
    except (OSError, EOFError, ValueError):
        return WordAssociations()
