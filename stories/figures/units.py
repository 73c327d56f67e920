"""What is written around a number: a qualifier or currency before it, a scale word, percent, currency or
unit of measure after it ("more than $1.6 million", "unos 18.000 litros de", "15 por ciento").
"""

from __future__ import annotations

import re

from stories.figures.tokens import Sentence
from stories.figures.vocabulary import (
    CURRENCY_PREFIX,
    CURRENCY_SUFFIX,
    DOTTED_CURRENCY_PREFIX,
    MEASURES_BY_FIRST,
    PERCENT_FIRST,
    PERCENT_WORDS,
    PHRASE_STOP,
)
from stories.numerals import SHORT_SCALES, scale_of

# Words before a number that stay in the figure's text ("more than 1.6 million", "unos 365.000").
_QUALIFIERS = (
    "more than", "over", "at least", "about", "around", "nearly", "almost", "some", "up to", "fewer than",
    "less than", "roughly", "approximately", "an estimated", "as many as", "close to", "at most",
    "just over", "just under", "más de", "mas de", "menos de", "al menos", "por lo menos", "unos", "unas",
    "cerca de", "casi", "alrededor de", "aproximadamente", "hasta", "poco más de", "más de un",
    "un estimado de", "como mínimo",
    # "de" + "el" is written "del": "alrededor del 72 %", "más del 40 %".
    "más del", "mas del", "menos del", "cerca del", "alrededor del", "poco más del", "un estimado del",
)  # fmt: skip
_QUALIFIER_PHRASES = "|".join(phrase.replace(" ", r"\s+") for phrase in _QUALIFIERS)
_QUALIFIER = re.compile(rf"(?:\b(?:{_QUALIFIER_PHRASES}))\s+$", re.IGNORECASE)
# A qualifier's last word, anywhere in the last run of non-spaces: a cheap test of whether a qualifier can end
# the text at all, before `_QUALIFIER` tries the positions of several words.
_QUALIFIER_LAST_WORDS = "|".join(sorted({phrase.split()[-1] for phrase in _QUALIFIERS}))
_QUALIFIER_END = re.compile(rf"\S*?\b(?:{_QUALIFIER_LAST_WORDS})\s+$", re.IGNORECASE)


def qualifier_before(text: str) -> re.Match[str] | None:
    """The qualifier that ends `text` ("at least "), if any: `_QUALIFIER.search(text)`, in fewer steps."""
    # `\s+$` needs whitespace at the very end (a final newline counts as whitespace too): without it there is
    # no match, and numbers written right after a sign or bracket ("$738", "(45") skip the search.
    if not text or not text[-1].isspace():
        return None
    # A qualifier is at most three words, each inside one run of non-spaces, so a match starts within the last
    # three such runs, and its last word lies in the last run.
    head = text.rsplit(None, 3)
    if not head or _QUALIFIER_END.match(text, len(text.rstrip()) - len(head[-1])) is None:
        return None
    # The search, which would try every position of the sentence before the number, starts after the
    # fourth-last run instead; `\b` still sees the character before its start position.
    return _QUALIFIER.search(text, len(head[0]) if len(head) == 4 else 0)


def currency_before(sentence: Sentence, index: int) -> tuple[str | None, int]:
    """Currency written before the number, and the token index where the figure's text starts."""
    first = index
    previous = sentence.word(index - 1)
    if previous in CURRENCY_PREFIX:
        code = CURRENCY_PREFIX[previous]
        first = index - 1
        if previous == "us" and sentence.word(index - 2) != "":
            return None, index
        if previous == "$" and sentence.word(index - 2) == "us":
            first = index - 2
        return code, first
    # "Bs. 500": the abbreviation's dot is a punctuation token, which `word` reads as "".
    if index >= 2 and sentence.texts[index - 1] == "." and sentence.word(index - 2) in DOTTED_CURRENCY_PREFIX:
        return DOTTED_CURRENCY_PREFIX[sentence.word(index - 2)], index - 2
    return None, first


def scale_and_unit(
    sentence: Sentence, index: int, currency: str | None
) -> tuple[float, str | None, int, int]:
    """Scale words, percent and currency after the number.

    Returns the multiplier, the unit, the index where the counted phrase starts and the index where the
    figure's written text ends ("1,6 millones de civiles": text ends before "de", phrase starts after it).
    """
    multiplier = 1.0
    unit = currency
    cursor = index
    word = sentence.word(cursor)
    text_end = cursor
    if cursor < sentence.size and sentence.kinds[cursor] == "word":
        scale = scale_of(word)
        # A short scale ("m", "bn") counts when written with a currency or attached: "$2bn", "5m".
        if scale and (
            word not in SHORT_SCALES
            or currency is not None
            or sentence.start(cursor) == sentence.end(cursor - 1)
        ):
            multiplier = scale
            cursor += 1
            if word == "mil" and sentence.word(cursor) in {"millones", "millon"}:
                multiplier = 1e9
                cursor += 1
            text_end = cursor
            if sentence.word(cursor) in {"de", "of"} and sentence.word(cursor + 1) != "":
                following = sentence.word(cursor + 1)
                if following in CURRENCY_SUFFIX or following not in PHRASE_STOP:
                    cursor += 1  # "1,6 millones de civiles", "millions of dollars"
    suffix = sentence.word(cursor)
    if suffix == "%":
        return multiplier, "%", cursor + 1, cursor + 1
    if suffix in PERCENT_FIRST:  # most figures have no percent word: skip trying each
        for words in PERCENT_WORDS:
            if all(sentence.word(cursor + offset) == part for offset, part in enumerate(words)):
                return multiplier, "%", cursor + len(words), cursor + len(words)
    if suffix in CURRENCY_SUFFIX:
        if suffix not in {"pesos", "peso"} or unit in (None, "USD"):
            unit = CURRENCY_SUFFIX[suffix]
        cursor += 1
        if sentence.word(cursor) in {"colombianos", "colombian"}:
            unit, cursor = "COP", cursor + 1
        elif sentence.word(cursor) in {"mexicanos", "mexican"}:
            unit, cursor = "MXN", cursor + 1
        text_end = cursor
    measured = _measure(sentence, cursor) if unit is None else None
    if measured is not None:
        unit, cursor = measured
        text_end = cursor
        if sentence.word(cursor) in {"of", "de"}:
            cursor += 1  # "18.000 litros de combustible"
    return multiplier, unit, cursor, text_end


def _measure(sentence: Sentence, cursor: int) -> tuple[str, int] | None:
    """A unit of measure after the number ("600 tonnes", "224-kilometre", "150 pies cúbicos")."""
    if sentence.word(cursor) == "" and cursor < sentence.size and sentence.texts[cursor] == "-":
        cursor += 1
    for words, unit in MEASURES_BY_FIRST.get(sentence.word(cursor), ()):
        # The first word is the one looked up: a one-word unit ("tonnes") needs no further test.
        if len(words) == 1 or all(
            sentence.word(cursor + offset) == part for offset, part in enumerate(words)
        ):
            return unit, cursor + len(words)
    return None
