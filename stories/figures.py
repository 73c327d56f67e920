"""Key figures: the numbers in a story with what they count, in English and Spanish.

A figure is a count, an amount of money or a percentage, found with general rules (no per-story patterns):
digits in either grouping convention, scale words, written-out numbers, an optional "more than"/"más de"
qualifier kept in the text. Dates, times, years, ages, durations, ordinals and identifiers ("Flight 302")
are not figures. `what` is the noun phrase the number counts, read from the same sentence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from stories.cleanup import split_sentences
from stories.model import KeyFigure
from stories.numerals import (
    NUMBER_WORDS,
    SHORT_SCALES,
    WORD_NUMBERS,
    fold,
    parse_digits,
    parse_words,
    scale_of,
)

_TOKEN = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*)"
    r"|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)"
    r"|(?P<sym>US\$|R\$|COL\$|[$€£%])"
    r"|(?P<punct>[^\w\s])"
)
_QUALIFIER = re.compile(
    r"(?:\b(?:more\s+than|over|at\s+least|about|around|nearly|almost|some|up\s+to|fewer\s+than|less\s+than"
    r"|roughly|approximately|an\s+estimated|as\s+many\s+as|close\s+to|at\s+most|just\s+over|just\s+under"
    r"|más\s+de|mas\s+de|menos\s+de|al\s+menos|por\s+lo\s+menos|unos|unas|cerca\s+de|casi|alrededor\s+de"
    r"|aproximadamente|hasta|poco\s+más\s+de|más\s+de\s+un|un\s+estimado\s+de|como\s+mínimo))\s+$",
    re.IGNORECASE,
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_MONTHS = _word_set(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
    ene abr ago dic"""
)
_WEEKDAYS = _word_set(
    """monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
    lunes martes miercoles jueves viernes sabado domingo"""
)
# Words that join two day numbers of one date range or list: "del 7 al 9 de marzo", "from March 7 to 9",
# "entre el 12 y el 14 de junio", "7, 8 and 9 March".
_DAY_RANGE_LINKS = _word_set("to and through thru till until or al a y e o hasta")
_TIME_UNITS = _word_set(
    """second seconds minute minutes hour hours hr hrs day days week weeks month months year years decade
    decades century centuries segundo segundos minuto minutos hora horas dia dias semana semanas mes meses
    ano anos decada decadas siglo siglos am pm"""
)
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th", "o", "a", "er", "era", "ro", "do", "da", "to", "ta"})
_IDENTIFIER_WORDS = _word_set(
    """article articulo decree decreto law ley resolution resolucion route ruta number no num page pagina
    chapter capitulo room line linea flight vuelo gate puerta km kilometro kilometer highway carretera
    section seccion paragraph item lot code codigo"""
)
_CURRENCY_PREFIX = {
    "$": "USD", "us$": "USD", "usd": "USD", "us": "USD", "€": "EUR", "eur": "EUR", "£": "GBP",
    "gbp": "GBP", "r$": "BRL", "col$": "COP", "cop": "COP", "ves": "VES", "bs": "VES", "bss": "VES",
}  # fmt: skip
_CURRENCY_SUFFIX = {
    "dollars": "USD", "dollar": "USD", "dolares": "USD", "dolar": "USD", "usd": "USD", "euros": "EUR",
    "euro": "EUR", "eur": "EUR", "pesos": "COP", "peso": "COP", "cop": "COP", "bolivares": "VES",
    "bolivars": "VES", "bolivar": "VES", "ves": "VES", "pounds": "GBP", "reais": "BRL", "reales": "BRL",
}  # fmt: skip
_MEASURE_WORDS = {
    "t": "tonnes tonne tons ton toneladas tonelada",
    "l": "litres litre liters liter litros litro",
    "gal": "gallons gallon galones galon",
    "bbl": "barrels barrel barriles barril",
    "km": "kilometres kilometre kilometers kilometer km kilometros kilometro",
    "mi": "miles mile millas milla",
    "m": "metres metre meters meter metros metro",
    "ha": "hectares hectare hectareas hectarea",
    "MW": "megawatts megawatt megavatios megavatio mw",
    "kg": "kilograms kilogram kilos kilo kg kilogramos kilogramo",
}
# Longest first: "cubic feet" before a bare unit, "barrels per day" before "barrels".
_MEASURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("barrels", "per", "day"), "bpd"),
    (("barriles", "por", "dia"), "bpd"),
    (("barriles", "diarios"), "bpd"),
    (("cubic", "feet"), "ft3"),
    (("pies", "cubicos"), "ft3"),
    (("cubic", "metres"), "m3"),
    (("cubic", "meters"), "m3"),
    (("metros", "cubicos"), "m3"),
    *(((word,), unit) for unit, words in _MEASURE_WORDS.items() for word in words.split()),
)
_MEASURES_BY_FIRST: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _words, _unit in _MEASURES:
    _MEASURES_BY_FIRST.setdefault(_words[0], []).append((_words, _unit))
_PERCENT_WORDS = (("percent",), ("per", "cent"), ("por", "ciento"), ("porciento",), ("pct",))
# Words that end the noun phrase a number counts: verbs, auxiliaries, relatives, conjunctions, adverbs.
_PHRASE_STOP = _word_set(
    """have has had having are were is was be been being will would could can may might must should shall do
    does did said says say told according who whom whose which that these those this since after before when
    while because as than but and or nor if to for with by at on into onto from per than versus vs against
    during until till via about around over under between among across through despite without within where
    also already still just only now then there here they we he she it them us its their his her our your
    reportedly allegedly including
    han ha habia habian hay son fueron eran era es esta estan estaba estaban sera seran seria serian fue
    que quien quienes cual cuales cuyo cuya donde cuando mientras porque como segun desde tras hacia hasta
    para por con sin sobre entre contra durante ante bajo y e o u pero sino ya tambien aun solo se le les lo
    su sus al cada mas menos muy"""
)
# Inside a noun phrase these may join its parts: "members of Venezuela's armed forces", "civiles en los".
_PHRASE_LINKS = frozenset({"of", "in", "the", "de", "del", "en", "la", "el", "los", "las", "a", "an"})
_DETERMINERS = frozenset({"the", "a", "an", "la", "el", "los", "las", "un", "una", "unos", "unas"})
# A bare "members"/"miembros" says little; "Venezuela's armed forces number 365,000 members" means members
# of the armed forces, so the phrase before the verb completes it.
_RELATIONAL_NOUNS = _word_set(
    """members member staff employees workers personnel troops soldiers residents inhabitants people strong
    miembros efectivos integrantes trabajadores empleados habitantes personas"""
)
_HAVE_VERBS = _word_set(
    """number numbers numbered total totals totalled totaled has have had comprise comprises include
    includes counts count tiene tienen tenia tenian suma suman sumaban agrupa agrupan cuenta cuentan reune
    reunen"""
)
_PERCENT_PARTS = frozenset({"percent", "cent", "per", "por", "ciento", "porciento", "pct"})
# Common verbs of numbers that no suffix rule catches.
_IRREGULAR_VERBS = _word_set(
    """rose rise rises fell fall falls grew grow grows stood stands hit hits reach reaches top tops topped
    exceed exceeds total totals"""
)
# Words that cannot be the verb of "<phrase> <verb> N": a conjunction or list comma joins two amounts.
_NOT_VERBS = _word_set("and or y e o u nor but pero ni plus")
# Links inside a noun phrase read right to left ("trade across the border").
_LEFT_LINKS = _word_set("of in across at on along between through to de del en entre a")
# Adjectives between a verb and its amount: "reached a record $160 billion".
_AMOUNT_ADJECTIVES = _word_set("record new total combined estimated additional further extra recorde nuevo")
# Verbs that take a clause ("expect X to reach N", "esperan que X llegue a N"): the phrase ends before them.
_LEFT_STOP_VERBS = _word_set(
    """expect expects expected want wants wanted plan plans planned hope hopes hoped forecast forecasts
    project projects projected estimate estimates estimated need needs allow allows see sees saw expected
    espera esperan esperaba preve preven calcula calculan estima estiman proyecta proyectan"""
)
_TIME_DEICTICS = _word_set("this last next past previous same este esta ese esa aquel pasado proximo mismo")
_EARLIER_WORDS = _word_set("earlier before ago previously prior antes anterior atras")
# "(a) <word> from N" / "<word> a N": the number is the earlier value a change is measured from.
_BACK_REFERENCES = frozenset(
    {("from", "compared"), ("with", "compared"), ("to", "compared"), ("versus", ""), ("a", "frente"),
     ("con", "comparacion"), ("a", "respecto"), ("de", "respecto")}
)  # fmt: skip
# "up 15 percent", "down 3%": the percentage is the change of the count before it.
_CHANGE_WORDS = {"up": ("rise in", "aumento de"), "down": ("drop in", "caída de")}
_FALLBACK_WHAT = {"%": ("share", "porcentaje"), "money": ("amount", "monto")}
_FALLBACK_WORDS = frozenset(word for pair in _FALLBACK_WHAT.values() for word in pair)
_CURRENCY_CODES = frozenset({*_CURRENCY_PREFIX.values(), *_CURRENCY_SUFFIX.values(), "MXN"})
_DIMENSIONS = {
    "long": "length", "wide": "width", "high": "height", "tall": "height", "deep": "depth",
    "largo": "longitud", "larga": "longitud", "ancho": "anchura", "ancha": "anchura", "alto": "altura",
    "alta": "altura", "profundo": "profundidad", "profunda": "profundidad",
}  # fmt: skip
# "un 12 % más que en enero", "20% fewer than": the same change, said after the number.
_CHANGE_AFTER = {"more": "up", "mas": "up", "less": "down", "fewer": "down", "menos": "down"}
# Words after which an English word that is followed by them reads as a verb: "people cross the bridges".
_OBJECT_STARTS = _word_set("the a an it them its their this these those his her our every each")
# "members" alone says nothing the group does not: "X number N members" gives the size of X.
_MEMBERSHIP_NOUNS = _word_set("members member staff personnel strong miembros integrantes")
_LEFT_PREPOSITIONS = _word_set("to a at of de al del by en in por from hasta")
_QUOTES = frozenset({'"', "'", "«", "»"})
_RATE_WORDS = _word_set("a per each every por al cada")
_RATE_UNITS = _word_set("dia diario diarios")
_COUNT_NOUNS = _word_set("number total count toll tally figure numero cifra total balance conteo saldo")
_AUXILIARIES = _word_set("have has had been were are was is be han ha habian habia se sido fueron son eran")
_PREDICATE_LINKS = _word_set("to in into at and a en y hacia")
# "the two countries", "los dos países": a small number after a definite article refers back to things
# already named, it does not report a count.
_ANAPHORIC = _word_set("the these those both los las estos estas esos esas ambos")
# Sentences without a digit or a number word (articles "one"/"un"/"una" aside) cannot hold a figure; most
# sentences are skipped by this check.
_STRONG_NUMBER_WORDS = frozenset(
    (set(WORD_NUMBERS) - {"one", "un", "una", "uno"})
    | {"dozen", "docena", "docenas", "hundred", "thousand", "mil", "centenar", "veintidós", "veintitrés"}
    | {"veintiséis"}
    | {"dieciséis", "veintiún"}
)
_DIGIT = re.compile(r"\d")
_YEARS_AND_TIMES = re.compile(r"(?<![\d.,])(?:1[89]\d\d|20\d\d)(?![\d.,]\d)|\b\d{1,2}:\d\d\b")
# A digit the year/time pattern does not cover at the position it is tried: what is left of the text once
# years and times are cut out holds a digit exactly when a scan with this pattern matches group 1.
_UNCOVERED_DIGIT = re.compile(f"(?:{_YEARS_AND_TIMES.pattern})|(\\d)")
_MULTIPLIER_WORDS = _word_set("dozen hundred thousand docena docenas centenar mil")
_LETTERS = re.compile(r"[^\W\d_]+")


def _may_hold_number(text: str) -> bool:
    # Years ("2019") and clock times are the commonest digits in news and never figures.
    if _DIGIT.search(text) is not None:
        for match in _UNCOVERED_DIGIT.finditer(text):
            if match.group(1) is not None:
                return True
    return not _STRONG_NUMBER_WORDS.isdisjoint(_LETTERS.findall(text.lower()))


# _TOKEN's word group alone. Digits, symbols and punctuation never hold a letter, so the words it finds in a
# text are exactly the word tokens of that text.
_WORD_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _may_start_figure(text: str) -> bool:
    """False when `_SentenceReader(text).figures()` is certainly empty: no digit and no word token that is a
    number word (a figure starts at a digit token or at a word `_starts_written_number` accepts, and every
    multiplier it looks ahead for is itself a strong number word). Most headlines are skipped this way."""
    if _DIGIT.search(text) is not None:
        return True
    return not _STRONG_NUMBER_WORDS.isdisjoint(map(fold, _WORD_TOKEN.findall(text)))


_MAX_WHAT_WORDS = 6
SMALL_VALUE = 10
# Key figures are in the first screens of an article (the reference case's last one is at 2,400
# characters); a 50,000-character feed item is read this far.
MAX_FIGURE_CHARS = 6_000
_MIN_PROSE_WORDS = 8


@dataclass(slots=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int
    folded: str  # lower case, accents removed: what every rule compares


@dataclass(slots=True)
class _Found:
    figure: KeyFigure
    position: int
    prose: bool


def _tokens(sentence: str) -> list[_Token]:
    result = []
    for match in _TOKEN.finditer(sentence):
        kind = match.lastgroup or "punct"
        text = match.group()
        result.append(_Token(kind, text, match.start(), match.end(), fold(text)))
    return result


def _is_verbish(token: _Token, previous: _Token | None, language: str | None) -> bool:
    word = token.folded
    if word in _PHRASE_STOP:
        return True
    if language != "es" and word in _IRREGULAR_VERBS and previous is not None and token.text.islower():
        return True  # "the number of Venezuelans in Colombia rose"
    if language != "es" and len(word) > 4 and word.endswith("ing"):
        return True
    if len(word) > 4 and word.endswith(("ly", "mente")) and word not in {"family", "supply", "italy"}:
        return True
    if word.endswith(("aron", "ieron", "aban", "ando", "iendo")) and len(word) > 5:
        return True
    if token.text.endswith(("ó", "ío")) and token.text.islower() and len(word) > 3:
        return True  # Spanish preterite: "desertó", "huyó"
    # An -ed word after a plain noun is a verb ("soldiers deserted"); after a possessive or link it is an
    # adjective ("Venezuela's armed forces").
    return (
        word.endswith("ed")
        and previous is not None
        and previous.kind == "word"
        and not previous.text.endswith(("'s", "’s"))
        and previous.folded not in _PHRASE_LINKS
    )


def _looks_like_past_tense(token: _Token) -> bool:
    word = token.folded
    return (
        token.text.islower()
        and len(word) > 4
        and (word.endswith(("ed", "aron", "ieron")) or token.text.endswith("ó"))
    )


def _noun_phrase_right(tokens: list[_Token], start: int, language: str | None) -> list[_Token]:
    phrase: list[_Token] = []
    index = start
    while index < len(tokens) and len(phrase) < _MAX_WHAT_WORDS:
        token = tokens[index]
        if token.text in _QUOTES and phrase:
            index += 1
            continue  # 'civilians in the "colectivos"'
        if token.kind != "word" or token.folded in _MONTHS:
            break
        previous = phrase[-1] if phrase else None
        if phrase and _is_verbish(token, previous, language):
            break
        if not phrase and token.folded in _PHRASE_STOP:
            break
        rate_unit = tokens[index + 1].folded if index + 1 < len(tokens) else ""
        if (
            phrase
            and language != "es"
            and rate_unit in _OBJECT_STARTS
            and token.text.islower()
            and token.folded not in _PHRASE_LINKS
            and token.folded not in _RATE_WORDS
        ):
            break  # "40,000 people cross it every day": a word taking an object is the verb
        if phrase and token.folded in _RATE_WORDS and (rate_unit in _TIME_UNITS or rate_unit in _RATE_UNITS):
            phrase.extend(tokens[index : index + 2])  # "trucks a day": the rate ends the phrase
            break
        if (
            language == "es"
            and previous is not None
            and previous.folded.endswith("s")
            and previous.folded not in _PHRASE_LINKS
            and token.text.islower()
            and not token.folded.endswith("s")
            and token.folded not in _PHRASE_LINKS
        ):
            break  # Spanish agreement: "venezolanos viven" - a singular word after a plural is a verb
        phrase.append(token)
        index += 1
    while phrase and phrase[-1].folded in _PHRASE_LINKS | _DETERMINERS:
        phrase.pop()
    while phrase and (phrase[0].folded in _DETERMINERS or phrase[0].folded in {"de", "of"}):
        phrase.pop(0)
    return phrase


def _noun_phrase_left(tokens: list[_Token], end: int, language: str | None) -> list[_Token]:
    """The noun phrase before "<verb> (to) N": "the death toll rose to 45" -> "death toll",
    "el comercio alcanzó los 1.200 millones" -> "comercio"."""
    index = end - 1
    while (
        index >= 0
        and tokens[index].kind == "word"
        and (tokens[index].folded in _LEFT_PREPOSITIONS or tokens[index].folded in _DETERMINERS)
    ):
        index -= 1
    skipped = index
    while index >= 0 and (
        tokens[index].kind in ("num", "sym")
        or tokens[index].folded in _PERCENT_PARTS
        or (index < skipped and tokens[index].folded in _DETERMINERS)
        or tokens[index].folded in _AMOUNT_ADJECTIVES
        or (tokens[index].folded in _DETERMINERS and tokens[index + 1].folded in _AMOUNT_ADJECTIVES)
    ):
        index -= 1  # "Remittances rose 15 percent to $1.2 billion": past the other figure to the verb
    if index < 0 or tokens[index].kind != "word" or tokens[index].folded in _NOT_VERBS:
        return []  # "$3.5 million and €20,000": no verb between the phrase and the number
    if scale_of(tokens[index].folded) or tokens[index].folded in _CURRENCY_SUFFIX:
        return []
    index -= 1  # the verb
    while index >= 0 and tokens[index].kind == "word" and tokens[index].folded in _AUXILIARIES:
        index -= 1  # "has risen", "ha subido"
    if language != "es" and index >= 1 and tokens[index].folded == "to":
        index -= 1  # "expect trade between the two countries to reach $1.2 billion"
    phrase: list[_Token] = []
    while index >= 0 and len(phrase) < _MAX_WHAT_WORDS:
        token = tokens[index]
        if phrase and (token.folded in _LEFT_LINKS or token.folded in _DETERMINERS):
            # "trade across the border", "comercio entre los dos países": a link and its article join the
            # head noun on their left to the phrase.
            head = index
            while (
                head >= 0
                and tokens[head].kind == "word"
                and (tokens[head].folded in _LEFT_LINKS or tokens[head].folded in _DETERMINERS)
            ):
                head -= 1
            linked = any(tokens[i].folded in _LEFT_LINKS for i in range(head + 1, index + 1))
            if linked and head >= 0 and _content_word(tokens[head], language):
                phrase[:0] = tokens[head + 1 : index + 1]
                index = head
                continue
            break
        if token.kind != "word" or token.folded in _DETERMINERS or token.folded in _PHRASE_STOP:
            break
        if token.folded in _LEFT_STOP_VERBS:
            break
        if _is_verbish(token, None, language) and not phrase:
            break
        if _looks_like_past_tense(token):
            if phrase:
                break  # "Aid groups handed out 3": the verb ends the phrase on its left
            index -= 1  # a particle verb ("handed out"): skip its verb too
            continue
        phrase.insert(0, token)
        index -= 1
    while phrase and (phrase[0].folded in _PHRASE_LINKS or phrase[0].folded in _LEFT_LINKS):
        phrase.pop(0)
    return phrase


def _is_time_phrase(phrase: list[_Token]) -> bool:
    """ "day earlier", "this year", "el año pasado": a time, never what a number counts."""
    if not phrase:
        return False
    first = phrase[0].folded
    second = phrase[1].folded if len(phrase) > 1 else ""
    return first in _TIME_UNITS or (first in _TIME_DEICTICS and second in _TIME_UNITS)


def _content_word(token: _Token, language: str | None) -> bool:
    return (
        token.kind == "word"
        and token.folded not in _PHRASE_STOP
        and token.folded not in _DETERMINERS
        and token.folded not in _LEFT_STOP_VERBS
        and not _is_verbish(token, None, language)
    )


def _subject_before_verb(tokens: list[_Token], end: int) -> list[_Token] | None:
    """For "X number(s)/has N members": the X, when the word before the number is such a verb."""
    index = end - 1
    if index >= 1 and tokens[index].folded == "con":
        index -= 1  # "cuenta con"
    if index < 1 or tokens[index].kind != "word" or tokens[index].folded not in _HAVE_VERBS:
        return None
    phrase: list[_Token] = []
    index -= 1
    while index >= 0 and len(phrase) < 4:
        token = tokens[index]
        if token.kind != "word" or token.folded in _PHRASE_STOP:
            break
        phrase.insert(0, token)
        index -= 1
        if token.folded in _DETERMINERS:
            break  # "la Fuerza Armada": the article belongs to the phrase and starts it
    return phrase if phrase and phrase[-1].folded not in _DETERMINERS else None


def _join(tokens: list[_Token], sentence: str) -> str:
    del sentence  # tokens carry their text; joining them drops stray quotes inside the phrase
    return " ".join(token.text for token in tokens)


def _attached(sentence: str, token: _Token) -> tuple[str, str]:
    before = sentence[token.start - 1] if token.start > 0 else " "
    after = sentence[token.end] if token.end < len(sentence) else " "
    return before, after


class _SentenceReader:
    """Finds the figures of one sentence."""

    def __init__(self, sentence: str, language: str | None) -> None:
        self.sentence = sentence
        self.language = language
        self.tokens = _tokens(sentence)
        self._found: list[KeyFigure] = []  # figures already read in this sentence

    def word(self, index: int) -> str:
        if 0 <= index < len(self.tokens) and self.tokens[index].kind in ("word", "sym"):
            return self.tokens[index].folded
        return ""

    def _starts_written_number(self, index: int) -> bool:
        word = self.tokens[index].folded
        if word in _STRONG_NUMBER_WORDS:
            return True
        # "a dozen", "un centenar": an article starts a number only before a multiplier.
        return word in NUMBER_WORDS and self.word(index + 1) in _MULTIPLIER_WORDS

    def figures(self) -> list[KeyFigure]:
        found: list[KeyFigure] = []
        index = 0
        while index < len(self.tokens):
            token = self.tokens[index]
            if token.kind == "num":
                figure, index = self._from_digits(index)
            elif token.kind == "word" and self._starts_written_number(index):
                figure, index = self._from_words(index)
            else:
                figure, index = None, index + 1
            if figure is not None:
                found.append(figure)
                self._found = found
        return found

    def _not_a_count(self, index: int, value: float, raw: str) -> bool:
        token = self.tokens[index]
        before, after = _attached(self.sentence, token)
        previous = self.word(index - 1)
        following = self.word(index + 1)
        hyphenated = before == "-" and token.start >= 2 and self.sentence[token.start - 2].isalnum()
        if before.isalpha() or hyphenated:
            return True  # COVID-19, G-20, F-16
        if after in "/:" and token.end + 1 < len(self.sentence) and self.sentence[token.end + 1].isdigit():
            return True  # 26/02/2019, 10:30
        if before in "/:" and token.start >= 2 and self.sentence[token.start - 2].isdigit():
            return True
        if after == "-" and token.end + 1 < len(self.sentence) and self.sentence[token.end + 1].isdigit():
            return True  # scores, ranges, phone numbers
        if after in "ºª°":
            return True
        if after.isalpha() and following in _ORDINAL_SUFFIXES:
            return True  # 25th, 1er, 2do
        if after == "." and following in {"o", "a"}:
            return True  # 1.º
        if re.fullmatch(r"\d{4}", raw) and 1800 <= value <= 2100:
            return True  # a year
        if previous in _MONTHS or following in _MONTHS:
            return True
        if following == "de" and self.word(index + 2) in _MONTHS:
            return True  # 26 de febrero
        if previous in _WEEKDAYS and value <= 31 and raw.isdigit():
            return True  # "el martes 5", "on Tuesday 5"
        if self._in_day_range(index):
            return True  # "del 7 al 9 de marzo", "from March 7 to 9", "entre el 12 y el 14 de junio"
        hyphen_next = index + 1 < len(self.tokens) and self.tokens[index + 1].text == "-"
        if following in _TIME_UNITS or (hyphen_next and self.word(index + 2) in _TIME_UNITS):
            return True  # durations and ages: "34 years old", "34-year-old", "hace 20 años"
        if previous in {"aged", "age", "edad"}:
            return True
        if previous in {"las", "la"} and self.word(index - 2) in {"a", "desde", "hasta"} and value <= 24:
            return True  # "a las 10"
        if following in {"h", "hrs", "hs"} or (following in {"a", "p"} and self.word(index + 2) == "m"):
            return True  # 10 a.m.
        if previous in _IDENTIFIER_WORDS:
            return True
        prev_token = self.tokens[index - 1] if index > 0 else None
        if (
            prev_token is not None
            and prev_token.kind == "word"
            and prev_token.text[:1].isupper()
            and index - 1 > 0
            and previous not in _CURRENCY_PREFIX
        ):
            return True  # "Flight 302", "Boeing 737", "Resolución 2231"
        return (
            prev_token is not None
            and prev_token.text == "("
            and index + 1 < len(self.tokens)
            and self.tokens[index + 1].text == ")"
            and value < 120
        )  # "Juan Pérez (34)"

    def _is_day(self, index: int) -> bool:
        """A day number next to a month or weekday name: "March 7", "9 de marzo", "lunes 3", "9 March"."""
        if self.tokens[index].kind != "num" or not self.tokens[index].text.isdigit():
            return False
        if not 1 <= int(self.tokens[index].text) <= 31:
            return False
        previous, following = self.word(index - 1), self.word(index + 1)
        return (
            previous in _MONTHS
            or previous in _WEEKDAYS
            or following in _MONTHS
            or (following == "de" and self.word(index + 2) in _MONTHS)
        )

    def _in_day_range(self, index: int) -> bool:
        """A day number joined by "to"/"al"/"y"/"," to a day of a date: the whole range or list is a date."""
        if not self.tokens[index].text.isdigit() or not 1 <= int(self.tokens[index].text) <= 31:
            return False
        for step in (1, -1):
            cursor = index
            for _ in range(4):  # at most a few days listed: "7, 8 y 9 de marzo"
                link = cursor + step
                if link < 0 or link >= len(self.tokens):
                    break
                if self.tokens[link].text != "," and self.word(link) not in _DAY_RANGE_LINKS:
                    break
                other = link + step
                if self.word(other) in {"el", "the"}:
                    other += step  # "entre el 12 y el 14"
                if not 0 <= other < len(self.tokens) or self.tokens[other].kind != "num":
                    break
                if not self.tokens[other].text.isdigit() or not 1 <= int(self.tokens[other].text) <= 31:
                    break
                if self._is_day(other):
                    return True
                cursor = other
        return False

    def _currency_before(self, index: int) -> tuple[str | None, int]:
        """Currency written before the number, and the token index where the figure's text starts."""
        first = index
        previous = self.word(index - 1)
        if previous in _CURRENCY_PREFIX:
            code = _CURRENCY_PREFIX[previous]
            first = index - 1
            if previous == "us" and self.word(index - 2) != "":
                return None, index
            if previous == "$" and self.word(index - 2) == "us":
                first = index - 2
            return code, first
        if previous == "." and self.word(index - 2) == "bs":
            return "VES", index - 2
        return None, first

    def _qualifier(self, start_char: int) -> str:
        match = _QUALIFIER.search(self.sentence[:start_char])
        return match.group(0).strip() if match else ""

    def _before_qualifier(self, first: int) -> int:
        """Index of the first token of the figure including its qualifier ("at least 20" -> "at")."""
        match = _QUALIFIER.search(self.sentence[: self.tokens[first].start])
        if match is None:
            return first
        while first > 0 and self.tokens[first - 1].start >= match.start():
            first -= 1
        return first

    def _scale_and_unit(self, index: int, currency: str | None) -> tuple[float, str | None, int, int]:
        """Scale words, percent and currency after the number.

        Returns the multiplier, the unit, the index where the counted phrase starts and the index where the
        figure's written text ends ("1,6 millones de civiles": text ends before "de", phrase starts after it).
        """
        multiplier = 1.0
        unit = currency
        cursor = index
        word = self.word(cursor)
        token = self.tokens[cursor] if cursor < len(self.tokens) else None
        text_end = cursor
        if token is not None and token.kind == "word":
            attached = token.start == self.tokens[cursor - 1].end
            scale = scale_of(token.folded)
            if scale and (token.folded not in SHORT_SCALES or attached or currency is not None):
                multiplier = scale
                cursor += 1
                if word == "mil" and self.word(cursor) in {"millones", "millon"}:
                    multiplier = 1e9
                    cursor += 1
                text_end = cursor
                if self.word(cursor) in {"de", "of"} and self.word(cursor + 1) != "":
                    following = self.word(cursor + 1)
                    if following in _CURRENCY_SUFFIX or following not in _PHRASE_STOP:
                        cursor += 1  # "1,6 millones de civiles", "millions of dollars"
        if self.word(cursor) == "%":
            return multiplier, "%", cursor + 1, cursor + 1
        for words in _PERCENT_WORDS:
            if all(self.word(cursor + offset) == part for offset, part in enumerate(words)):
                return multiplier, "%", cursor + len(words), cursor + len(words)
        suffix = self.word(cursor)
        if suffix in _CURRENCY_SUFFIX:
            if suffix not in {"pesos", "peso"} or unit in (None, "USD"):
                unit = _CURRENCY_SUFFIX[suffix]
            cursor += 1
            if self.word(cursor) in {"colombianos", "colombian"}:
                unit, cursor = "COP", cursor + 1
            elif self.word(cursor) in {"mexicanos", "mexican"}:
                unit, cursor = "MXN", cursor + 1
            text_end = cursor
        measured = self._measure(cursor) if unit is None else None
        if measured is not None:
            unit, cursor = measured
            text_end = cursor
            if self.word(cursor) in {"of", "de"}:
                cursor += 1  # "18.000 litros de combustible"
        return multiplier, unit, cursor, text_end

    def _measure(self, cursor: int) -> tuple[str, int] | None:
        """A unit of measure after the number ("600 tonnes", "224-kilometre", "150 pies cúbicos")."""
        if self.word(cursor) == "" and cursor < len(self.tokens) and self.tokens[cursor].text == "-":
            cursor += 1
        for words, unit in _MEASURES_BY_FIRST.get(self.word(cursor), ()):
            if all(self.word(cursor + offset) == part for offset, part in enumerate(words)):
                return unit, cursor + len(words)
        return None

    def _build(
        self, first: int, text_end: int, after: int, value: float, unit: str | None
    ) -> KeyFigure | None:
        start_char = self.tokens[first].start
        end_char = self.tokens[text_end - 1].end
        qualifier = self._qualifier(start_char)
        written = self.sentence[start_char:end_char].rstrip(" .,;:")
        text = f"{qualifier} {written}" if qualifier else written
        what = self._what(first, after, unit)
        if not what and unit is None:
            return None  # a bare count with nothing counted is more often noise than news
        return KeyFigure(value=value, text=text, what=what, unit=unit)

    def _what(self, first: int, after: int, unit: str | None) -> str:
        start = after
        if unit is not None and self.word(start) in {"in", "en", "for", "para", "of", "de", "worth", "on"}:
            start += 1
        # A percentage counts what follows "of"/"de" ("15% of households"); otherwise what rose or fell.
        if unit == "%" and self.word(after) not in {"of", "de", "del"}:
            phrase = []
        else:
            phrase = _noun_phrase_right(self.tokens, start, self.language)
        start_left = self._before_qualifier(first)
        if _is_time_phrase(phrase):
            # "326 a day earlier", "$1.2 billion this year": a time, not what the number counts.
            if any(token.folded in _EARLIER_WORDS for token in phrase):
                return self._previous_figure_label()
            phrase = []
        if self._refers_back(start_left, unit):
            return self._previous_figure_label()  # "411, up from 326": the earlier value of the lead count
        if phrase and len(phrase) == 1 and phrase[0].folded in _RELATIONAL_NOUNS:
            subject = _subject_before_verb(self.tokens, start_left)
            if subject:
                words = [token.text for token in subject]
                if subject[0].folded in _DETERMINERS:
                    words = words[1:] if len(words) > 1 else words
                if phrase[0].folded in _MEMBERSHIP_NOUNS:
                    # "Venezuela's armed forces number 365,000 members": the size of the armed forces, not
                    # a group of its members (that is how deserters are counted).
                    return " ".join(words)
                link = "de" if self.language == "es" else "of"
                return f"{phrase[0].text} {link} {' '.join(words)}"
        if len(phrase) == 1 and phrase[0].folded in _DIMENSIONS and unit is not None:
            # "The bridge is 315 metres long": a dimension of what the sentence is about.
            subject = _noun_phrase_left(self.tokens, start_left, self.language)
            if subject:
                return _join(subject, self.sentence)
            return _DIMENSIONS[phrase[0].folded]
        if phrase:
            return _join(phrase, self.sentence)
        if unit is not None and unit != "%":
            purpose = self._money_purpose(after)
            if purpose:
                return purpose
        change = self.word(start_left - 1) if unit == "%" else ""
        if unit == "%" and change not in _CHANGE_WORDS:
            change = _CHANGE_AFTER.get(self.word(after), "")
        lead_what = self._found[-1].what if self._found else ""
        if change in _CHANGE_WORDS and lead_what and lead_what not in _FALLBACK_WORDS:
            # "1.2 million Venezuelans arrived, up 15 percent": the change of the count before it.
            return f"{_CHANGE_WORDS[change][self.language == 'es']} {self._found[-1].what}"
        for fallback in (self._counted_subject(), self._predicate(after)):
            if fallback:
                return fallback
        left = _join(_noun_phrase_left(self.tokens, start_left, self.language), self.sentence)
        if left or (unit != "%" and unit not in _CURRENCY_CODES):
            return left
        # Nothing in the sentence says what the amount is: say plainly what kind of figure it is.
        return _FALLBACK_WHAT["%" if unit == "%" else "money"][self.language == "es"]

    def _previous_figure_label(self) -> str:
        return "cifra anterior" if self.language == "es" else "previous figure"

    def _refers_back(self, start_left: int, unit: str | None) -> bool:
        """ "up from 326", "frente a unos 400 millones": an earlier value of a count the sentence gave."""
        if not any(figure.unit == unit for figure in self._found):
            return False
        before, two_before = self.word(start_left - 1), self.word(start_left - 2)
        changed = two_before in {"up", "down", "rising", "falling", "increase", "drop"}
        return (before == "from" and changed) or (before, two_before) in _BACK_REFERENCES

    def _money_purpose(self, after: int) -> str:
        """ "$3.5 million and €20,000 on aid", "US$ 2 millones para 1.200 familias": what the money is for,
        read past the amounts listed with it."""
        cursor = after
        for _ in range(8):
            token = self.tokens[cursor] if cursor < len(self.tokens) else None
            if token is None:
                return ""
            word = token.folded
            if (
                token.kind in ("num", "sym")
                or word in _NOT_VERBS
                or scale_of(word)
                or word in _CURRENCY_SUFFIX
                or word in _CURRENCY_PREFIX
            ):
                cursor += 1
                continue
            if word in {"on", "in", "for", "para", "en"}:
                phrase = _noun_phrase_right(self.tokens, cursor + 1, self.language)
                if phrase:
                    return _join(phrase, self.sentence)
                if self.tokens[cursor + 1 : cursor + 2] and self.tokens[cursor + 1].kind == "num":
                    rest = _noun_phrase_right(self.tokens, cursor + 2, self.language)
                    if rest:  # "para 1.200 familias": for whom, with the count kept
                        return " ".join(t.text for t in self.tokens[cursor : cursor + 2] + rest)
            return ""
        return ""

    def _counted_subject(self) -> str:
        """ "The number of X ... rose to N", "La cifra de X ... subió a N": the X."""
        for index, token in enumerate(self.tokens[:-1]):
            if token.folded in _COUNT_NOUNS and self.word(index + 1) in {"of", "de", "del"}:
                phrase = _noun_phrase_right(self.tokens, index + 2, self.language)
                if phrase:
                    return _join(phrase, self.sentence)
        return ""

    def _predicate(self, after: int) -> str:
        """The number is the subject ("Another 11,000 have been displaced"): what happened to them."""
        cursor = after
        while self.word(cursor) in _AUXILIARIES:
            cursor += 1
        if cursor == after or cursor >= len(self.tokens) or self.tokens[cursor].kind != "word":
            return ""
        words: list[_Token] = []
        while cursor < len(self.tokens) and self.tokens[cursor].kind == "word" and len(words) < 5:
            token = self.tokens[cursor]
            if words and token.folded in _PHRASE_STOP and token.folded not in _PREDICATE_LINKS:
                break
            words.append(token)
            cursor += 1
        while words and (words[-1].folded in _PREDICATE_LINKS or words[-1].folded in _DETERMINERS):
            words.pop()
        return _join(words, self.sentence)

    def _from_digits(self, index: int) -> tuple[KeyFigure | None, int]:
        token = self.tokens[index]
        value = parse_digits(token.text, self.language)
        if value is None or self._not_a_count(index, value, token.text):
            return None, index + 1
        currency, first = self._currency_before(index)
        multiplier, unit, after, text_end = self._scale_and_unit(index + 1, currency)
        if value == 0 and unit != "%":
            return None, after
        return self._build(first, text_end, after, value * multiplier, unit), after

    def _from_words(self, index: int) -> tuple[KeyFigure | None, int]:
        words: list[str] = []
        cursor = index
        while cursor < len(self.tokens) and self.tokens[cursor].kind == "word":
            words.append(self.tokens[cursor].folded)
            cursor += 1
            if cursor < len(self.tokens) and self.tokens[cursor].text == "-":
                cursor += 1  # "twenty-five"
        parsed = parse_words(words)
        if parsed is None:
            return None, index + 1
        value, used = parsed
        # Count tokens actually used, including hyphens skipped.
        consumed = index
        taken = 0
        while taken < used and consumed < len(self.tokens):
            if self.tokens[consumed].kind == "word":
                taken += 1
            consumed += 1
        if value < 2 or (used == 1 and words[0] in {"a", "y", "and"}):
            return None, index + 1
        if self.word(index - 1) in _ANAPHORIC and value < 10:
            return None, index + used
        if self.word(consumed) in {"of", "de"} and words[used - 1] in {"dozen", "docenas", "hundred"}:
            return None, consumed  # "dozens of", "hundreds of" are not counts
        if self.word(consumed) in _TIME_UNITS or self.word(consumed) in _ORDINAL_SUFFIXES:
            return None, consumed
        currency, first = self._currency_before(index)
        multiplier, unit, after, text_end = self._scale_and_unit(consumed, currency)
        return self._build(first, text_end, after, value * multiplier, unit), after


def _is_prose(line: str) -> bool:
    return len(line.split()) >= _MIN_PROSE_WORDS and line.rstrip("\"') ").endswith((".", "!", "?", "…", ":"))


def _score(figure: KeyFigure, position: int, title_words: set[str], title_values: set[float]) -> float:
    score = 1.0 / (1.0 + 0.08 * position)
    if figure.value in title_values:
        score += 1.0
    what_words = {fold(word) for word in re.findall(r"\w+", figure.what) if len(word) > 3}
    if what_words & title_words:
        score += 0.3
    if figure.value < 10 and figure.unit is None:
        score -= 0.4
    score += min(math.log10(max(figure.value, 1.0)), 9.0) / 40.0
    return round(score, 4)


def extract_figures(text: str, language: str | None, *, title: str | None = None) -> list[KeyFigure]:
    """Key figures of a cleaned article body, best first; one per value and unit.

    `title`, when given, ranks figures it mentions first and contributes figures the body lacks.
    """
    found: list[_Found] = []
    position = 0
    for paragraph in text[:MAX_FIGURE_CHARS].split("\n\n"):
        for line in paragraph.split("\n"):
            prose = _is_prose(line)
            if not _may_hold_number(line):
                position += 1
                continue
            for sentence in split_sentences(line):
                if _may_hold_number(sentence):
                    for figure in _SentenceReader(sentence, language).figures():
                        found.append(_Found(figure, position, prose))
                position += 1
    title_figures = _SentenceReader(title, language).figures() if title and _may_start_figure(title) else []
    title_values = {figure.value for figure in title_figures}
    title_words = {fold(word) for word in re.findall(r"\w+", title or "") if len(word) > 3}
    for figure in title_figures:
        found.append(_Found(figure, position + 1, False))
    best: dict[tuple[float, str | None, str], _Found] = {}
    body_values = {item.figure.value for item in found if item.position <= position}
    for item in sorted(found, key=lambda item: (not item.prose, item.position)):
        figure = item.figure
        if item.position > position and figure.value in body_values:
            continue  # the headline repeats a figure the body states with more context
        # A large number mentioned twice is the same figure; small ones ("2 people", "two vehicles") often
        # count different things.
        what = fold(figure.what) if figure.value < SMALL_VALUE else ""
        key = (figure.value, figure.unit, what)
        if key not in best:
            best[key] = item
    ranked = [
        KeyFigure(
            value=item.figure.value,
            text=item.figure.text,
            what=item.figure.what,
            unit=item.figure.unit,
            score=_score(item.figure, item.position, title_words, title_values),
        )
        for item in best.values()
    ]
    ranked.sort(key=lambda figure: -figure.score)
    return ranked
