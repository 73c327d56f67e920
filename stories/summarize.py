"""Summaries: the lead of the cleaned article, at most 300 characters, in the article's own words.

Extractive on purpose: nothing is translated or paraphrased, so the summary is always in the entry's
language and never says something the outlet did not.
"""

from __future__ import annotations

from stories.cleanup import clean_article, paragraph_key, split_sentences

MAX_SUMMARY_CHARS = 300
# Lines shorter than this without a full stop are section labels, bylines or headlines, not the lead.
_MIN_LEAD_WORDS = 6
_ELLIPSIS = "…"


def _lead_sentences(body: str, title: str, limit: int) -> list[str]:
    title_key = paragraph_key(title)
    sentences: list[str] = []
    size = 0
    for paragraph in body.split("\n\n"):
        if size > limit:
            break  # the lead is found; the rest of a long article is never read
        for line in paragraph.split("\n"):
            words = line.split()
            is_prose = line.rstrip("\"') ").endswith((".", "!", "?", "…"))
            if len(words) < _MIN_LEAD_WORDS or (not is_prose and len(words) < 2 * _MIN_LEAD_WORDS):
                continue
            for sentence in split_sentences(line):
                if paragraph_key(sentence) != title_key:
                    sentences.append(sentence)
                    size += len(sentence) + 1
    return sentences


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - len(_ELLIPSIS)].rsplit(" ", 1)[0].rstrip(",;:- ")
    return cut + _ELLIPSIS


def summarize(body: str, title: str = "", *, limit: int = MAX_SUMMARY_CHARS, clean: bool = True) -> str:
    """The first sentences of `body` that fit in `limit`; `clean=False` when `body` came from `clean_article`.

    Falls back to the title when the body has no prose (teaser-only feeds with an empty description).
    """
    cleaned = (clean_article(body) if clean else body) if body else ""
    sentences = _lead_sentences(cleaned, title, limit)
    if not sentences:
        fallback = cleaned.replace("\n", " ").strip() or title
        return _shorten(" ".join(fallback.split()), limit)
    summary = sentences[0]
    for sentence in sentences[1:]:
        if len(summary) + 1 + len(sentence) > limit:
            break
        summary = f"{summary} {sentence}"
    return _shorten(summary, limit)
