"""Key figures: the numbers in a story with what they count, in English and Spanish.

A figure is a count, an amount of money, a percentage or a proportion, found with general rules (no
per-story patterns): digits in either grouping convention, scale words, written-out numbers, an optional
"more than"/"más de" qualifier kept in the text. Dates, times, years, ages, durations, ordinals and
identifiers ("Flight 302") are not figures. `what` is the noun phrase the number counts, read from the same
sentence.

Modules, in reading order:
- `extract`: `extract_figures`, the walk over an article's lines and sentences, and the reading caches.
- `screen`: cheap rejects of text that cannot hold a figure, before any tokenising.
- `tokens`: a sentence's tokens and word lookups.
- `reader`: the figures of one sentence: where numbers are, which are not figures (dates, ages, ids).
- `proportions`: ratios, fractions and ranges ("one in three", "la mitad", "between 300 and 400"), each one
  figure.
- `units`: what is written around a number: qualifier, currency, scale word, percent, unit of measure.
- `what`: what a figure counts; `phrases`: the noun phrases it is read from.
- `ranking`: one figure per value and unit, scored and ordered.
- `vocabulary`: the word lists every rule reads.
Numbers themselves are parsed by `stories.numerals`.
"""

from stories.figures.extract import MAX_FIGURE_CHARS, clear_caches, extract_figures
from stories.figures.ranking import SMALL_VALUE

__all__ = ["MAX_FIGURE_CHARS", "SMALL_VALUE", "clear_caches", "extract_figures"]
