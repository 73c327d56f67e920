"""Is an entry on the beat, and which sub-topics does it touch? Rules from TOPICS_FILE, explained.

One pass over the entry's words finds every term of the catalog (accent- and case-insensitive, whole
words); the beat's rules then look for their groups inside a window of consecutive sentences, so two
countries named paragraphs apart in a markets round-up do not make a border story.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import compress, repeat

from stories.language import detect_language, normalise_language
from stories.model import Detection, Entry
from stories.topics import (
    LANGUAGE_KEYS,
    Rule,
    Term,
    TopicCatalog,
    fold_spans,
    matches_at,
)

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
class _Words:
    """An entry's folded words: sentence i (0 is the title; sentences without words left out) is
    tokens[starts[i]:ends[i]]. One flat list, so one pass of lookups covers the whole entry."""

    tokens: list[str]
    starts: list[int]
    ends: list[int]


@dataclass(slots=True)
class _Hits:
    """Where each owner's terms matched: owner -> sentence -> terms, in order of appearance."""

    by_owner: dict[str, dict[int, list[Term]]] = field(default_factory=lambda: defaultdict(dict))

    def terms(self, owner: str, *, title_only: bool = False) -> list[Term]:
        """The owner's distinct terms, in order of first appearance (sentence 0 is the title)."""
        distinct: dict[str, Term] = {}
        found = self.by_owner.get(owner, {})
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
    words = _words(entry)
    hits = _find_terms(words, catalog, language)

    evidence: list[Term] = []
    fired = False
    by_owner = hits.by_owner
    for rule in catalog.rules:
        if rule.owners and rule.owners[0] not in by_owner:
            continue  # most rules: their first group has no match (the full test is in _rule_evidence)
        window_terms = _rule_evidence(rule, hits, catalog.window)
        if window_terms is not None:
            fired = True
            evidence.extend(window_terms)

    if not fired:
        owners = [owner for owner in _group_owners(catalog) if owner in by_owner]
        partial = [term for owner in owners for term in hits.terms(owner)]
        return Detection(relevant=False, matched=_written(partial))

    excluded_by = tuple(_vetoes(catalog, hits, words, language))
    if excluded_by:
        return Detection(relevant=False, matched=_written(evidence), excluded_by=excluded_by)

    topics = [catalog.beat.name]
    for sub in catalog.subtopics:
        by_sentence = hits.by_owner.get(sub.owner)
        if not by_sentence:
            continue  # no term of the sub-topic: nothing to add
        found = hits.terms(sub.owner)
        in_lead = any(sentence < LEAD_SENTENCES for sentence in by_sentence)
        if in_lead or len(found) >= sub.min_hits:
            topics.append(sub.topic.name)
            evidence.extend(found)
    return Detection(relevant=True, topics=tuple(topics), matched=_written(evidence))


def _words(entry: Entry) -> _Words:
    """The title, then the body's sentences, as folded words."""
    body = entry.content if len(entry.content) > len(entry.summary) else entry.summary
    return _Words(*fold_spans([entry.title, *_SENTENCE_END.split(body[:MAX_BODY_CHARS])]))


def _find_terms(words: _Words, catalog: TopicCatalog, language: str | None) -> _Hits:
    hits = _Hits()
    by_owner = hits.by_owner
    index = catalog.index
    tokens, starts, ends = words.tokens, words.starts, words.ends
    # Most words start no term and were seen before: one C-level pass of lookups over the whole entry
    # settles them, and only the positions with terms (or words not seen yet) reach the Python loop, which
    # finds their sentence by bisection.
    found = list(map(index.known_starts().get, tokens, repeat(_UNSEEN, len(tokens))))
    longer = index.longer_starts()
    any_language = language not in LANGUAGE_KEYS  # Term.applies_to, decided once for the entry
    for position in compress(range(len(tokens)), found):
        terms = found[position]
        word = tokens[position]
        if terms is _UNSEEN:
            terms = index.starting_with(word)
            if not terms:
                continue
        number = bisect_right(starts, position) - 1
        end = ends[number]
        if word in longer:  # some candidate has several words: which of them can match is settled by pair
            terms = index.starting_at(word, tokens[position + 1] if position + 1 < end else None)
        for term in terms:
            # starting_at checked the first two words; only longer terms need the rest compared.
            if len(term.words) > 2 and not matches_at(term, tokens, position, end):
                continue
            if any_language or term.language is None or term.language == language:
                owner_hits = by_owner[term.owner]
                in_sentence = owner_hits.get(number)
                if in_sentence is None:
                    owner_hits[number] = [term]
                elif term not in in_sentence:
                    in_sentence.append(term)
    return hits


def _rule_evidence(rule: Rule, hits: _Hits, window: int) -> list[Term] | None:
    """The terms of the first window where every group of `rule` matched, or None.

    Sentence 0 is the title: it belongs to every window, since a headline speaks for the whole story.
    """
    by_owner = hits.by_owner
    per_group: list[dict[int, list[Term]]] = []
    for owner in rule.owners:
        found = by_owner.get(owner)
        if not found:
            return None  # most rules stop here: a group without any match
        per_group.append(found)
    body_sentences = [sentence for found in per_group for sentence in found if sentence > 0]
    # A group matched in the title is in every window; only the others decide where the window may start.
    outside_title = [found for found in per_group if 0 not in found]
    if outside_title:
        starts = sorted({max(1, sentence - window + 1) for sentence in body_sentences}) or [1]
    else:  # every window holds, so the first one: where the earliest body match's window starts
        starts = [max(1, min(body_sentences) - window + 1)] if body_sentences else [1]
    for start in starts:
        body_span = range(start, start + window)
        if all(any(sentence in found for sentence in body_span) for found in outside_title):
            span = (0, *body_span)
            return [term for found in per_group for sentence in span for term in found.get(sentence, ())]
    return None


def _vetoes(catalog: TopicCatalog, hits: _Hits, words: _Words, language: str | None) -> list[str]:
    vetoes: list[str] = []
    by_owner = hits.by_owner
    for exclusion in catalog.exclusions:
        found: list[Term] = []
        if exclusion.owner in by_owner:  # most entries have none of an exclusion's terms
            found = hits.terms(exclusion.owner, title_only=exclusion.title_only)
        if len(found) < exclusion.min_hits:
            continue
        if any(all(owner in by_owner for owner in owners) for owners in exclusion.unless_owners):
            continue
        if exclusion.mask and _holds_without(catalog, words, language, found):
            continue  # a border signal of its own besides the names ("Cúcuta Deportivo") the rule blanks
        vetoes.append(f"{exclusion.name}: {', '.join(term.written for term in found)}")
    return vetoes


def _holds_without(catalog: TopicCatalog, words: _Words, language: str | None, names: list[Term]) -> bool:
    """Whether a beat rule still holds once the words of `names` are blanked out of every sentence."""
    tokens = words.tokens
    masked = list(tokens)
    for start, end in zip(words.starts, words.ends, strict=True):
        for name in names:
            for position in range(start, end):
                if matches_at(name, tokens, position, end):
                    masked[position : position + len(name.words)] = [""] * len(name.words)
    hits = _find_terms(_Words(masked, words.starts, words.ends), catalog, language)
    return any(_rule_evidence(rule, hits, catalog.window) is not None for rule in catalog.rules)


# rules -> their group owners, for the entries no rule fires on. Keyed by the rules tuple's id and holding the
# tuple, so an entry for a catalog that is gone is never mistaken for a new catalog's.
_GROUP_OWNERS: dict[int, tuple[tuple[Rule, ...], tuple[str, ...]]] = {}


def _group_owners(catalog: TopicCatalog) -> tuple[str, ...]:
    rules = catalog.rules
    cached = _GROUP_OWNERS.get(id(rules))
    if cached is None or cached[0] is not rules:
        if len(_GROUP_OWNERS) >= 64:
            _GROUP_OWNERS.clear()
        cached = (rules, tuple(dict.fromkeys(owner for rule in rules for owner in rule.owners)))
        _GROUP_OWNERS[id(rules)] = cached
    return cached[1]


def _written(terms: list[Term]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(term.written for term in terms))
