"""Reading the figures of one sentence: where a number is, whether it counts anything, and its parts.

A figure starts at a digit group or a written-out number; dates, times, years, ages and age limits ("under
21"), durations ("four-day"), ordinals and identifiers ("Flight 302") are dropped here. The reader then puts
together its value and text from what is written around the number (`stories.figures.units`) and what it
counts (`stories.figures.what`).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

from stories.figures.proportions import AFTER_NUMBER, BEFORE_NUMBER, PROPORTION_WORDS, ProportionReading
from stories.figures.units import currency_before, qualifier_before, scale_and_unit
from stories.figures.vocabulary import (
    AGE_LIMIT_LINKS,
    ANAPHORIC,
    BARE_MULTIPLIERS,
    CLOCK_PREPOSITIONS,
    CURRENCY_PREFIX,
    DAY_RANGE_LINKS,
    DETERMINERS,
    ENDING_WORDS,
    HALF_WORDS,
    IDENTIFIER_AFTER,
    IDENTIFIER_WORDS,
    LIMITED_GROUPS,
    MONTHS,
    MULTIPLIER_WORDS,
    NAMED_PAIRS,
    ONE_COPULAS,
    ONE_STATES,
    ORDINAL_SUFFIXES,
    OVER_PARTICLE_VERBS,
    PHRASE_STOP,
    PLACE_ARTICLES,
    PLACE_PREPOSITIONS,
    RATE_BASE_WORDS,
    RATE_BASES,
    RECITED_COUNT,
    STRONG_NUMBER_WORDS,
    TIME_UNITS,
    VAGUE_QUANTIFIERS,
    WEEKDAYS,
)
from stories.figures.what import what_it_counts
from stories.numerals import NUMBER_WORDS, SPANISH_ONLY_NUMBER_WORDS, parse_digits, parse_words


class Figure(NamedTuple):
    """A figure as read from its sentence; ranking scores it and makes the `KeyFigure` callers get."""

    value: float
    text: str
    what: str
    unit: str | None


# `Figure(...)` runs a Python-level `__new__`; the tuple constructor makes the same object in C.
_new_figure = partial(tuple.__new__, Figure)
_ENDING_LINKS = frozenset({"en", "in", "with", "con"})  # "terminada en 3", "ending in 5"


class SentenceReader(ProportionReading):
    """Finds the figures of one sentence."""

    __slots__ = ("found",)
    found: list[Figure]  # set by `figures`: what the sentence's earlier figures were

    def figures(self) -> list[Figure]:
        """The figures of the sentence, in order (call once)."""
        found: list[Figure] = []  # figures already read in this sentence: later ones may refer to them
        self.found = found
        # Only digit groups and number words can start a figure: visit those, not every token (a reading that
        # consumes tokens moves `index` past the candidates it used). A word starts a written number when it
        # is a number word other than an article ("one", "un", "una"), or an article or joiner before a
        # multiplier ("a dozen", "un centenar"); "a", "and" and "y" are among the commonest words there are,
        # so that is tested inline.
        kinds, folded = self.kinds, self.folded
        if STRONG_NUMBER_WORDS.isdisjoint(folded) and PROPORTION_WORDS.isdisjoint(folded):
            # No number word (every multiplier is one), as in most sentences: only digit groups, found by
            # C-level list scans instead of a Python test per token.
            candidates = []
            position = -1
            for _ in range(kinds.count("num")):
                position = kinds.index("num", position + 1)
                candidates.append(position)
        else:
            following = folded[1:]
            following.append("")
            candidates = [
                position
                for position, (kind, word, next_word) in enumerate(zip(kinds, folded, following, strict=True))
                if kind == "num"
                or word in STRONG_NUMBER_WORDS
                or (word in NUMBER_WORDS and next_word in MULTIPLIER_WORDS)
                or word in PROPORTION_WORDS
            ]
        index = 0
        if self.texts and self.texts[0] == "One" and self.language != "es" and candidates[:1] != [0]:
            figure = self._sentence_one()
            if figure is not None:
                found.append(figure)
                index = 2
        size = self.size
        for candidate in candidates:
            if candidate < index:
                continue
            # Proportions and ranges are rare: two set lookups of the neighbours rule them out.
            if (
                folded[candidate] in PROPORTION_WORDS
                or (candidate + 1 < size and folded[candidate + 1] in AFTER_NUMBER)
                or (candidate > 0 and folded[candidate - 1] in BEFORE_NUMBER)
            ):
                special = self._proportion(candidate)
                if special is not None:
                    figure, index = special
                    if figure is not None:
                        found.append(figure)
                    continue
            if kinds[candidate] == "num":
                figure, index = self._from_digits(candidate)
            else:
                figure, index = self._from_words(candidate)
            if figure is not None:
                found.append(figure)
        return found

    def _not_a_count(self, index: int, value: float, raw: str) -> bool:
        sentence = self.text
        start, end = self.span(index)
        before = sentence[start - 1] if start > 0 else " "
        after = sentence[end] if end < len(sentence) else " "
        previous = self.word(index - 1)
        following = self.word(index + 1)
        hyphenated = before == "-" and start >= 2 and sentence[start - 2].isalnum()
        if before.isalpha() or hyphenated:
            return True  # COVID-19, G-20, F-16
        if after in "/:" and end + 1 < len(sentence) and sentence[end + 1].isdigit():
            return True  # 26/02/2019, 10:30
        if before in "/:" and start >= 2 and sentence[start - 2].isdigit():
            return True
        if after == "-" and end + 1 < len(sentence) and sentence[end + 1].isdigit():
            return True  # scores, ranges, phone numbers
        if after in "ºª°":
            return True
        if after.isalpha() and following in ORDINAL_SUFFIXES:
            return True  # 25th, 1er, 2do
        if after == "." and following in {"o", "a"}:
            return True  # 1.º
        # A digit token holds only digits, "." and ",": four decimal digits is `\d{4}` in full.
        if len(raw) == 4 and raw.isdecimal() and 1800 <= value <= 2100:
            return True  # a year
        if previous in MONTHS or following in MONTHS:
            return True
        if following == "de" and self.word(index + 2) in MONTHS:
            return True  # 26 de febrero
        if previous in WEEKDAYS and value <= 31 and raw.isdigit():
            return True  # "el martes 5", "on Tuesday 5"
        if self._in_day_range(index):
            return True  # "del 7 al 9 de marzo", "from March 7 to 9", "entre el 12 y el 14 de junio"
        hyphen_next = index + 1 < self.size and self.texts[index + 1] == "-"
        if following in TIME_UNITS or (hyphen_next and self.word(index + 2) in TIME_UNITS):
            return True  # durations and ages: "34 years old", "34-year-old", "hace 20 años"
        if previous in {"aged", "age", "edad"}:
            return True
        if previous in AGE_LIMIT_LINKS and self._is_age_limit(index, index + 1, value):
            return True  # "six players under 21", "mayores de 65", "sub 20"
        if previous in {"las", "la"} and self.word(index - 2) in {"a", "desde", "hasta"} and value <= 24:
            return True  # "a las 10"
        if following in {"h", "hrs", "hs"} or (
            following in {"a", "p"}
            and (self.word(index + 2) == "m" or (self.word(index + 2) == "" and self.word(index + 3) == "m"))
        ):
            return True  # 10 a.m., 6 p.m.
        if previous in CLOCK_PREPOSITIONS and value <= 24 and raw.isdigit() and not following:
            return True  # "leave home before 5.", "until 6, when"
        if previous in IDENTIFIER_WORDS or following in IDENTIFIER_AFTER:
            return True  # "la línea 123", "the 165 hotline"
        if previous in RATE_BASE_WORDS and value in RATE_BASES:
            return True  # "39 homicidios por cada 100.000 habitantes", "per 100,000 people"
        if previous in _ENDING_LINKS:
            if self.word(index - 2) in ENDING_WORDS:
                return True  # "placa terminada en 3", "plates ending in 5"
        elif (previous in DAY_RANGE_LINKS or before == ",") and self._ending_digits(index):
            return True  # "placa terminada en 3 y 4"
        if (
            index > 1
            and self.kinds[index - 1] == "word"
            and self.texts[index - 1][:1].isupper()
            and previous not in CURRENCY_PREFIX
            and not self._counts_after_a_place(index)
        ):
            return True  # "Flight 302", "Boeing 737", "Resolución 2231"
        return (
            index > 0
            and self.texts[index - 1] == "("
            and index + 1 < self.size
            and self.texts[index + 1] == ")"
            and value < 120
        )  # "Juan Pérez (34)"

    def _counts_after_a_place(self, index: int) -> bool:
        """Spanish headlines put the place before what they count ("Recuperan en Maicao 27 vehículos",
        "Llegan al Táchira 90 toneladas"): a number after a name that a preposition introduces, and before a
        plural word in lower case, counts that word. An identifier follows its noun instead ("aviones Boeing
        737 nuevos", "la Resolución 2231")."""
        if self.language != "es" or index + 1 >= self.size or self.kinds[index + 1] != "word":
            return False
        following = self.texts[index + 1]
        if not (following[:1].islower() and following.endswith("s") and len(following) > 3):
            return False
        before_name = self.word(index - 2)
        if before_name in PLACE_ARTICLES:  # "en La Guajira", "desde El Amparo"
            before_name = self.word(index - 3)
        return before_name in PLACE_PREPOSITIONS

    def _ending_digits(self, index: int) -> bool:
        """Digits a plate or code ends in: "placa terminada en 3 y 4", "plates ending in 5 or 6"."""
        cursor = index
        while cursor >= 2 and (self.word(cursor - 1) in DAY_RANGE_LINKS or self.texts[cursor - 1] == ","):
            if self.kinds[cursor - 2] != "num":
                break
            cursor -= 2
        return self.word(cursor - 1) in _ENDING_LINKS and self.word(cursor - 2) in ENDING_WORDS

    def _is_age_limit(self, first: int, after: int, value: float) -> bool:
        """An age or size limit, not a count: "players under 21", "people over 65", "aged under 18",
        "menores de 18", "mayores de 65", "sub 20". `first` is the number's first token, `after` the next;
        the word before the number is one of `AGE_LIMIT_LINKS`."""
        if value > 120 or value != int(value):
            return False
        previous = self.word(first - 1)
        if previous == "sub":
            return True
        before = self.word(first - 2)
        if previous == "de":
            return before in {"menores", "mayores"}
        if previous not in {"under", "over"}:
            return False
        # Nothing counted follows ("players under 21.", "children under five were vaccinated") and the limit
        # qualifies the people before it, not a verb ("killed over 100", "rose to over 100").
        following = self.word(after)
        if following and following not in PHRASE_STOP and following != "s":
            return False
        return (
            before == "aged"
            or before in LIMITED_GROUPS
            or (len(before) > 3 and before.endswith("s") and before not in PHRASE_STOP)
        )

    def _day_number(self, index: int) -> bool:
        """A plain digit group from 1 to 31."""
        text = self.texts[index]
        return text.isdigit() and 1 <= int(text) <= 31

    def _is_day(self, index: int) -> bool:
        """A day number next to a month or weekday name: "March 7", "9 de marzo", "lunes 3", "9 March"."""
        if self.kinds[index] != "num" or not self._day_number(index):
            return False
        previous, following = self.word(index - 1), self.word(index + 1)
        return (
            previous in MONTHS
            or previous in WEEKDAYS
            or following in MONTHS
            or (following == "de" and self.word(index + 2) in MONTHS)
        )

    def _in_day_range(self, index: int) -> bool:
        """A day number joined by "to"/"al"/"y"/"," to a day of a date: the whole range or list is a date."""
        if not self._day_number(index):
            return False
        for step in (1, -1):
            cursor = index
            for _ in range(4):  # at most a few days listed: "7, 8 y 9 de marzo"
                link = cursor + step
                if link < 0 or link >= self.size:
                    break
                if self.texts[link] != "," and self.word(link) not in DAY_RANGE_LINKS:
                    break
                other = link + step
                if self.word(other) in {"el", "the"}:
                    other += step  # "entre el 12 y el 14"
                if not 0 <= other < self.size or self.kinds[other] != "num":
                    break
                if not self._day_number(other):
                    break
                if self._is_day(other):
                    return True
                cursor = other
        return False

    def _build(self, first: int, text_end: int, after: int, value: float, unit: str | None) -> Figure | None:
        start_char = self.start(first)
        end_char = self.end(text_end - 1)
        # One search serves both the figure's text ("at least 20") and where the phrase on its left ends.
        qualifier = qualifier_before(self.text[:start_char])
        start_left = first  # the first token of the figure including its qualifier ("at least 20" -> "at")
        if qualifier is not None:
            while start_left > 0 and self.start(start_left - 1) >= qualifier.start():
                start_left -= 1
            if start_left == first - 1 and self.word(start_left - 1) in OVER_PARTICLE_VERBS:
                # "handed over 31 rifles": "over" is the verb's particle, not "more than".
                qualifier, start_left = None, first
        written = self.text[start_char:end_char].rstrip(" .,;:")
        text = f"{qualifier.group(0).strip()} {written}" if qualifier else written
        what = what_it_counts(self, self.found, after, start_left, unit)
        if not what and unit is None:
            return None  # a bare count with nothing counted is more often noise than news
        return _new_figure((value, text, what, unit))

    def _from_digits(self, index: int) -> tuple[Figure | None, int]:
        raw = self.texts[index]
        value = parse_digits(raw, self.language)
        if value is None or self._not_a_count(index, value, raw):
            return None, index + 1
        currency, first = currency_before(self, index)
        multiplier, unit, after, text_end = scale_and_unit(self, index + 1, currency)
        if value == 0 and unit != "%":
            return None, after
        return self._build(first, text_end, after, value * multiplier, unit), after

    def _from_words(self, index: int) -> tuple[Figure | None, int]:
        kinds = self.kinds
        words: list[str] = []
        cursor = index
        while cursor < self.size and kinds[cursor] == "word":
            words.append(self.folded[cursor])
            cursor += 1
            if cursor < self.size and self.texts[cursor] == "-":
                cursor += 1  # "twenty-five"
        if self.language == "en" and words and words[0] in SPANISH_ONLY_NUMBER_WORDS:
            return None, index + 1
        parsed = parse_words(words)
        if parsed is None:
            return None, index + 1
        value, used = parsed
        # Count tokens actually used, including hyphens skipped.
        consumed = index
        taken = 0
        while taken < used and consumed < self.size:
            if kinds[consumed] == "word":
                taken += 1
            consumed += 1
        if value < 2 or (used == 1 and words[0] in {"a", "y", "and"}):
            return None, index + 1
        if self._in_a_spanish_name(index):
            return None, index + used
        previous = self.word(index - 1)
        if (
            previous in ANAPHORIC
            and value < 10
            and not self._whole_of_part(index)
            and self.word(consumed) not in RECITED_COUNT
            and not self._opens_with_a_count(index, consumed)
        ):
            return None, index + used
        bare = used == 1 and words[0] in BARE_MULTIPLIERS  # "hundred", "docena" with no number counting it
        half = previous in HALF_WORDS and (bare or words[0] in {"a", "un", "una"})
        if bare and not half and (previous in VAGUE_QUANTIFIERS or self.word(consumed) == "of"):
            # "several hundred", "a few dozen", "hundred of" are not counts. Spanish "docena" and "centenar"
            # always take "de" ("media docena de granadas"); a number before them counts them either way
            # ("two dozen of the soldiers", "dos docenas de granadas").
            return None, consumed
        unit_word = self.word(consumed + 1 if self._hyphen(consumed) else consumed)
        if unit_word in TIME_UNITS or self.word(consumed) in ORDINAL_SUFFIXES:
            return None, consumed  # "four days", "four-day blockade", "twenty-fifth"
        if previous in AGE_LIMIT_LINKS and self._is_age_limit(index, consumed, value):
            return None, consumed  # "children under five"
        currency, first = currency_before(self, index)
        if half:
            value, first = value / 2, index - 1  # "half a dozen", "media docena", "medio centenar"
        multiplier, unit, after, text_end = scale_and_unit(self, consumed, currency)
        return self._build(first, text_end, after, value * multiplier, unit), after

    def _sentence_one(self) -> Figure | None:
        """ "One child remains missing", "One man was killed in the blast", "One soldier has been
        wounded": an English sentence that opens with "One", a singular noun and a state or passive saying
        what happened to it counts one. Anywhere else, and in Spanish ("Un niño sigue desaparecido"),
        "one"/"un"/"una" is an article or a pronoun; "One official said", "One employee asked", "One thing is
        clear" are not counts."""
        if self.size < 4 or self.kinds[1] != "word" or not self.texts[1].islower():
            return None
        folded = self.folded
        noun = folded[1]
        if (
            noun in PHRASE_STOP
            or noun in DETERMINERS
            or noun in TIME_UNITS
            or noun in NUMBER_WORDS
            or noun == "of"
        ):
            return None
        verb = folded[2]
        if verb in ONE_COPULAS:
            state = 3
        elif verb in {"has", "had"} and folded[3] == "been":
            state = 4
        else:
            return None
        if state >= self.size or self.kinds[state] != "word" or not self.texts[state].islower():
            return None
        word = folded[state]
        if not (word in ONE_STATES or (len(word) > 4 and word.endswith("ed"))):
            return None
        return _new_figure((1.0, self.texts[0], f"{self.texts[1]} {self.texts[state]}", None))

    def _in_a_spanish_name(self, index: int) -> bool:
        """ "la vereda Campo Dos", "el caserío Puerto Tres": a capitalised number word after a capitalised
        word inside a Spanish sentence is part of a place's name (Spanish headlines are not written in title
        case, so "Rebels Kill Two" is English only)."""
        return (
            self.language == "es"
            and index > 1
            and self.texts[index][:1].isupper()
            and not self.texts[index].isupper()  # "DEPORTACIÓN DE DOS PERIODISTAS": a headline in capitals
            and self.kinds[index - 1] == "word"
            and self.texts[index - 1][:1].isupper()
        )

    def _opens_with_a_count(self, index: int, consumed: int) -> bool:
        """ "Los cinco soldados fueron entregados...": a teaser's sentence that opens with the article and a
        small number restates the headline's count, except of the pair a border story keeps naming ("Los dos
        países", "The two governments")."""
        return index == 1 and self.word(consumed) not in NAMED_PAIRS

    def _whole_of_part(self, index: int) -> bool:
        """ "cuatro de los seis venezolanos", "three of the five fishermen": the number after the article is
        the whole a counted part is taken from, itself a count."""
        if self.word(index - 2) not in {"of", "de"} or index < 3 or self._hyphen(index + 1):
            return False  # "two of the five-time winners"
        return self.kinds[index - 3] == "num" or self.folded[index - 3] in STRONG_NUMBER_WORDS

    def _hyphen(self, index: int) -> bool:
        return index < self.size and self.texts[index] == "-"
