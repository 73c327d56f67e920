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
    CLITICS,
    COMPARATIVES,
    COUNT_NOUNS,
    CURRENCY_CODES,
    CURRENCY_PREFIX,
    CURRENCY_SUFFIX,
    DETERMINERS,
    DIMENSIONS,
    EARLIER_WORDS,
    ELIDED_LINKS,
    FALLBACK_WHAT,
    FALLBACK_WORDS,
    IRREGULAR_PAST,
    MEMBERSHIP_NOUNS,
    MONTHS,
    MOST_WORDS,
    NOT_VERBS,
    OBJECT_STARTS,
    PARTITIVE_PRONOUNS,
    PHRASE_STOP,
    PREDICATE_INNER,
    PREDICATE_LINKS,
    PRO_VERBS,
    RELATIONAL_NOUNS,
    REPORTED_STARTS,
    REPORTING_VERBS,
    STRONG_NUMBER_WORDS,
    THAN,
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
        elif pronoun in {"the", "los", "las"} and unit in {None, "%"} and _is_number(sentence, after + 2):
            # "cuatro de los seis venezolanos", "three of the five fishermen": a part of a counted whole.
            return _part_of_whole(sentence, after + 2, start_left, language)
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
    if unit is None and not partitive:
        said = _comparison(sentence, after) or _subject_predicate(sentence, after, start_left, language)
        if said:
            return said
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
    if not left and unit is None:
        return _elided_noun(sentence, after, start_left, language)
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


def _is_number(sentence: Sentence, index: int) -> bool:
    """A digit group or a number word other than "one"/"un"/"una" at `index`, not the start of a compound
    adjective ("the five-time winner")."""
    return (
        0 <= index < sentence.size
        and (sentence.kinds[index] == "num" or sentence.folded[index] in STRONG_NUMBER_WORDS)
        and (index + 1 >= sentence.size or sentence.texts[index + 1] != "-")
    )


def _part_of_whole(sentence: Sentence, whole: int, start_left: int, language: str | None) -> str:
    """ "cuatro de los seis venezolanos": the part counts what the whole (starting at `whole`) counts, or the
    plural noun it completes ("los cuerpos de cuatro de los seis": bodies)."""
    folded = sentence.folded
    head = start_left - 2
    if sentence.word(start_left - 1) in {"of", "de"} and head >= 0 and sentence.kinds[head] == "word":
        word = folded[head]
        if (
            len(word) > 3
            and word.endswith("s")
            and word not in PHRASE_STOP
            and word not in DETERMINERS
            and sentence.texts[head].islower()
        ):
            return sentence.texts[head]
    end = whole
    while _is_number(sentence, end):
        end += 1  # "of the two hundred"
    return join(sentence, noun_phrase_right(sentence, end, language))


def _comparison(sentence: Sentence, after: int) -> str:
    """ "75,000 more than in June", "61.000 más que en diciembre": the count is a difference, labelled by the
    comparison it states."""
    if sentence.word(after) not in COMPARATIVES or sentence.word(after + 1) not in THAN:
        return ""
    kinds, folded = sentence.kinds, sentence.folded
    words = [after, after + 1]
    cursor = after + 2
    while cursor < sentence.size and kinds[cursor] == "word" and len(words) < 6:
        word = folded[cursor]
        if word in PHRASE_STOP and word not in PREDICATE_LINKS:
            break
        words.append(cursor)
        cursor += 1
    while len(words) > 2 and folded[words[-1]] in _PREDICATE_TRIM:
        words.pop()
    return join(sentence, words) if len(words) > 2 else ""


def _finite_verb(sentence: Sentence, index: int, language: str | None, appositive: bool) -> bool:
    """Whether the word at `index`, right after a count, is the count's verb: a reporting verb; a Spanish
    past or imperfect plural ("siguieron", "cruzaban", "vivían"); in English a common irregular past, or an
    -ed verb where no noun follows it ("travelled on", "used" after an appositive count), since "15 armed
    men" is an adjective."""
    if index >= sentence.size or sentence.kinds[index] != "word" or not sentence.texts[index].islower():
        return False
    word = sentence.folded[index]
    if word in REPORTING_VERBS:
        return True
    if language == "es":
        # Plural past and imperfect endings, which no plural noun has.
        return len(word) > 5 and word.endswith(("aron", "ieron", "aban", "ian"))
    if word in IRREGULAR_PAST:
        return True
    if len(word) < 4 or not word.endswith("ed"):
        return False
    following = sentence.word(index + 1)
    return appositive or not following or following in PHRASE_STOP or following in OBJECT_STARTS


def _subject_predicate(sentence: Sentence, after: int, start_left: int, language: str | None) -> str:
    """The count is the subject of a verb right after it ("1,845 travelled on into Colombia's interior",
    "Most of them, 31,020, used border cards", "31.020 lo hicieron con tarjeta"): what the verb says."""
    texts, folded = sentence.texts, sentence.folded
    cursor = after
    # "Most of them, 31,020, used": a count set off by commas after the pronoun it counts ("Olsen, 63,
    # graduated" is an age).
    appositive = (
        cursor < sentence.size
        and texts[cursor] == ","
        and start_left > 1
        and texts[start_left - 1] == ","
        and sentence.word(start_left - 2) in PARTITIVE_PRONOUNS
    )
    if appositive:
        cursor += 1
    if language == "es" and sentence.word(cursor) in CLITICS:
        cursor += 1  # "lo hicieron", "se quedaron"
        if folded[cursor - 1] == "lo" and sentence.word(cursor) in PRO_VERBS:
            return _verb_phrase(sentence, cursor + 1)  # "lo hicieron con tarjeta": what they did is the rest
    if sentence.word(cursor) in PRO_VERBS and sentence.word(cursor + 1) == "so":
        return _verb_phrase(sentence, cursor + 2)  # "did so with passports"
    if not _finite_verb(sentence, cursor, language, appositive):
        return ""
    if folded[cursor] in REPORTING_VERBS:
        if sentence.word(cursor + 1) not in REPORTED_STARTS:
            return ""
        cursor += 1
        while sentence.word(cursor) in REPORTED_STARTS:
            cursor += 1  # "said (that) they intended to stay": what they said
    return _verb_phrase(sentence, cursor)


def _verb_phrase(sentence: Sentence, cursor: int) -> str:
    """Up to five words from `cursor`, through links, particles and possessives, to the next clause."""
    kinds, folded = sentence.kinds, sentence.folded
    words: list[int] = []
    while cursor < sentence.size and kinds[cursor] == "word" and len(words) < 5:
        word = folded[cursor]
        if word in MONTHS or (
            words and word in PHRASE_STOP and word not in PREDICATE_LINKS and word not in PREDICATE_INNER
        ):
            break
        words.append(cursor)
        cursor += 1
    while words and (folded[words[-1]] in _PREDICATE_TRIM or folded[words[-1]] in PREDICATE_INNER):
        words.pop()
    return join(sentence, words)


def _elided_noun(sentence: Sentence, after: int, start_left: int, language: str | None) -> str:
    """ "la ciudad con más casos, con 1.250", "the city with the most cases, with 1,250": a bare count after
    "con"/"with" elides the noun the sentence compared before it."""
    if sentence.word(start_left - 1) not in ELIDED_LINKS or sentence.word(after):
        return ""
    folded = sentence.folded
    for index in range(start_left - 2, -1, -1):
        if folded[index] in MOST_WORDS and sentence.kinds[index] == "word":
            phrase = noun_phrase_right(sentence, index + 1, language)
            if phrase:
                return join(sentence, phrase)
    return ""
