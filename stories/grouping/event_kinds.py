"""Which kinds of news event a report tells (`data/event_kinds.toml`): an arrest, a reopening, a blockade.
The words of each kind go through the same bridging and stemming as the text they are looked for in
(`terms.bridged_terms`), so a Spanish "incautan" and an English "seized" both say "seizure", and one table
lookup per term tells an entry's kinds.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from stories.folding import fold
from stories.grouping.bridge import to_english
from stories.grouping.terms import bridged_terms

EVENT_KINDS_FILE = Path(__file__).resolve().parent / "data" / "event_kinds.toml"


@cache
def kind_index(path: Path = EVENT_KINDS_FILE) -> dict[str, frozenset[str]]:
    """term -> the kinds of event it says. A term several kinds share says all of them."""
    with path.open("rb") as handle:
        kinds = tomllib.load(handle)["kinds"]
    index: dict[str, set[str]] = {}
    for kind, words in kinds.items():
        english = words.get("en", "").split()
        own = {term for word in english for term in bridged_terms(word, "en", ignore_case=True)}
        for term in own:
            index.setdefault(term, set()).add(kind)
        for word in words.get("es", "").split():
            terms = bridged_terms(word, "es", ignore_case=True)
            if to_english(fold(word)) is not None:
                # The bridge's English for a Spanish word counts only where it is one of the kind's own
                # English words: it also gives ordinary ones ("paro" -> "stop", "detenido" -> "person",
                # "granada" -> "pomegranate") that English copy uses for anything.
                terms = [term for term in terms if term in own]
            for term in terms:  # a word the bridge does not know is its Spanish stem, in copy as here
                index.setdefault(term, set()).add(kind)
    return {term: frozenset(found) for term, found in index.items()}


def event_kinds(terms: Iterable[str]) -> frozenset[str]:
    """The kinds of event the terms of a title and lead tell."""
    index = kind_index()
    found: set[str] = set()
    for term in set(terms):
        kinds = index.get(term)
        if kinds:
            found.update(kinds)
    return frozenset(found)
