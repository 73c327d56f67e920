"""Cheap rejects: whether a line, sentence or headline can hold a figure at all, decided before tokenising.

Most text of an article holds no figure. A line or sentence is read only when it holds a digit that is not
part of a year or clock time (`has_uncovered_digit`) or a number word such as "twenty" or "doce"
(`has_number_word`), and a headline only when it holds a digit or a number word at all (`may_start_figure`).
The checks are C-level scans (substring tests, a regex match, a bytes translate and search, set lookups); each
keeps its rule exactly.
"""

from __future__ import annotations

import re

from stories.figures.vocabulary import PROPORTION_SCREEN_WORDS, STRONG_NUMBER_WORDS
from stories.folding import fold

_YEARS_AND_TIMES = r"(?<![\d.,])(?:1[89]\d\d|20\d\d)(?![\d.,]\d)|\b\d{1,2}:\d\d\b"
# Whether a left-to-right scan that skips years and clock times ("2019", "10:30", the commonest digits in
# news and never figures) meets another digit. The possessive loop consumes non-digit runs and whole
# years/times exactly as a `finditer` over "years/times | digit" would, and never gives them back, so the
# final `\d` can only match a digit no year or time covers. One C-level match instead of a Python loop.
_UNCOVERED_DIGIT = re.compile(rf"(?:\D+|{_YEARS_AND_TIMES})*+\d")
_ASCII_DIGITS = "0123456789"
_LETTERS = re.compile(r"[^\W\d_]+")


_Trie = dict[str, "_Trie"]


def _alternatives(words: list[str]) -> str:
    """A regex matching exactly `words`, as a trie ("t(?:en|wo)"): sre tries one branch per letter, not
    every word."""
    tree: _Trie = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def branches(node: _Trie) -> str:
        alternatives = [re.escape(char) + branches(child) for char, child in sorted(node.items()) if char]
        if not alternatives:
            return ""
        if len(alternatives) == 1 and "" not in node:
            return alternatives[0]
        group = "(?:" + "|".join(alternatives) + ")"
        return group + "?" if "" in node else group

    return branches(tree)


# Number words are looked for among a text's letter runs (`[^\W\d_]+` of its lower-cased form). In the UTF-8
# text, ASCII capitals become small letters, other ASCII characters spaces, and bytes of non-ASCII characters
# stay; a number word bounded by spaces there is a letter run. Conversely, every letter run is so bounded
# unless a non-ASCII character that is not a letter (a dash, a non-breaking space, a combining accent) glues
# it to its neighbour, which is quickly ruled out. For ASCII text that cannot happen. A bytes translate and
# one regex search cost a fraction of a regex `findall` of the runs.
_BYTE_WORDS = bytes(
    (ord(chr(code).lower()) if chr(code).isalpha() else ord(" ")) if code < 128 else code
    for code in range(256)
)
# Searched in the translated text with a space added at both ends. Decoded as latin-1, each UTF-8 byte of a
# word is one character of the pattern, which is then encoded back byte for byte.
# Proportions written in words alone ("la mitad", "a third", "medio millón") are screened in with them.
_SCREENED = STRONG_NUMBER_WORDS | PROPORTION_SCREEN_WORDS
_UTF8_NUMBER_WORDS = sorted(word.encode().decode("latin-1") for word in _SCREENED)
# The one-word entries, for letter runs; `may_start_figure` may let more through than the reader uses.
_SCREENED_RUNS = frozenset(word for word in _SCREENED if " " not in word)
_TITLE_WORDS = _SCREENED_RUNS | frozenset({"third", "quarter", "tercera", "cuarta", "millon"})
_SPACED_NUMBER_WORD = re.compile(f" {_alternatives(_UTF8_NUMBER_WORDS)} ".encode("latin-1"))
_ASCII_BYTES = bytes(range(128))
# `_TOKEN`'s word group alone. Digits, symbols and punctuation never hold a letter, so the words it finds in
# a text are exactly the word tokens of that text.
_WORD_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_DIGIT = re.compile(r"\d")
# How a sentence that may count one without a digit or number word starts ("One child remains missing"): the
# reader decides; lines and sentences without it keep the screens below.
COUNTING_ONE = "One "


def has_uncovered_digit(text: str) -> bool:
    """A digit that is not part of a year or clock time."""
    # The only digits ASCII text can hold are 0-9: when none occurs (most lines), ten `in` tests (memchr)
    # say so faster than the regex scan.
    if text.isascii() and not any(map(text.__contains__, _ASCII_DIGITS)):
        return False
    return _UNCOVERED_DIGIT.match(text) is not None


def _spaced_number_word(encoded: bytes) -> bool:
    return _SPACED_NUMBER_WORD.search(b" " + encoded.translate(_BYTE_WORDS) + b" ") is not None


def has_number_word(text: str) -> bool:
    """A number word other than "one"/"un"/"una" among the letter runs of the lower-cased text."""
    encoded = text.encode()
    if text.isascii():
        return _spaced_number_word(encoded)  # the translation lower-cases ASCII
    # The text's non-ASCII characters alone (UTF-8 without its ASCII bytes). When lower-casing leaves them
    # as they are (accented small letters, punctuation), lower-casing the text only changes ASCII letters,
    # which the translation does: the whole text need not be lower-cased first.
    others = encoded.translate(None, _ASCII_BYTES).decode()
    if others.lower() != others:
        encoded = text.lower().encode()
        others = encoded.translate(None, _ASCII_BYTES).decode()
    if _spaced_number_word(encoded):
        return True
    # When the non-ASCII characters are all letters, every letter run is bounded by spaces in the
    # translation, and no number word was found among them.
    if others.isalpha():
        return False
    return not _SCREENED_RUNS.isdisjoint(_LETTERS.findall(text.lower()))


def may_start_figure(text: str) -> bool:
    """False when `SentenceReader(text).figures()` is certainly empty: no digit and no word token that is a
    number word (a figure starts at a digit token or at a word the reader takes for the start of a written
    number, and every multiplier it looks ahead for is itself a strong number word). Most headlines are
    skipped this way."""
    if _DIGIT.search(text) is not None:
        return True
    if text.isascii():  # word tokens are ASCII: `fold` is lower-casing
        return not _TITLE_WORDS.isdisjoint(map(str.lower, _WORD_TOKEN.findall(text)))
    return not _TITLE_WORDS.isdisjoint(map(fold, _WORD_TOKEN.findall(text)))
