"""Which language an entry is written in (ISO 639-1), with lingua restricted to the languages feeds use.

Called for every entry (a feed's declared language is only a hint: feeds mix languages), so it must stay
cheap. Most news text settles itself by its function words ("the", "of", "los", "según"...), counted in a
few microseconds; only when that vote is unclear (short headlines, mixed text) does lingua decide: a
detector for a handful of languages in low-accuracy mode, built once, reading only a short prefix
(~0.1-0.3 ms per call on this machine). `make eval` prints the mean cost per call.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# English and Spanish are the beat's languages; Portuguese, French and German show up in regional wires
# and would otherwise be forced into one of the two.
LANGUAGES = (Language.ENGLISH, Language.SPANISH, Language.PORTUGUESE, Language.FRENCH, Language.GERMAN)
PREFIX_CHARS = 160  # a headline and the start of the lead settle the language
MIN_LETTERS = 12  # below this, a feed's declared language is a better guess than the text

# Words that occur in almost every sentence of one language and rarely in the others (no shared ones such as
# "de", "que", "la", "en", "para"), so a clear majority of them is as good a verdict as lingua's.
_FUNCTION_WORDS_TEXT = {
    "en": "the and of to is was for with said from by has have that at are were its after who his her this "
    "as which will would been says into amid",
    "es": "el los las del y por con una su al tras según dijo más fue este esta hasta desde entre sus "
    "como pero sobre ante sin",
    "pt": "os da do das não em com uma ao pela pelo mais foi são seu sua até pelos também",
    "fr": "des du et est dans pour aux qui pas avec selon été une ont",
    "de": "der die das und ist nicht mit zu den im für auf sich eine wurde dem",
}
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    language: frozenset(words.split()) for language, words in _FUNCTION_WORDS_TEXT.items()
}
# word -> the languages it is a function word of, so the vote looks each word up once, not once per language.
_WORD_LANGUAGES: dict[str, tuple[str, ...]] = {}
for _language, _words in FUNCTION_WORDS.items():
    for _word in _words:
        _WORD_LANGUAGES[_word] = (*_WORD_LANGUAGES.get(_word, ()), _language)
HINT_RATIO = 0.5  # the hinted language wins when lingua gives it at least this share of its best guess
VOTE_MARGIN = 2.0  # the leading language needs this many times the runner-up's function words
_WORD = re.compile(r"[^\W\d_]+")
_ASCII_LETTERS = string.ascii_letters.encode()
# `_words`' tables: letters kept, everything else a space; for UTF-8 only ASCII bytes are characters.
_LATIN1_NON_LETTERS_TO_SPACE = bytes(
    code if chr(code).isalnum() and not chr(code).isdecimal() else 32 for code in range(256)
)
_ASCII_NON_LETTERS_TO_SPACE = _LATIN1_NON_LETTERS_TO_SPACE[:128] + bytes(range(128, 256))
_ASCII_BYTES = bytes(range(128))


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).with_low_accuracy_mode().build()


def normalise_language(code: str | None) -> str | None:
    """'es-CO' / 'ES' / 'en_US' -> 'es' / 'es' / 'en'; None or junk -> None."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if len(primary) == 2 and primary.isalpha() else None


def detect_language(text: str, hint: str | None = None) -> str | None:
    """The language of `text` as an ISO 639-1 code; `hint` (e.g. the feed's language) when the text is too
    short to tell or the detector is unsure."""
    fallback = normalise_language(hint)
    sample = text[:PREFIX_CHARS]
    if _too_few_letters(sample):
        return fallback
    voted = _vote(sample)
    if voted is not None:
        return voted
    ranked = _detector().compute_language_confidence_values(sample)
    if not ranked:
        return fallback
    best = _code(ranked[0].language)
    if fallback is not None and fallback != best:
        # Short headlines are where low-accuracy mode wavers; a hint it finds nearly as likely wins.
        hinted = next((value.value for value in ranked if _code(value.language) == fallback), 0.0)
        if hinted >= HINT_RATIO * ranked[0].value:
            return fallback
    return best


def _too_few_letters(sample: str) -> bool:
    """Whether `sample` has fewer than MIN_LETTERS letters (str.isalpha)."""
    # ASCII letters are counted by deleting them from the UTF-8 bytes (C speed; ASCII bytes never occur
    # inside a multi-byte character); only a sample short of ASCII letters is counted character by character.
    encoded = sample.encode("utf-8", "surrogatepass")
    ascii_letters = len(encoded) - len(encoded.translate(None, _ASCII_LETTERS))
    if ascii_letters >= MIN_LETTERS:
        return False
    if len(encoded) == len(sample):  # all ASCII: the count is complete
        return True
    return sum(map(str.isalpha, sample)) < MIN_LETTERS


def _words(text: str) -> list[str]:
    """`_WORD.findall(text)`, faster: every character that is no letter (in the regex's sense: alphanumeric
    but not a decimal digit) becomes a space, and the text is split at whitespace. Text that Latin-1 can
    hold (nearly all) goes through one bytes table, at C speed; other text has its ASCII characters done so
    and its few distinct other ones replaced one by one (ASCII bytes never occur inside a multi-byte UTF-8
    character), instead of a regex scanning all of it."""
    try:
        return text.encode("latin-1").translate(_LATIN1_NON_LETTERS_TO_SPACE).decode("latin-1").split()
    except UnicodeEncodeError:
        pass
    encoded = text.encode("utf-8", "surrogatepass")
    for char in set(encoded.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")):
        if not _is_letter(char):
            encoded = encoded.replace(char.encode("utf-8", "surrogatepass"), b" ")
    return encoded.translate(_ASCII_NON_LETTERS_TO_SPACE).decode("utf-8", "surrogatepass").split()


def _is_letter(char: str) -> bool:
    """What `_WORD` matches: a word character (alphanumeric, underscore aside) but not a decimal digit."""
    return char.isalnum() and not char.isdecimal()


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


def _vote(sample: str) -> str | None:
    """The language whose function words clearly dominate `sample`, or None when the vote is unclear."""
    # Most words are no function word: the lookups and the filtering run in C, the loop sees only the hits.
    hits = list(filter(None, map(_WORD_LANGUAGES.get, _words(sample.lower()))))
    if not hits:
        return None
    counts = dict.fromkeys(FUNCTION_WORDS, 0)
    for languages in hits:
        for language in languages:
            counts[language] += 1
    top, runner_up = sorted(counts.values(), reverse=True)[:2]
    # One function word is enough when no other language has any (most headlines); otherwise a clear margin.
    if top >= 1 and (runner_up == 0 or top >= VOTE_MARGIN * runner_up):
        # The margin rules out a tie at the top: the leader is the one language with `top` words.
        return next(language for language, count in counts.items() if count == top)
    return None
