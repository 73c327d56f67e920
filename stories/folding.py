"""Folding text for comparison: lower case without accents, the one way detection, key figures, fingerprints
and the same-story model compare words ("Cúcuta" = "CUCUTA" = "cucuta", "Ureña" = "Urena").

`fold` (one word, cached) and `fold_text` (a whole text, one C-level translate) map the Latin letters with
diacritics of Latin-1 and Latin Extended-A to their base letters (`ACCENTS`); `fold_compat` also applies
Unicode compatibility decomposition (ligatures, superscripts), for text outside those ranges. The fast
byte-table paths of `stories.topics` and `stories.fingerprint` are built from `ACCENTS`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def _accent_table() -> dict[int, str]:
    """Latin letters with diacritics (Latin-1 and Latin Extended-A) mapped to their base letters."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        base = "".join(
            ch for ch in unicodedata.normalize("NFD", chr(code)) if unicodedata.category(ch) != "Mn"
        )
        if base != chr(code) and base.isascii():
            table[code] = base
    return table


ACCENTS = _accent_table()
_DIACRITICS = re.compile(r"[\u0300-\u036f]")


def fold_text(text: str) -> str:
    """Lower case without accents, for whole texts: one C-level translate, no per-character Python."""
    return text.lower().translate(ACCENTS)


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Lower case without accents: "Millón" -> "millon". Cached: the same words recur in every article."""
    return word.lower() if word.isascii() else word.lower().translate(ACCENTS)


def fold_compat(text: str) -> str:
    """`fold_text` after compatibility decomposition: any combining mark dropped, "ﬁ" -> "fi"."""
    if text.isascii():
        return text.lower()  # nothing to decompose, no accents to drop
    return _DIACRITICS.sub("", unicodedata.normalize("NFKD", text)).lower()
