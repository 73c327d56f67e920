"""Is an entry on the beat, and which sub-topics does it touch? Rules from TOPICS_FILE, explained.

One pass over the entry's words finds every term of the catalog (accent- and case-insensitive, whole
words); the beat's rules then look for their groups inside a window of consecutive sentences, so two
countries named paragraphs apart in a markets round-up do not make a border story.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import compress, repeat

from stories.language import detect_language, normalise_language
from stories.model import Detection, Entry
from stories.topics import Rule, Term, TopicCatalog, fold_words, group_owner, matches_words

# The lead decides what a story is about; past this many characters of body we stop reading, which also
# bounds the cost of entries whose feed carries a whole article.
MAX_BODY_CHARS = 3000
# Below this many characters (a bare headline) the language guess is too shaky to narrow the terms with:
# every term is tried, so an English headline misread as Spanish still matches "border".
MIN_CHARS_FOR_LANGUAGE = 100
# A sub-topic named in the headline or the first sentence is what the story is about; further down it takes
# `min` distinct terms ("aid" once in paragraph five does not make an aid story).
LEAD_SENTENCES = 2
# "[.!?]+\s+|\n+" written to start with one character class, which the regex engine scans for quickly
# instead of trying both alternatives at every character.
_SENTENCE_END = re.compile(r"[.!?\n](?:(?<=[.!?])[.!?]*\s+|(?<=\n)\n*)")
_UNSEEN: tuple[Term, ...] = (Term("", (), False, None, ""),)  # truthy marker: a word not looked up yet


@dataclass(slots=True)
class _Hits:
    """Where each owner's terms matched: owner -> sentence -> terms, in order of appearance."""

    by_owner: dict[str, dict[int, list[Term]]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, term: Term, sentence: int) -> None:
        terms = self.by_owner[term.owner].setdefault(sentence, [])
        if term not in terms:
            terms.append(term)

    def sentences(self, owner: str) -> dict[int, list[Term]]:
        return self.by_owner.get(owner, {})

    def terms(self, owner: str, *, title_only: bool = False) -> list[Term]:
        """The owner's distinct terms, in order of first appearance (sentence 0 is the title)."""
        distinct: dict[str, Term] = {}
        found = self.sentences(owner)
        for sentence in sorted(found):
            if title_only and sentence > 0:
                break
            for term in found[sentence]:
                distinct.setdefault(term.written, term)
        return list(distinct.values())


def detect(entry: Entry, catalog: TopicCatalog) -> Detection:
    """Decide whether `entry` is on the beat; `matched` and `excluded_by` say why."""
    text = entry.text
    language = normalise_language(entry.language) or detect_language(text)
    if len(text) < MIN_CHARS_FOR_LANGUAGE:
        language = None
    sentences = _sentences(entry)
    hits = _find_terms(sentences, catalog, language)

    evidence: list[Term] = []
    fired = False
    for rule in catalog.rules:
        window_terms = _rule_evidence(rule, hits, catalog.window)
        if window_terms is not None:
            fired = True
            evidence.extend(window_terms)

    if not fired:
        partial = [term for owner in _group_owners(catalog) for term in hits.terms(owner)]
        return Detection(relevant=False, matched=_written(partial))

    excluded_by = tuple(_vetoes(catalog, hits, sentences, language))
    if excluded_by:
        return Detection(relevant=False, matched=_written(evidence), excluded_by=excluded_by)

    topics = [catalog.beat.name]
    for sub in catalog.subtopics:
        found = hits.terms(sub.owner)
        in_lead = any(sentence < LEAD_SENTENCES for sentence in hits.sentences(sub.owner))
        if found and (in_lead or len(found) >= sub.min_hits):
            topics.append(sub.topic.name)
            evidence.extend(found)
    return Detection(relevant=True, topics=tuple(topics), matched=_written(evidence))


def _sentences(entry: Entry) -> list[list[str]]:
    """The title, then the body's sentences, each as folded words."""
    body = entry.content if len(entry.content) > len(entry.summary) else entry.summary
    parts = [entry.title, *_SENTENCE_END.split(body[:MAX_BODY_CHARS])]
    return [words for words in (fold_words(part) for part in parts if part) if words]


def _find_terms(sentences: list[list[str]], catalog: TopicCatalog, language: str | None) -> _Hits:
    hits = _Hits()
    starting_with = catalog.index.starting_with
    known = catalog.index.known_starts().get
    for number, words in enumerate(sentences):
        # Most words start no term and were seen before: one C-level pass of lookups settles them, and only
        # the positions with terms (or words not seen yet) reach the Python loop.
        found = list(map(known, words, repeat(_UNSEEN, len(words))))
        for position in compress(range(len(words)), found):
            terms = found[position]
            if terms is _UNSEEN:
                terms = starting_with(words[position])
            for term in terms:
                if len(term.words) > 1 and not matches_words(term, words, position):
                    continue
                if term.applies_to(language):
                    hits.add(term, number)
    return hits


def _rule_evidence(rule: Rule, hits: _Hits, window: int) -> list[Term] | None:
    """The terms of the first window where every group of `rule` matched, or None.

    Sentence 0 is the title: it belongs to every window, since a headline speaks for the whole story.
    """
    per_group = [hits.sentences(group_owner(name)) for name in rule.groups]
    if not all(per_group):
        return None
    body_sentences = {sentence for found in per_group for sentence in found if sentence > 0}
    starts = sorted({max(1, sentence - window + 1) for sentence in body_sentences}) or [1]
    for start in starts:
        span = (0, *range(start, start + window))
        if all(any(sentence in found for sentence in span) for found in per_group):
            return [term for found in per_group for sentence in span for term in found.get(sentence, ())]
    return None


def _vetoes(
    catalog: TopicCatalog, hits: _Hits, sentences: list[list[str]], language: str | None
) -> list[str]:
    vetoes: list[str] = []
    for exclusion in catalog.exclusions:
        found = hits.terms(exclusion.owner, title_only=exclusion.title_only)
        if len(found) < exclusion.min_hits:
            continue
        if any(hits.sentences(group_owner(name)) for name in exclusion.unless):
            continue
        if exclusion.mask and _holds_without(catalog, sentences, language, found):
            continue  # a border signal of its own besides the names ("Cúcuta Deportivo") the rule blanks
        vetoes.append(f"{exclusion.name}: {', '.join(term.written for term in found)}")
    return vetoes


def _holds_without(
    catalog: TopicCatalog, sentences: list[list[str]], language: str | None, names: list[Term]
) -> bool:
    """Whether a beat rule still holds once the words of `names` are blanked out of every sentence."""
    masked = []
    for words in sentences:
        kept = list(words)
        for name in names:
            for position in range(len(words)):
                if matches_words(name, words, position):
                    kept[position : position + len(name.words)] = [""] * len(name.words)
        masked.append(kept)
    hits = _find_terms(masked, catalog, language)
    return any(_rule_evidence(rule, hits, catalog.window) is not None for rule in catalog.rules)


def _group_owners(catalog: TopicCatalog) -> list[str]:
    return list(dict.fromkeys(group_owner(name) for rule in catalog.rules for name in rule.groups))


def _written(terms: list[Term]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(term.written for term in terms))
