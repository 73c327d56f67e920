"""The `/news` search language: words, "quoted phrases", -exclusions and a few `key:value` filters.

`parse_news_query` never raises: whatever a reporter types (unbalanced quotes, 10 KB of pasted junk,
operators of some other search engine) becomes a `NewsQuery` whose words contain only letters and digits,
plus a list of `problems` in plain words. The engines receive words, never raw text, which is what keeps
engine syntax errors and injection out of reach.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from handlers.news.durations import parse_since
from values.query import NewsQuery

# Longer input is pasted junk; the cut keeps parsing and the engines' work bounded.
MAX_QUERY_CHARS = 1000
MAX_POSITIVE_PARTS = 12
MAX_EXCLUDED_PARTS = 8
MAX_PHRASE_WORDS = 12
MAX_WORD_CHARS = 64

FILTER_KEYS = ("since", "source", "lang", "topic")
SINCE_EXAMPLE = "since:7d or since:2019-02-23"

_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits; underscore separates like the engines do
_LANG = re.compile(r"^[a-z]{2,3}$")


def words_of(text: str) -> tuple[str, ...]:
    """The searchable words of a fragment, capped in length."""
    return tuple(w[:MAX_WORD_CHARS] for w in _WORD.findall(text))


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Text after an opening quote up to the closing one; an unbalanced quote runs to the end."""
    end = text.find('"', start)
    if end == -1:
        return text[start:], len(text)
    return text[start:end], end + 1


def _read_bare(text: str, start: int) -> tuple[str, int]:
    end = start
    while end < len(text) and not text[end].isspace() and text[end] != '"':
        end += 1
    return text[start:end], end


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text[:MAX_QUERY_CHARS])
    # Typographic quotes are what phones and word processors produce for ".
    return text.translate({0x201C: '"', 0x201D: '"', 0x201E: '"', 0x00AB: '"', 0x00BB: '"', 0: " "})


def parse_news_query(text: str, now: datetime) -> NewsQuery:
    """Parse a search line. Never raises; what it cannot use is reported in `problems`."""
    text = _normalise(text)
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    filters: dict[str, str] = {}
    problems: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
            continue
        negative = char == "-" and position + 1 < len(text) and not text[position + 1].isspace()
        if negative:
            position += 1
        if text[position] == '"':
            fragment, position = _read_quoted(text, position + 1)
            words = words_of(fragment)
        else:
            fragment, position = _read_bare(text, position)
            key, sep, value = fragment.partition(":")
            if sep and key.lower() in FILTER_KEYS and not negative:
                if not value and position < len(text) and text[position] == '"':
                    value, position = _read_quoted(text, position + 1)
                filters[key.lower()] = value.strip()
                continue
            words = words_of(fragment)
        if not words:
            continue
        words = words[:MAX_PHRASE_WORDS]
        if negative:
            excluded.append(words)
        elif len(words) > 1:
            # A quoted phrase, or "Simón-Bolívar" typed bare: both must match as written, in order.
            phrases.append(words)
        else:
            terms.append(words[0])

    since = None
    if "since" in filters:
        since = parse_since(filters["since"], now)
        if since is None:
            shown = filters["since"][:40] or "(nothing)"
            problems.append(f"I couldn't read the date in `since:{shown}`. Try {SINCE_EXAMPLE}.")
    lang = None
    if "lang" in filters:
        candidate = filters["lang"].lower()
        if _LANG.match(candidate):
            lang = candidate
        else:
            problems.append("`lang:` takes a language code such as lang:es or lang:en.")
    source = filters.get("source") or None
    topic = filters.get("topic", "").lower() or None
    if source is not None:
        source = source[:100]
    if topic is not None:
        topic = topic[:100]

    terms = list(dict.fromkeys(terms))
    positive_budget = MAX_POSITIVE_PARTS
    kept_terms = terms[:positive_budget]
    kept_phrases = list(dict.fromkeys(phrases))[: max(0, positive_budget - len(kept_terms))]
    kept_excluded = list(dict.fromkeys(excluded))[:MAX_EXCLUDED_PARTS]
    return NewsQuery(
        terms=tuple(kept_terms),
        phrases=tuple(kept_phrases),
        excluded=tuple(kept_excluded),
        since=since,
        source=source,
        lang=lang,
        topic=topic,
        problems=tuple(problems),
    )
