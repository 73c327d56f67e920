"""Numbers as newsrooms write them, in English and Spanish: digits in either grouping convention, scale words
("1.6 million", "1,6 millones", "$2bn") and written-out numbers ("two dozen", "veinte", "treinta y dos").

Only parsing lives here; deciding whether a number is a key figure is `stories.figures`' job.
"""

from __future__ import annotations

SCALES: dict[str, float] = {
    "thousand": 1e3,
    "thousands": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "k": 1e3,
    "mil": 1e3,
    "millón": 1e6,
    "millon": 1e6,
    "millones": 1e6,
    "mill": 1e6,
    "mill.": 1e6,
    "mdd": 1e6,  # "millones de dólares" in Mexican and Colombian copy
    "billón": 1e12,  # Spanish billón is 10^12
    "billones": 1e12,
    "millardo": 1e9,
    "millardos": 1e9,
}
# Scale words that must be written out in full to count: "5 m" is more often metres than millions.
SHORT_SCALES = frozenset({"m", "b", "k", "mn", "bn", "mill", "mill.", "mdd"})

_UNITS_EN = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_UNITS_ES = {
    "uno": 1, "un": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21,
    "veintiun": 21, "veintiuna": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24,
    "veinticinco": 25, "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
    "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
    "noventa": 90, "cien": 100, "ciento": 100, "doscientos": 200, "doscientas": 200, "trescientos": 300,
    "trescientas": 300, "cuatrocientos": 400, "cuatrocientas": 400, "quinientos": 500, "quinientas": 500,
    "seiscientos": 600, "seiscientas": 600, "setecientos": 700, "setecientas": 700, "ochocientos": 800,
    "ochocientas": 800, "novecientos": 900, "novecientas": 900,
}  # fmt: skip
# Spanish collective numerals: "una veintena de detenidos" is about twenty. Their plurals ("decenas de") are
# vague like "hundreds of", and "cuarentena" is far more often a quarantine: both left out.
SPANISH_COLLECTIVES = {"decena": 10, "veintena": 20, "treintena": 30, "cincuentena": 50, "millar": 1_000}
_MULTIPLIERS = {
    "hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
    "mil": 1_000, "millon": 1_000_000, "millones": 1_000_000,
    "dozen": 12, "docena": 12, "docenas": 12, "centenar": 100,
    **SPANISH_COLLECTIVES,
}  # fmt: skip
# Multipliers that may start a written number after an article alone ("a dozen", "un centenar").
COLLECTIVE_MULTIPLIERS = frozenset({"dozen", "docena", "mil", "hundred", "centenar", *SPANISH_COLLECTIVES})
_JOINERS = frozenset({"and", "y", "a"})  # "three hundred and twenty", "treinta y dos", "a dozen"
WORD_NUMBERS = {**_UNITS_EN, **_UNITS_ES}
# Spanish number words are no numbers in English text, where one of them is a common word: "once governed".
SPANISH_ONLY_NUMBER_WORDS = frozenset(_UNITS_ES) - frozenset(_UNITS_EN)
# Words that start a written number. "one", "un", "una" (and "a") are articles far more often than counts,
# so a written number must carry a multiplier or be at least two to stand alone.
NUMBER_WORDS = frozenset(WORD_NUMBERS) | frozenset(_MULTIPLIERS) | _JOINERS


def parse_digits(raw: str, language: str | None) -> float | None:
    """Value of a digit group, deciding per string which separator groups thousands and which is decimal.

    A separator followed by exactly three digits groups thousands in both languages ("365,000", "365.000");
    otherwise the last separator is the decimal mark ("1.6", "1,6", "1.234,5").
    """
    if raw.isdecimal():
        return float(raw)  # no separator at all: most numbers in news copy
    text = raw.replace("\u00a0", "").replace(" ", "")  # spaces group thousands ("365 000")
    commas, dots = text.count(","), text.count(".")
    if not commas and not dots:
        return float(text)
    if commas and dots:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."  # the last one
        if text.count(decimal) > 1:
            return None  # "1.234,5.6": two decimal marks, not a number anyone writes
        grouping = "," if decimal == "." else "."
        return float(text.replace(grouping, "").replace(decimal, "."))
    sep = "," if commas else "."
    tail = text[text.rfind(sep) + 1 :]
    if commas + dots > 1 or (len(tail) == 3 and text[0] != "0"):
        if len(tail) != 3:
            return None  # "1.23.4" is not a number anyone writes
        return float(text.replace(sep, ""))
    del language  # a single separator before 1, 2 or 4+ digits is a decimal mark in both languages
    return float(text.replace(sep, "."))


def parse_words(words: list[str]) -> tuple[float, int] | None:
    """Value of the longest written-out number at the start of `words` (folded), and how many words it used.

    "two dozen" -> 24, "three hundred and twenty" -> 320, "treinta y dos" -> 32, "dos mil" -> 2000.
    """
    total = 0.0
    current = 0.0
    used = 0
    seen_number = False
    for index, word in enumerate(words):
        if word in WORD_NUMBERS:
            value = WORD_NUMBERS[word]
            if seen_number and current and value >= current and value < 100:
                break  # "two three" is two numbers, not one
            current += value
            seen_number = True
            used = index + 1
        elif word in _MULTIPLIERS and (seen_number or word in COLLECTIVE_MULTIPLIERS):
            multiplier = _MULTIPLIERS[word]
            if not seen_number and index > 0 and words[index - 1] != "a":
                break
            base = current or 1.0
            if multiplier >= 1000:
                total += base * multiplier
                current = 0.0
            else:
                current = base * multiplier
            seen_number = True
            used = index + 1
        elif (word == "a" and index == 0) or (
            word in _JOINERS and seen_number and index + 1 < len(words) and words[index + 1] in WORD_NUMBERS
        ):
            continue
        else:
            break
    if not seen_number:
        return None
    return total + current, used


def scale_of(word: str) -> float | None:
    return SCALES.get(word.lower())
