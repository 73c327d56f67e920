"""What a figure counts: the label next to its number ("Venezuelans", "members of Venezuela's armed forces").

Read from the same sentence, in order of preference: the noun phrase after the number, the group a membership
noun belongs to, what money is for, the count a percentage changes, "the number of X", what happened to the
counted ("Another 11,000 have been displaced"), the phrase before the verb, and last a plain fallback
("share", "amount"). An earlier value of a count ("up from 326") is labelled as such.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stories.figures.phrases import (
    is_time_phrase,
    join,
    noun_phrase_left,
    noun_phrase_right,
    subject_before_verb,
)
from stories.figures.tokens import Sentence
from stories.figures.vocabulary import (
    AUXILIARIES,
    BACK_REFERENCES,
    CHANGE_AFTER,
    CHANGE_WORDS,
    COUNT_NOUNS,
    CURRENCY_CODES,
    CURRENCY_PREFIX,
    CURRENCY_SUFFIX,
    DETERMINERS,
    DIMENSIONS,
    EARLIER_WORDS,
    FALLBACK_WHAT,
    FALLBACK_WORDS,
    MEMBERSHIP_NOUNS,
    NOT_VERBS,
    PARTITIVE_PRONOUNS,
    PHRASE_STOP,
    PREDICATE_LINKS,
    RELATIONAL_NOUNS,
)
from stories.numerals import scale_of

if TYPE_CHECKING:
    from stories.figures.reader import Figure

# A predicate never ends on a link, an article or "of": "were members of the U.S." -> "members".
_PREDICATE_TRIM = PREDICATE_LINKS | DETERMINERS | {"of", "de"}


def what_it_counts(
    sentence: Sentence, found: list[Figure], after: int, start_left: int, unit: str | None
) -> str:
    """The label of the figure whose tokens (qualifier included) start at `start_left` and whose counted
    phrase would start at `after`; `found` holds the figures read before it in the sentence."""
    texts, folded, language = sentence.texts, sentence.folded, sentence.language
    partitive = False
    if sentence.word(after) in {"of", "de"}:
        # "Two of them are lieutenants", "11 de ellos eran buscados", "two of whom were children": a part of
        # a group named before; what it counts is said after the pronoun.
        pronoun = sentence.word(after + 1)
        if pronoun in PARTITIVE_PRONOUNS:
            after, partitive = after + 2, True
        elif pronoun in {"los", "las"} and sentence.word(after + 2) == "cuales":
            after, partitive = after + 3, True
    start = after
    if unit is not None and sentence.word(start) in {"in", "en", "for", "para", "of", "de", "worth", "on"}:
        start += 1
    # A percentage counts what follows "of"/"de" ("15% of households"); otherwise what rose or fell.
    phrase: list[int]
    if unit == "%" and sentence.word(after) not in {"of", "de", "del"}:
        phrase = []
    else:
        phrase = noun_phrase_right(sentence, start, language)
    if is_time_phrase(sentence, phrase):
        # "326 a day earlier", "$1.2 billion this year": a time, not what the number counts.
        if any(folded[index] in EARLIER_WORDS for index in phrase):
            return _previous_figure_label(language)
        phrase = []
    if _refers_back(sentence, found, start_left, unit):
        return _previous_figure_label(language)  # "411, up from 326": the earlier value of the lead count
    if phrase and len(phrase) == 1 and folded[phrase[0]] in RELATIONAL_NOUNS:
        subject = subject_before_verb(sentence, start_left)
        if subject:
            words = [texts[index] for index in subject]
            if folded[subject[0]] in DETERMINERS:
                words = words[1:] if len(words) > 1 else words
            if folded[phrase[0]] in MEMBERSHIP_NOUNS:
                # "Venezuela's armed forces number 365,000 members": the size of the armed forces, not
                # a group of its members (that is how deserters are counted).
                return " ".join(words)
            link = "de" if language == "es" else "of"
            return f"{texts[phrase[0]]} {link} {' '.join(words)}"
    if len(phrase) == 1 and folded[phrase[0]] in DIMENSIONS and unit is not None:
        # "The bridge is 315 metres long": a dimension of what the sentence is about.
        subject = noun_phrase_left(sentence, start_left, language)
        if subject:
            return join(sentence, subject)
        return DIMENSIONS[folded[phrase[0]]]
    if phrase:
        if partitive and folded[phrase[0]] in {"in", "en"} and found and found[-1].what not in FALLBACK_WORDS:
            # "254 familias damnificadas, 98 de ellas en territorio venezolano": the group, where the part is.
            return f"{found[-1].what} {join(sentence, phrase)}"
        return join(sentence, phrase)
    if unit is not None and unit != "%":
        purpose = _money_purpose(sentence, after)
        if purpose:
            return purpose
    change = sentence.word(start_left - 1) if unit == "%" else ""
    if unit == "%" and change not in CHANGE_WORDS:
        change = CHANGE_AFTER.get(sentence.word(after), "")
    lead_what = found[-1].what if found else ""
    if change in CHANGE_WORDS and lead_what and lead_what not in FALLBACK_WORDS:
        # "1.2 million Venezuelans arrived, up 15 percent": the change of the count before it.
        return f"{CHANGE_WORDS[change][language == 'es']} {found[-1].what}"
    # Both are pure readings of the sentence: the second is only read when the first says nothing.
    fallback = _counted_subject(sentence) or _predicate(sentence, after)
    if fallback:
        return fallback
    left = join(sentence, noun_phrase_left(sentence, start_left, language))
    if left or (unit != "%" and unit not in CURRENCY_CODES):
        return left
    # Nothing in the sentence says what the amount is: say plainly what kind of figure it is.
    return FALLBACK_WHAT["%" if unit == "%" else "money"][language == "es"]


def _previous_figure_label(language: str | None) -> str:
    return "cifra anterior" if language == "es" else "previous figure"


def _refers_back(sentence: Sentence, found: list[Figure], start_left: int, unit: str | None) -> bool:
    """ "up from 326", "frente a unos 400 millones": an earlier value of a count the sentence gave."""
    if not found or not any(figure.unit == unit for figure in found):
        return False
    before, two_before = sentence.word(start_left - 1), sentence.word(start_left - 2)
    changed = two_before in {"up", "down", "rising", "falling", "increase", "drop"}
    return (before == "from" and changed) or (before, two_before) in BACK_REFERENCES


def _money_purpose(sentence: Sentence, after: int) -> str:
    """ "$3.5 million and €20,000 on aid", "US$ 2 millones para 1.200 familias": what the money is for,
    read past the amounts listed with it."""
    kinds, texts, folded, language = sentence.kinds, sentence.texts, sentence.folded, sentence.language
    cursor = after
    for _ in range(8):
        if cursor >= sentence.size:
            return ""
        word = folded[cursor]
        if (
            kinds[cursor] in ("num", "sym")
            or word in NOT_VERBS
            or scale_of(word)
            or word in CURRENCY_SUFFIX
            or word in CURRENCY_PREFIX
        ):
            cursor += 1
            continue
        if word in {"on", "in", "for", "para", "en"}:
            phrase = noun_phrase_right(sentence, cursor + 1, language)
            if phrase:
                return join(sentence, phrase)
            if cursor + 1 < sentence.size and kinds[cursor + 1] == "num":
                rest = noun_phrase_right(sentence, cursor + 2, language)
                if rest:  # "para 1.200 familias": for whom, with the count kept
                    return " ".join([texts[cursor], texts[cursor + 1], *(texts[index] for index in rest)])
        return ""
    return ""


def _counted_subject(sentence: Sentence) -> str:
    """ "The number of X ... rose to N", "La cifra de X ... subió a N": the X."""
    if COUNT_NOUNS.isdisjoint(sentence.folded):
        return ""  # a C-level test first: most sentences have no such noun
    for index, word in enumerate(sentence.folded[:-1]):
        if word in COUNT_NOUNS and sentence.word(index + 1) in {"of", "de", "del"}:
            phrase = noun_phrase_right(sentence, index + 2, sentence.language)
            if phrase:
                return join(sentence, phrase)
    return ""


def _predicate(sentence: Sentence, after: int) -> str:
    """The number is the subject ("Another 11,000 have been displaced"): what happened to them."""
    kinds, folded, size = sentence.kinds, sentence.folded, sentence.size
    cursor = after
    while sentence.word(cursor) in AUXILIARIES:
        cursor += 1
    if cursor == after or cursor >= size or kinds[cursor] != "word":
        return ""
    words: list[int] = []
    while cursor < size and kinds[cursor] == "word" and len(words) < 5:
        word = folded[cursor]
        if words and word in PHRASE_STOP and word not in PREDICATE_LINKS:
            break
        words.append(cursor)
        cursor += 1
    while words and folded[words[-1]] in _PREDICATE_TRIM:
        words.pop()
    return join(sentence, words)
