"""A parsed `/news` search, as `handlers.news.query.parse_news_query` builds it and `storage.search` runs it.

Every word is letters and digits only: the engines receive words, never raw text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NewsQuery:
    """A parsed search. Every word is letters/digits only, NFC, and capped in length by the parser."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[tuple[str, ...], ...] = ()  # each a word or a phrase
    since: datetime | None = None
    source: str | None = None
    lang: str | None = None
    topic: str | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def has_text(self) -> bool:
        """True when there is something positive to match (exclusions alone match nothing)."""
        return bool(self.terms or self.phrases)

    @property
    def has_filters(self) -> bool:
        return any(value is not None for value in (self.since, self.source, self.lang, self.topic))

    def describe(self) -> str:
        """The query as understood, for reply titles: `venezuela "puente simón bolívar" -sports lang:es`."""
        parts: list[str] = list(self.terms)
        parts += [f'"{" ".join(p)}"' for p in self.phrases]
        parts += ["-" + (x[0] if len(x) == 1 else f'"{" ".join(x)}"') for x in self.excluded]
        if self.since is not None:
            parts.append(f"since:{self.since:%Y-%m-%d %H:%M}")
        for key in ("source", "lang", "topic"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}:{value}")
        return " ".join(parts)
