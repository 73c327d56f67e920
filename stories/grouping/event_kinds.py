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

from stories.grouping.terms import bridged_terms

EVENT_KINDS_FILE = Path(__file__).resolve().parent / "data" / "event_kinds.toml"


@cache
def kind_index(path: Path = EVENT_KINDS_FILE) -> dict[str, frozenset[str]]:
    """term -> the kinds of event it says. A term several kinds share ("mine": a landmine, a gold mine)
    says all of them."""
    with path.open("rb") as handle:
        kinds = tomllib.load(handle)["kinds"]
    index: dict[str, set[str]] = {}
    for kind, words in kinds.items():
        for language in ("en", "es"):
            for word in str(words.get(language, "")).split():
                for term in bridged_terms(word, language, ignore_case=True):
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
