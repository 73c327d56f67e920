"""Reading proportions and ranges in a sentence: "one in three", "2 de cada 10", "two-thirds of them", "la
mitad", "medio millón", "between 300 and 400". Each is one figure, valued as the proportion or at the range's
lower bound, with the whole phrase as its text; its parts are never figures of their own.

A part of `stories.figures.reader.SentenceReader`, which tries these readers first where a number's
neighbours (`AFTER_NUMBER`, `BEFORE_NUMBER`) or a proportion word make one possible, and builds the figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stories.figures.tokens import Sentence
from stories.figures.units import currency_before, scale_and_unit
from stories.figures.vocabulary import (
    CURRENCY_PREFIX,
    DETERMINERS,
    FRACTION_NUMERATORS,
    FRACTION_ORDINALS,
    FRACTIONS,
    HALF_DETERMINERS,
    HALF_SCALES,
    HALF_WORDS,
    MONTHS,
    MULTIPLIER_WORDS,
    NOT_COUNTED_PARTS,
    ORDINAL_WORDS,
    PARTITIVE_PRONOUNS,
    RANGE_ARTICLES,
    RANGE_LINKS,
    RANGE_STARTS,
    RATIO_LINKS,
    TIME_UNITS,
)
from stories.numerals import SPANISH_ONLY_NUMBER_WORDS, WORD_NUMBERS, parse_digits, parse_words

if TYPE_CHECKING:
    from stories.figures.reader import Figure

# Words that start a proportion without a number word: "half", "la mitad", "la tercera parte", "medio millón".
PROPORTION_WORDS = frozenset(FRACTIONS) | frozenset(FRACTION_ORDINALS) | {"medio", "media"}
# Neighbours of a number that may make it part of a proportion or range: the words after a ratio's numerator
# or before its denominator, before a range's lower bound, after a fraction's numerator.
AFTER_NUMBER = frozenset(RATIO_LINKS) | frozenset(FRACTIONS) | {"-"}
BEFORE_NUMBER = RANGE_STARTS | RANGE_ARTICLES | frozenset(CURRENCY_PREFIX) | {"in", "cada", "every"}
# Numerators of a ratio that are no candidates themselves ("one in three", "uno de cada tres").
_ARTICLE_NUMERATORS = frozenset({"one", "uno", "una", "un"})
# The last word of every ratio link: the word before a denominator.
_DENOMINATOR_AFTER = frozenset(words[-1] for links in RATIO_LINKS.values() for words in links)
_WORD_SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "mil": 1_000,
    "million": 1e6,
    "millon": 1e6,
    "millones": 1e6,
}
_ROUND_BASES = frozenset({20.0, 25.0, 50.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0})


class ProportionReading(Sentence):
    """The readers of proportions and ranges; `SentenceReader` provides how a figure is built and what is no
    count (the three methods below)."""

    __slots__ = ()

    def _build(self, first: int, text_end: int, after: int, value: float, unit: str | None) -> Figure | None:
        raise NotImplementedError

    def _not_a_count(self, index: int, value: float, raw: str) -> bool:
        raise NotImplementedError

    def _hyphen(self, index: int) -> bool:
        raise NotImplementedError

    def _number_at(self, index: int) -> tuple[float, int] | None:
        """The number written at `index` (digits or words) and the index after it; no scale words."""
        if index < 0 or index >= self.size:
            return None
        if self.kinds[index] == "num":
            value = parse_digits(self.texts[index], self.language)
            return None if value is None else (value, index + 1)
        word = self.folded[index]
        if word not in WORD_NUMBERS and word not in MULTIPLIER_WORDS:
            return None
        if self.language == "en" and word in SPANISH_ONLY_NUMBER_WORDS:
            return None
        words: list[str] = []
        cursor = index
        while cursor < self.size and self.kinds[cursor] == "word" and len(words) < 6:
            words.append(self.folded[cursor])
            cursor += 1
        parsed = parse_words(words)
        if parsed is None:
            return None
        return parsed[0], index + parsed[1]

    def _proportion(self, index: int) -> tuple[Figure | None, int] | None:
        """The proportion or range the candidate at `index` belongs to, as (figure or None, next index); None
        when it belongs to none and is read as any number."""
        word = self.word(index)
        if word in PROPORTION_WORDS:
            return self._fraction(index)
        following = self.word(index + 1)
        if following in RATIO_LINKS:
            ratio = self._ratio(index)
            if ratio is not None:
                return ratio
        hyphen = following == "" and self._hyphen(index + 1)
        if (
            following in FRACTIONS or (hyphen and self.word(index + 2) in FRACTIONS)
        ) and self._fraction_numerator(index + (2 if hyphen else 1)) == index:
            return None, index + 1  # "two-thirds", "dos tercios": read at the fraction word
        previous = self.word(index - 1)
        for link in RATIO_LINKS.values() if previous in _DENOMINATOR_AFTER else ():
            for words in link:
                start = index - len(words)
                if self.word(start - 1) in _ARTICLE_NUMERATORS and all(
                    self.word(start + offset) == part for offset, part in enumerate(words)
                ):
                    ratio = self._ratio(start - 1)
                    if ratio is not None:
                        return ratio
        start = index - 1
        if previous in RANGE_ARTICLES or previous in CURRENCY_PREFIX:
            start -= 1  # "entre un 20 y un 30 %", "between $2 million and $3 million"
        if self.word(start) in RANGE_STARTS:
            return self._range(index, start)
        return None

    def _ratio(self, numerator: int) -> tuple[Figure | None, int] | None:
        """ "One in three", "1 in 4", "six out of 10", "uno de cada tres", "2 de cada 10": one figure, the
        proportion, with the whole ratio as its text."""
        top = self._number_at(numerator)
        if top is None or top[1] != numerator + 1:
            word = self.word(numerator)
            if word not in _ARTICLE_NUMERATORS or (self.language == "en" and word != "one"):
                return None
            top = (1.0, numerator + 1)
        top_value = top[0]
        for words in sorted(RATIO_LINKS.get(self.word(numerator + 1), ()), key=len, reverse=True):
            if not all(self.word(numerator + 1 + offset) == part for offset, part in enumerate(words)):
                continue
            denominator = numerator + 1 + len(words)
            bottom = self._number_at(denominator)
            if bottom is None:
                return None
            bottom_value, end = bottom
            raw = self.texts[denominator]
            if (
                not 1 <= top_value < bottom_value
                or not top_value.is_integer()
                or not bottom_value.is_integer()
                or (len(raw) == 4 and raw.isdecimal() and 1800 <= bottom_value <= 2100)
                or bottom_value > 1_000_000
            ):
                return None
            after_word = self.word(end + 1 if self._hyphen(end) else end)
            if after_word in TIME_UNITS or after_word in MONTHS or self.word(end) == "%":
                return None  # "3 in 24 hours", "5 in 10 days", "one in 2019"
            if top_value > 1 and bottom_value > 10 and bottom_value not in _ROUND_BASES:
                return None  # "killed 12 in 30 raids", "209 out of 297 seats": counts, not a ratio
            return self._build(numerator, end, end, top_value / bottom_value, None), end
        return None

    def _range(self, lower: int, start: int) -> tuple[Figure | None, int] | None:
        """ "between 300 and 400 trucks", "entre 25.000 y 30.000 personas", "entre un 20 y un 30 %": one
        figure whose value is the lower bound, with the whole range as its text."""
        bound = self._number_at(lower)
        if bound is None:
            return None
        low, low_end = bound
        if self.kinds[lower] == "num" and self._not_a_count(lower, low, self.texts[lower]):
            return None  # a date or year range ("entre el 12 y el 14 de junio", "between 2019 and 2021")
        currency, _ = currency_before(self, lower)
        low_multiplier, low_unit, _, low_text_end = scale_and_unit(self, low_end, currency)
        link = low_text_end
        if self.word(link) not in RANGE_LINKS:
            return None
        upper = link + 1
        if self.word(upper) in RANGE_ARTICLES:
            upper += 1
        upper_currency, _ = currency_before(self, upper)
        if self.word(upper) in CURRENCY_PREFIX:
            upper += 1
        bound = self._number_at(upper)
        if bound is None:
            return None
        high, high_end = bound
        if self.kinds[upper] == "num" and self._not_a_count(upper, high, self.texts[upper]):
            return None, high_end  # "between 6 and 8 p.m.", "between 3 and 5 years"
        if self.word(high_end) in TIME_UNITS:
            return None, high_end
        multiplier, unit, after, text_end = scale_and_unit(self, high_end, upper_currency or currency)
        written = self.word(high_end - 1)
        if self.kinds[upper] == "word" and written in _WORD_SCALES and low < _WORD_SCALES[written]:
            low *= _WORD_SCALES[written]  # "between two and three thousand"
        lower_value = low * (low_multiplier if low_multiplier != 1.0 else multiplier)
        if high * multiplier <= lower_value or (lower_value == 0 and (low_unit or unit) != "%"):
            return None
        return self._build(start, text_end, after, lower_value, low_unit or unit), after

    def _fraction_numerator(self, index: int) -> int | None:
        """The index of the number before the fraction word at `index` ("a third", "two-thirds", "un
        tercio"), or None."""
        cursor = index - 1
        if cursor >= 1 and self.texts[cursor] == "-":
            cursor -= 1
        if self.word(cursor) in FRACTION_NUMERATORS:
            return cursor
        return None

    def _counted_part(self, after: int) -> tuple[bool, int]:
        """After a fraction: whether it counts something ("of their children", "de los partos", "son
        menores"), not a time or a way ("half an hour", "la mitad del camino"), and where that starts."""
        word = self.word(after)
        cursor = after
        if word in {"of", "de", "del"}:
            cursor += 1
        while self.word(cursor) in HALF_DETERMINERS or self.word(cursor) in DETERMINERS:
            cursor += 1
        noun = self.word(cursor)
        if noun in TIME_UNITS or noun in NOT_COUNTED_PARTS:
            return False, cursor
        partitive = word in {"of", "de"} and self.word(after + 1) in PARTITIVE_PRONOUNS
        return True, (after if partitive else cursor)

    def _fraction(self, index: int) -> tuple[Figure | None, int] | None:
        """ "half of their children", "la mitad son menores", "two-thirds of them", "about a third of the
        money", "la tercera parte de", "medio millón de colombianos", "half a million"."""
        word = self.word(index)
        following = self.word(index + 1)
        if word in HALF_WORDS:
            scale = index + 2 if following in {"a", "un"} else index + 1
            if self.word(scale) in HALF_SCALES:
                multiplier, unit, after, text_end = scale_and_unit(self, scale, None)
                if multiplier == 1.0:
                    return None, index + 1
                return self._build(index, text_end, after, 0.5 * multiplier, unit), after
            if word != "half":
                return None, index + 1
        first = index
        if word in FRACTION_ORDINALS:
            # "la tercera parte de", "una cuarta parte de"
            if following != "parte" or self.word(index - 1) not in {"la", "una"}:
                return None, index + 1
            value, first, end = FRACTION_ORDINALS[word], index - 1, index + 2
        elif word in {"half", "mitad"}:
            end = index + 1
            value = 0.5
            previous = self.word(index - 1)
            if word == "mitad":
                if previous != "la" or self.word(index - 2) in {"en", "por", "a", "hasta", "desde", "hacia"}:
                    return None, end
                first = index - 1
            elif previous in ORDINAL_WORDS or previous in {"the", "a", "and"} or following != "of":
                return None, end  # "the second half", "one and a half", "half an hour", "half the story"
            elif previous == "one":
                first = index - 1  # "one half of"
            if self.word(end) in {"of", "de"} and self.word(end + 1) in {"which", "que", "lo"}:
                return None, end  # "$40 billion, half of which is conditional": a part of an amount
        else:
            numerator = self._fraction_numerator(index)
            if numerator is None:
                return None, index + 1
            value = FRACTION_NUMERATORS[self.word(numerator)] * FRACTIONS[word]
            first, end = numerator, index + 1
            if self.word(end) not in {"of", "de", "del"} or value >= 1:
                return None, end  # "a third time", "a quarter century"
        counts, after = self._counted_part(end)
        if not counts:
            return None, end
        return self._build(first, end, after, value, None), end
