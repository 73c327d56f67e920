"""Tokens of one sentence, and the sentence as the figure rules read it.

A token is a digit group ("1,6"), a word ("Venezuela's"), a currency or percent sign, or one punctuation mark,
with its character span and its folded text (lower case, no accents) that every rule compares. Rules refer
to tokens by their index in the sentence.
"""

from __future__ import annotations

import re
from operator import attrgetter

from stories.folding import fold

# A digit group ("1,6"), a word ("Venezuela's"), a currency or percent sign, or one punctuation mark. The
# alternatives start with disjoint characters, except that a sign is also punctuation (so it comes first);
# words, the commonest, are tried first, and the lookahead rejects the spaces between tokens in one step.
# ("US$", "R$" and "COL$" read as a word and "$", so there is no alternative for them.)
_TOKEN = re.compile(
    r"(?=\S)(?:"
    r"(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)"
    r"|(?P<num>\d+(?:[.,]\d+)*)"
    r"|(?P<sym>[$€£%])"
    r"|(?P<punct>[^\w\s]))"
)
# `_TOKEN` for ASCII text, where it matches exactly the same spans and groups: `\d` is [0-9] and `[^\W\d_]` is
# [A-Za-z]. Plain character sets skip sre's Unicode category lookups; most sentences are ASCII.
_ASCII_TOKEN = re.compile(
    r"(?=\S)(?:"
    r"(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*)"
    r"|(?P<num>[0-9]+(?:[.,][0-9]+)*)"
    r"|(?P<sym>[$%])"
    r"|(?P<punct>[^A-Za-z0-9_\s]))"
)


# A sentence's tokens are kept as parallel lists (kinds, texts, folded texts) built by C-level `map` calls: a
# sentence has ~20 tokens, and a Python-level object per token cost more than the regex scan that finds them.
_group = re.Match.group
_kind = attrgetter("lastgroup")  # every alternative of `_TOKEN` is a named group, so never None
_WORDISH = frozenset({"word", "sym"})


class Sentence:
    """One sentence, its language and its tokens.

    Token i is `kinds[i]` ("num", "word", "sym" or "punct": the group of `_TOKEN` that matched), `texts[i]`,
    `folded[i]` (lower case, accents removed: what every rule compares) and the span `start(i)`-`end(i)`.
    `word(i)` is the folded word or sign at i, "" for anything else (a number, punctuation, a position outside
    the sentence), so rules can look around without bound checks.
    """

    __slots__ = ("_matches", "folded", "kinds", "language", "size", "text", "texts")

    def __init__(self, text: str, language: str | None) -> None:
        self.text = text
        self.language = language
        if text.isascii():
            matches = list(_ASCII_TOKEN.finditer(text))
            self.texts = list(map(_group, matches))
            self.folded = list(map(str.lower, self.texts))  # what `fold` does to ASCII, without its cache
        else:
            matches = list(_TOKEN.finditer(text))
            self.texts = list(map(_group, matches))
            # Most tokens of accented text are still ASCII ("de", "12", ","): lower-casing them is all `fold`
            # does, without its cache lookup (or a miss, for the many words seen first).
            self.folded = [token.lower() if token.isascii() else fold(token) for token in self.texts]
        self.kinds: list[str] = list(map(_kind, matches))
        self._matches = matches  # spans are asked for only around numbers
        self.size = len(matches)

    def span(self, index: int) -> tuple[int, int]:
        return self._matches[index].span()

    def start(self, index: int) -> int:
        return self._matches[index].start()

    def end(self, index: int) -> int:
        return self._matches[index].end()

    def word(self, index: int) -> str:
        if 0 <= index < self.size and self.kinds[index] in _WORDISH:
            return self.folded[index]
        return ""
