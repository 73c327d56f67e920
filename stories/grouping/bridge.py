"""The EN↔ES bridge: Spanish words looked up in an English lexicon, so a translation and its original can be
compared word for word.

The lexicon (`data/es_en_lexicon.tsv.gz`, about 44,000 Spanish word forms) was made offline with Apertium's
English–Spanish pair by `make bridge-lexicon`; at run time it is a table lookup, so no system package is
needed and a headline costs microseconds, not Apertium's 1.4 ms. Proper names are never translated (Apertium
turns "Boca de Grita" into "Mouth of Shout"): the caller passes only lower-case words through.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from stories.folding import fold

LEXICON_FILE = Path(__file__).resolve().parent / "data" / "es_en_lexicon.tsv.gz"


@cache
def lexicon(path: Path = LEXICON_FILE) -> dict[str, tuple[str, ...]]:
    """Folded Spanish word -> its English words. Where folding merges two forms ("ejército" army, "ejercito" I
    exercise), the accented one wins: in news copy without accents (capitals, careless typing) the noun is
    the likelier reading."""
    table: dict[str, tuple[str, ...]] = {}
    accented: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or "\t" not in line:
                continue
            spanish, english = line.rstrip("\n").split("\t", 1)
            key = fold(spanish)
            has_accent = key != spanish
            if key in table and (key in accented or not has_accent):
                continue
            table[key] = tuple(english.split())
            if has_accent:
                accented.add(key)
    return table


def bridge_available() -> bool:
    """Whether cross-language comparison runs in full (the lexicon loads) or in reduced mode (names, figures
    and shared word forms only)."""
    try:
        return bool(lexicon())
    except (OSError, EOFError, ValueError):
        return False


def to_english(word: str) -> tuple[str, ...] | None:
    """English words for a folded Spanish word, or None when the lexicon does not know it."""
    try:
        return lexicon().get(word)
    except (OSError, EOFError, ValueError):
        return None
