"""Ranking the figures read from an article: one per value and unit, best first.

Prose beats headline-like lines and earlier beats later; a figure the headline states ranks first, and the
headline only adds figures the body lacks.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from operator import attrgetter

from stories.figures.reader import Figure
from stories.folding import fold
from stories.model import KeyFigure

SMALL_VALUE = 10
_WORDS = re.compile(r"\w+")
_score_of = attrgetter("score")

# A figure as read: (figure, position, prose). The position is the sentence's number in the article (a line
# without figures counts as one); prose is whether its line reads as prose rather than a headline, caption
# or list item. A plain tuple: several are made per article.
Found = tuple[Figure, int, bool]


@lru_cache(maxsize=8_192)
def long_words(text: str) -> frozenset[str]:
    """The words of a headline or label longer than three letters, folded (labels and headlines recur)."""
    if text.isascii():  # folding ASCII is lower-casing, which leaves the words where they are
        return frozenset(word for word in _WORDS.findall(text.lower()) if len(word) > 3)
    return frozenset(fold(word) for word in _WORDS.findall(text) if len(word) > 3)


def score(figure: Figure, position: int, title_words: frozenset[str], title_values: set[float]) -> float:
    value = 1.0 / (1.0 + 0.08 * position)
    if figure.value in title_values:
        value += 1.0
    if not title_words.isdisjoint(long_words(figure.what)):
        value += 0.3
    if figure.value < 10 and figure.unit is None:
        value -= 0.4
    value += min(math.log10(max(figure.value, 1.0)), 9.0) / 40.0
    return round(value, 4)


def rank(
    found: list[Found], body_end: int, title: str | None, title_figures: list[Figure]
) -> list[KeyFigure]:
    """The figures of `found` (body positions up to `body_end`, in order), and the headline's, deduplicated
    and scored, best first."""
    if not found and not title_figures:
        return []
    title_values = {figure.value for figure in title_figures}
    title_words = long_words(title or "")
    found.extend((figure, body_end + 1, False) for figure in title_figures)
    body_values = {figure.value for figure, position, _ in found if position <= body_end}
    # Prose first, then by position. `found` is already in position order (the headline's last), so that
    # stable sort is the prose figures in order followed by the others in order.
    ordered = [item for item in found if item[2]]
    if len(ordered) < len(found):
        ordered += [item for item in found if not item[2]]
    best: dict[tuple[float, str | None, str], Found] = {}
    for item in ordered:
        figure, position, _ = item
        if position > body_end and figure.value in body_values:
            continue  # the headline repeats a figure the body states with more context
        # A large number mentioned twice is the same figure; small ones ("2 people", "two vehicles") often
        # count different things.
        what = fold(figure.what) if figure.value < SMALL_VALUE else ""
        key = (figure.value, figure.unit, what)
        if key not in best:
            best[key] = item
    ranked = [
        KeyFigure(
            value=figure.value,
            text=figure.text,
            what=figure.what,
            unit=figure.unit,
            score=score(figure, position, title_words, title_values),
        )
        for figure, position, _ in best.values()
    ]
    # Stable, like sorting on the negated score: equal scores keep their order.
    ranked.sort(key=_score_of, reverse=True)
    return ranked
