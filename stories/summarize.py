"""Summaries: the lead of the cleaned article, at most 300 characters, in the article's own words.

Extractive on purpose: nothing is translated or paraphrased, so the summary is always in the entry's
language and never says something the outlet did not.
"""

from __future__ import annotations

from stories.cleanup import KEY_WORDS, clean_article, split_sentences

MAX_SUMMARY_CHARS = 300
# Lines shorter than this without a full stop are section labels, bylines or headlines, not the lead.
_MIN_LEAD_WORDS = 6
_ELLIPSIS = "…"


def _lead_sentences(body: str, title: str, limit: int) -> list[str]:
    # A sentence repeats the title (`paragraph_key` equal) only if its first word is the title's first: that
    # one word is found far cheaper than a whole key, which is built only for the sentences that pass (and
    # the title's once one does).
    first_word = KEY_WORDS.search
    folded_title = title.casefold()
    found = first_word(folded_title)
    title_first = found.group() if found else ""
    title_key: str | None = None
    sentences: list[str] = []
    size = 0
    for paragraph in body.split("\n\n"):
        for line in paragraph.split("\n"):
            # Only whether there are 6 or 12 words matters: splitting stops after 12 (a 13th holds the rest).
            words = len(line.split(None, 2 * _MIN_LEAD_WORDS))
            if words < _MIN_LEAD_WORDS:
                continue
            is_prose = line.rstrip("\"') ").endswith((".", "!", "?", "…"))
            if not is_prose and words < 2 * _MIN_LEAD_WORDS:
                continue
            for sentence in split_sentences(line):
                folded = sentence.casefold()
                found = first_word(folded)
                if (found.group() if found else "") == title_first:
                    if title_key is None:
                        title_key = _key(folded_title)
                    if _key(folded) == title_key:
                        continue  # the headline repeated as the first line
                sentences.append(sentence)
                size += len(sentence) + 1
                if size > limit:
                    # These sentences joined are longer than `limit` already: summarize never reaches a later
                    # one, so the rest of the paragraph is not read either.
                    return sentences
    return sentences


def _key(folded: str) -> str:
    """`paragraph_key` of a text already case-folded."""
    return " ".join(KEY_WORDS.findall(folded))


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
