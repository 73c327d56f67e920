"""The noun phrase a number counts, read from the tokens around it.

Right of the number: "1.6 million *civilians in the colectivos*"; left of its verb: "*the death toll* rose to
45"; the subject of "X number(s)/has N members". Phrases stop at verbs, which are told from nouns by word
lists and suffixes in both languages. A phrase is a list of token indices.
"""

from __future__ import annotations

from stories.figures.tokens import Sentence
from stories.figures.vocabulary import (
    AMOUNT_ADJECTIVES,
    AUXILIARIES,
    CURRENCY_SUFFIX,
    DETERMINERS,
    HAVE_VERBS,
    IRREGULAR_VERBS,
    LEFT_LINKS,
    LEFT_PREPOSITIONS,
    LEFT_STOP_VERBS,
    MONTHS,
    NOT_VERBS,
    OBJECT_STARTS,
    PERCENT_PARTS,
    PHRASE_LINKS,
    PHRASE_STOP,
    PHRASE_TRIM,
    QUOTES,
    RATE_UNITS,
    RATE_WORDS,
    TIME_DEICTICS,
    TIME_UNITS,
)
from stories.numerals import scale_of

MAX_WHAT_WORDS = 6


# Every ending the rules below look at: a word with none of them (most nouns) is decided without them.
_VERB_ENDINGS = ("ing", "ly", "mente", "aron", "ieron", "aban", "ando", "iendo", "ed")
_PRETERITE = ("ó", "ío")  # Spanish preterite endings, of the word as written: "desertó", "huyó"


def _is_verbish(sentence: Sentence, index: int, previous: int | None, language: str | None) -> bool:
    word = sentence.folded[index]
    text = sentence.texts[index]
    if word in PHRASE_STOP:
        return True
    if language != "es" and word in IRREGULAR_VERBS and previous is not None and text.islower():
        return True  # "the number of Venezuelans in Colombia rose"
    if not word.endswith(_VERB_ENDINGS) and not text.endswith(_PRETERITE):
        return False
    if language != "es" and len(word) > 4 and word.endswith("ing"):
        return True
    if len(word) > 4 and word.endswith(("ly", "mente")) and word not in {"family", "supply", "italy"}:
        return True
    if word.endswith(("aron", "ieron", "aban", "ando", "iendo")) and len(word) > 5:
        return True
    if text.endswith(_PRETERITE) and text.islower() and len(word) > 3:
        return True  # Spanish preterite: "desertó", "huyó"
    # An -ed word after a plain noun is a verb ("soldiers deserted"); after a possessive or link it is an
    # adjective ("Venezuela's armed forces").
    return (
        word.endswith("ed")
        and previous is not None
        and sentence.kinds[previous] == "word"
        and not sentence.texts[previous].endswith(("'s", "’s"))
        and sentence.folded[previous] not in PHRASE_LINKS
    )


def _looks_like_past_tense(sentence: Sentence, index: int) -> bool:
    word = sentence.folded[index]
    text = sentence.texts[index]
    return text.islower() and len(word) > 4 and (word.endswith(("ed", "aron", "ieron")) or text.endswith("ó"))


def noun_phrase_right(sentence: Sentence, start: int, language: str | None) -> list[int]:
    kinds, texts, folded, size = sentence.kinds, sentence.texts, sentence.folded, sentence.size
    english, spanish = language != "es", language == "es"
    phrase: list[int] = []
    index = start
    while index < size and len(phrase) < MAX_WHAT_WORDS:
        text = texts[index]
        if phrase and text in QUOTES:
            index += 1
            continue  # 'civilians in the "colectivos"'
        word = folded[index]
        if kinds[index] != "word" or word in MONTHS:
            break
        rate_unit = folded[index + 1] if index + 1 < size else ""
        if not phrase:
            if word in PHRASE_STOP:
                break
        else:
            previous = phrase[-1]
            # `_is_verbish` only for a word it can take for a verb (the test inlined is its first lines).
            if (
                word in PHRASE_STOP
                or word in IRREGULAR_VERBS
                or word.endswith(_VERB_ENDINGS)
                or text.endswith(_PRETERITE)
            ) and _is_verbish(sentence, index, previous, language):
                break
            if (
                english
                and rate_unit in OBJECT_STARTS
                and text.islower()
                and word not in PHRASE_LINKS
                and word not in RATE_WORDS
            ):
                break  # "40,000 people cross it every day": a word taking an object is the verb
            if word in RATE_WORDS and (rate_unit in TIME_UNITS or rate_unit in RATE_UNITS):
                phrase.extend((index, index + 1))  # "trucks a day": the rate ends the phrase
                break
            if (
                spanish
                and folded[previous].endswith("s")
                and folded[previous] not in PHRASE_LINKS
                and text.islower()
                and not word.endswith("s")
                and word not in PHRASE_LINKS
            ):
                break  # Spanish agreement: "venezolanos viven" - a singular word after a plural is a verb
        phrase.append(index)
        index += 1
    while phrase and folded[phrase[-1]] in PHRASE_TRIM:
        phrase.pop()
    while phrase and (folded[phrase[0]] in DETERMINERS or folded[phrase[0]] in {"de", "of"}):
        phrase.pop(0)
    return phrase


def noun_phrase_left(sentence: Sentence, end: int, language: str | None) -> list[int]:
    """The noun phrase before "<verb> (to) N": "the death toll rose to 45" -> "death toll",
    "el comercio alcanzó los 1.200 millones" -> "comercio"."""
    kinds, folded = sentence.kinds, sentence.folded
    index = end - 1
    while (
        index >= 0
        and kinds[index] == "word"
        and (folded[index] in LEFT_PREPOSITIONS or folded[index] in DETERMINERS)
    ):
        index -= 1
    skipped = index
    while index >= 0 and (
        kinds[index] in ("num", "sym")
        or folded[index] in PERCENT_PARTS
        or (index < skipped and folded[index] in DETERMINERS)
        or folded[index] in AMOUNT_ADJECTIVES
        or (folded[index] in DETERMINERS and folded[index + 1] in AMOUNT_ADJECTIVES)
    ):
        index -= 1  # "Remittances rose 15 percent to $1.2 billion": past the other figure to the verb
    if index < 0 or kinds[index] != "word" or folded[index] in NOT_VERBS:
        return []  # "$3.5 million and €20,000": no verb between the phrase and the number
    if scale_of(folded[index]) or folded[index] in CURRENCY_SUFFIX:
        return []
    index -= 1  # the verb
    while index >= 0 and kinds[index] == "word" and folded[index] in AUXILIARIES:
        index -= 1  # "has risen", "ha subido"
    if language != "es" and index >= 1 and folded[index] == "to":
        index -= 1  # "expect trade between the two countries to reach $1.2 billion"
    phrase: list[int] = []
    while index >= 0 and len(phrase) < MAX_WHAT_WORDS:
        word = folded[index]
        if phrase and (word in LEFT_LINKS or word in DETERMINERS):
            # "trade across the border", "comercio entre los dos países": a link and its article join the
            # head noun on their left to the phrase.
            head = index
            while (
                head >= 0
                and kinds[head] == "word"
                and (folded[head] in LEFT_LINKS or folded[head] in DETERMINERS)
            ):
                head -= 1
            linked = any(folded[i] in LEFT_LINKS for i in range(head + 1, index + 1))
            if linked and head >= 0 and _content_word(sentence, head, language):
                phrase[:0] = range(head + 1, index + 1)
                index = head
                continue
            break
        if kinds[index] != "word" or word in DETERMINERS or word in PHRASE_STOP:
            break
        if word in LEFT_STOP_VERBS:
            break
        if _is_verbish(sentence, index, None, language) and not phrase:
            break
        if _looks_like_past_tense(sentence, index):
            if phrase:
                break  # "Aid groups handed out 3": the verb ends the phrase on its left
            index -= 1  # a particle verb ("handed out"): skip its verb too
            continue
        phrase.insert(0, index)
        index -= 1
    while phrase and (folded[phrase[0]] in PHRASE_LINKS or folded[phrase[0]] in LEFT_LINKS):
        phrase.pop(0)
    return phrase


def is_time_phrase(sentence: Sentence, phrase: list[int]) -> bool:
    """ "day earlier", "this year", "el año pasado": a time, never what a number counts."""
    if not phrase:
        return False
    first = sentence.folded[phrase[0]]
    second = sentence.folded[phrase[1]] if len(phrase) > 1 else ""
    return first in TIME_UNITS or (first in TIME_DEICTICS and second in TIME_UNITS)


def _content_word(sentence: Sentence, index: int, language: str | None) -> bool:
    word = sentence.folded[index]
    return (
        sentence.kinds[index] == "word"
        and word not in PHRASE_STOP
        and word not in DETERMINERS
        and word not in LEFT_STOP_VERBS
        and not _is_verbish(sentence, index, None, language)
    )


def subject_before_verb(sentence: Sentence, end: int) -> list[int] | None:
    """For "X number(s)/has N members": the X, when the word before the number is such a verb."""
    kinds, folded = sentence.kinds, sentence.folded
    index = end - 1
    if index >= 1 and folded[index] == "con":
        index -= 1  # "cuenta con"
    if index < 1 or kinds[index] != "word" or folded[index] not in HAVE_VERBS:
        return None
    phrase: list[int] = []
    index -= 1
    while index >= 0 and len(phrase) < 4:
        if kinds[index] != "word" or folded[index] in PHRASE_STOP:
            break
        phrase.insert(0, index)
        index -= 1
        if folded[phrase[0]] in DETERMINERS:
            break  # "la Fuerza Armada": the article belongs to the phrase and starts it
    return phrase if phrase and folded[phrase[-1]] not in DETERMINERS else None


def join(sentence: Sentence, phrase: list[int]) -> str:
    """The phrase as text: tokens carry their text, so joining them drops stray quotes inside the phrase."""
    texts = sentence.texts
    return " ".join([texts[index] for index in phrase])
