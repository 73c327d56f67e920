"""The beat and its sub-topics, loaded from TOPICS_FILE (`stories/topics.toml`) and compiled for matching.

The file is written for desk editors (see the comments at its top); this module turns it into a
`TopicCatalog`: the `Topic`s adapters show, plus the compiled term index, rules and exclusions that
`stories.detect` runs. A malformed file fails at load time with one line naming the file and the problem.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from config.settings import ConfigurationError
from stories.folding import fold_compat
from stories.model import Topic

LANGUAGE_KEYS = ("en", "es", "any")
_WORDS = re.compile(r"[^\W_]+")
# fold_spans' mark between two parts: a control character, no word character, never made by folding.
_SENTENCE_MARK = "\x00"
_SENTENCE_JOIN = f" {_SENTENCE_MARK} "
_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6})$")
_SUGGEST_CUTOFF = 70.0
PREFIX_KEY = 3  # a "word*" term needs at least this many letters before the star
SUBTOPIC_MIN_HITS = 2  # distinct terms a sub-topic needs in the body (one in the headline or lead is enough)


class TopicsFileError(ConfigurationError):
    """TOPICS_FILE cannot be used; the message is one line: the file, then what is wrong."""


def fold_words(text: str) -> list[str]:
    """Lower-case, accent-free words: how both the rules and the entries are compared.

    Decomposing first keeps "ñ" as "n" (not dropped), so "Ureña" and "Urena" are the same word, while
    splitting on anything that is not a letter or digit gives the word boundaries ("hondureña" stays whole).
    """
    words = _folded_words(text, _FOLD_WORD_BYTES)
    return _words(fold_compat(text), _WORD_BYTES) if words is None else words


def fold_spans(parts: list[str]) -> tuple[list[str], list[int], list[int]]:
    """`fold_words` of each part, folded in one pass for all of them: (tokens, starts, ends), where the words
    of the i-th part that has any are tokens[starts[i]:ends[i]]. Between two parts, tokens may hold a mark
    (a NUL), which is no word.

    Folding and splitting cost a handful of C calls per part, and an entry has dozens of sentences. Joined by
    a NUL between spaces, each part folds to its own fold between the marks: NFKD never reorders across a
    space (no combining mark), diacritics go one by one, and lower-casing reads its only context (a final
    sigma) no further than a character that is neither cased nor case-ignorable, as a space is, like a
    string's end.
    """
    starts: list[int] = []
    ends: list[int] = []
    if any(_SENTENCE_MARK in part for part in parts):  # a mark in the text itself: one part at a time
        tokens: list[str] = []
        for part in parts:
            words = fold_words(part)
            if words:
                starts.append(len(tokens))
                tokens.extend(words)
                ends.append(len(tokens))
        return tokens, starts, ends
    joined = _SENTENCE_JOIN.join(parts)
    found = _folded_words(joined, _FOLD_WORD_BYTES_AND_MARK)
    tokens = _words(fold_compat(joined), _WORD_BYTES_AND_MARK) if found is None else found
    start = 0
    for _ in range(len(parts) - 1):  # one mark between each two parts
        end = tokens.index(_SENTENCE_MARK, start)
        if end > start:
            starts.append(start)
            ends.append(end)
        start = end + 1
    if start < len(tokens):
        starts.append(start)
        ends.append(len(tokens))
    return tokens, starts, ends


def _word_table(latin1: bool, keep: str = "") -> bytes:
    """`_words`' bytes table: letters and digits (str.isalnum, the regex's test) and `keep` stay, every other
    character becomes a space; for Latin-1 text every byte is a character, for UTF-8 text only ASCII bytes
    are (the others are left as they are)."""
    return bytes(
        code if chr(code).isalnum() or chr(code) in keep or (code >= 128 and not latin1) else 32
        for code in range(256)
    )


_WORD_BYTES = {latin1: _word_table(latin1) for latin1 in (True, False)}
_WORD_BYTES_AND_MARK = {latin1: _word_table(latin1, _SENTENCE_MARK) for latin1 in (True, False)}
_ASCII_BYTES = bytes(range(128))
# _fold_word_table's byte for a character it cannot fold ("µ", "½": not one Latin-1 character).
_UNFOLDABLE = 1


def _fold_word_table(keep: str = "") -> bytes:
    """`_fold` and `_words` at once, for Latin-1 text: each character's fold (one character for all but four
    of them, NFKD working character by character on text that holds no combining mark, and lower-casing
    needing no context outside Greek), kept when a letter or digit, else a space; the rest _UNFOLDABLE."""
    table = bytearray()
    for code in range(256):
        folded = chr(code) if chr(code) in keep else fold_compat(chr(code))
        if len(folded) != 1 or ord(folded) > 255:
            table.append(_UNFOLDABLE)
        else:
            table.append(ord(folded) if folded.isalnum() or folded in keep else 32)
    return bytes(table)


def _folded_words(text: str, table: bytes) -> list[str] | None:
    """`_words(fold_compat(text))` through one bytes table for Latin-1 text (most news text), else None."""
    try:
        folded = text.encode("latin-1").translate(table)
    except UnicodeEncodeError:
        return None
    if _UNFOLDABLE in folded:  # only "µ", "½"... give this byte (the text's own \x01 became a space)
        return None
    return folded.decode("latin-1").split()


_FOLD_WORD_BYTES = _fold_word_table()
_FOLD_WORD_BYTES_AND_MARK = _fold_word_table(_SENTENCE_MARK)


def _words(folded: str, tables: dict[bool, bytes]) -> list[str]:
    """`_WORDS.findall(folded)`, faster: every character that is no letter or digit (str.isalnum, the
    regex's own test) becomes a space, and the text is split at whitespace. Text that Latin-1 can hold (all
    but a few: folding leaves "¿", "«", "ß") goes through one bytes table, at C speed; other text has its
    ASCII characters done so and its few distinct other ones replaced one by one (ASCII bytes never occur
    inside a multi-byte UTF-8 character), instead of a regex scanning all of it."""
    try:
        return folded.encode("latin-1").translate(tables[True]).decode("latin-1").split()
    except UnicodeEncodeError:
        pass
    encoded = folded.encode("utf-8", "surrogatepass")
    for char in set(encoded.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")):
        if not char.isalnum():
            encoded = encoded.replace(char.encode("utf-8", "surrogatepass"), b" ")
    return encoded.translate(tables[False]).decode("utf-8", "surrogatepass").split()


def group_owner(group: str) -> str:
    """The `Term.owner` of a beat term group's terms (exclusions and sub-topics have their own owners)."""
    return f"group:{group}"


@dataclass(frozen=True, slots=True)
class Term:
    """One term of the file, compiled: `written` is what the editor wrote and what `matched` reports."""

    written: str
    words: tuple[str, ...]
    prefix: bool  # the last word matches any ending ("fronteriz*")
    language: str | None  # "en" / "es", or None for terms used in every language
    owner: str  # the group, exclusion or sub-topic the term belongs to

    def applies_to(self, language: str | None) -> bool:
        return self.language is None or language not in LANGUAGE_KEYS or self.language == language


@dataclass(frozen=True, slots=True)
class Rule:
    """The beat holds when every group in `groups` matches within one window of sentences."""

    name: str
    groups: tuple[str, ...]
    # `group_owner` of each group: detection looks them up for every entry, so they are built once here.
    owners: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "owners", tuple(map(group_owner, self.groups)))


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Turns the beat off when `min_hits` of its terms match (in the title only when `title_only`), unless
    one of the `unless` groups matched (an entry "frontier+closure" asks for both groups), or (with `mask`)
    unless a rule still holds once the words of its matched terms are blanked out: "Cúcuta Deportivo" names a
    club, not Cúcuta."""

    name: str
    owner: str
    min_hits: int
    unless: tuple[str, ...]
    title_only: bool = False
    mask: bool = False
    # `group_owner` of the groups of each `unless` entry, built once (see Rule.owners).
    unless_owners: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owners = tuple(tuple(map(group_owner, entry.split("+"))) for entry in self.unless)
        object.__setattr__(self, "unless_owners", owners)


@dataclass(frozen=True, slots=True)
class SubTopic:
    topic: Topic
    owner: str
    min_hits: int


_CACHE_LIMIT = 200_000  # distinct words remembered by a TermIndex before it starts afresh


@dataclass(slots=True)
class TermIndex:
    """Terms keyed by their first word, so an entry is matched in one pass over its words."""

    exact: dict[str, list[Term]] = field(default_factory=dict)
    prefixed: dict[str, list[Term]] = field(default_factory=dict)  # single-word prefix terms, by 3 letters
    # word -> the terms that may start at it: news vocabulary repeats, so each word is worked out once.
    _starting: dict[str, tuple[Term, ...]] = field(default_factory=dict)
    # (word, next word or None) -> `starting_at`: worked out once per pair, like _starting per word.
    _pairs: dict[tuple[str, str | None], tuple[Term, ...]] = field(default_factory=dict)
    # First words of the terms of several words: at any other word, every candidate is a one-word term.
    _longer: set[str] = field(default_factory=set)

    def add(self, term: Term) -> None:
        if term.prefix and len(term.words) == 1:
            self.prefixed.setdefault(term.words[0][:PREFIX_KEY], []).append(term)
        else:
            self.exact.setdefault(term.words[0], []).append(term)
            if len(term.words) > 1:
                self._longer.add(term.words[0])
        self._starting.clear()
        self._pairs.clear()

    def known_starts(self) -> Mapping[str, tuple[Term, ...]]:
        """The words `starting_with` has already worked out, for a hot loop to read before calling it.

        Read-only for callers; the mapping is cleared in place (never replaced), so it stays current.
        """
        return self._starting

    def longer_starts(self) -> Set[str]:
        """Words that start a term of several words: only there does `starting_at` differ from
        `starting_with`. Read-only for callers; kept current in place, like `known_starts`."""
        return self._longer

    def starting_with(self, word: str) -> tuple[Term, ...]:
        """Terms whose first word is `word` (single-word prefix terms already checked against it)."""
        found = self._starting.get(word)
        if found is None:
            prefixed = (
                term for term in self.prefixed.get(word[:PREFIX_KEY], ()) if word.startswith(term.words[0])
            )
            found = (*self.exact.get(word, ()), *prefixed)
            if len(self._starting) >= _CACHE_LIMIT:
                self._starting.clear()
            self._starting[word] = found
        return found

    def starting_at(self, word: str, following: str | None) -> tuple[Term, ...]:
        """`starting_with(word)`, in its order, without the terms of several words whose second word cannot
        be `following` (the next word of the sentence; None at its end): those are most of the candidates at
        common words ("border" starts a dozen terms), and this settles them once per pair of words. Terms of
        three words or more still need `matches_at` for the rest."""
        key = (word, following)
        found = self._pairs.get(key)
        if found is None:
            found = tuple(
                term
                for term in self.starting_with(word)
                if len(term.words) == 1 or (following is not None and _second_word_matches(term, following))
            )
            if len(self._pairs) >= _CACHE_LIMIT:
                self._pairs.clear()
            self._pairs[key] = found
        return found


def _second_word_matches(term: Term, word: str) -> bool:
    """`matches_words`' test of a term's second word (the last one of a two-word prefix term)."""
    if term.prefix and len(term.words) == 2:
        return word.startswith(term.words[1])
    return word == term.words[1]


def matches_words(term: Term, words: list[str], position: int) -> bool:
    """Whether the words of `term` appear in `words` starting at `position`."""
    return matches_at(term, words, position, len(words))


def matches_at(term: Term, words: list[str], position: int, end: int) -> bool:
    """Whether the words of `term` appear in `words[:end]` starting at `position`."""
    size = len(term.words)
    if position + size > end:
        return False
    for offset in range(size - 1):
        if words[position + offset] != term.words[offset]:
            return False
    last = words[position + size - 1]
    return last.startswith(term.words[-1]) if term.prefix else last == term.words[-1]


@dataclass(slots=True)
class TopicCatalog:
    """The beat, its sub-topics and the compiled rules `stories.detect` runs."""

    beat: Topic
    topics: tuple[Topic, ...]  # the beat first, then the sub-topics in file order
    rules: tuple[Rule, ...]
    exclusions: tuple[Exclusion, ...]
    subtopics: tuple[SubTopic, ...]
    index: TermIndex
    window: int
    source: Path | None = None

    def get(self, name: str) -> Topic | None:
        wanted = name.strip().lower()
        return next((topic for topic in self.topics if topic.name == wanted), None)

    def names(self) -> list[str]:
        return [topic.name for topic in self.topics]

    def suggest(self, name: str) -> str | None:
        """The topic an editor probably meant ("venezuala" -> "venezuela-colombia-border"), or None."""
        wanted = name.strip().lower()
        if not wanted:
            return None
        if self.get(wanted) is not None:
            return wanted
        choices = {topic.name: f"{topic.name} {topic.title.lower()}" for topic in self.topics}
        best = process.extractOne(wanted, choices, scorer=fuzz.partial_ratio, score_cutoff=_SUGGEST_CUTOFF)
        return None if best is None else str(best[2])


def load_topics(path: Path | str) -> TopicCatalog:
    """Read and compile TOPICS_FILE; raise TopicsFileError (one line: file, problem) when unusable."""
    source = Path(path)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TopicsFileError(f"{source}: topics file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TopicsFileError(f"{source}: cannot read the topics file ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise TopicsFileError(f"{source}: not valid TOML: {error}") from None
    try:
        catalog = _compile(raw)
    except _Problem as problem:
        raise TopicsFileError(f"{source}: {problem}") from None
    catalog.source = source
    return catalog


class _Problem(Exception):
    """What is wrong in the file, in plain words; load_topics prefixes the file name."""


def _compile(raw: Mapping[str, Any]) -> TopicCatalog:
    _known_keys(raw, "the file", {"beat", "topics"})
    beat_table = _table(raw.get("beat"), "[beat]")
    _known_keys(beat_table, "[beat]", {"name", "title", "description", "colour", "window", "groups", "rules",
                                       "exclude"})  # fmt: skip
    beat = _topic(beat_table, "[beat]", parent=None)
    window = beat_table.get("window", 3)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise _Problem("[beat] window must be a whole number of sentences, 1 or more")

    index = TermIndex()
    groups = _groups(beat_table, index)
    rules = tuple(_rule(item, number, groups) for number, item in enumerate(_list(beat_table, "rules"), 1))
    if not rules:
        raise _Problem("[beat] needs at least one [[beat.rules]] entry")
    exclusions = tuple(
        _exclusion(item, number, groups, index) for number, item in enumerate(_list(beat_table, "exclude"), 1)
    )
    subtopics = _subtopics(raw, beat, index)
    return TopicCatalog(
        beat=beat,
        topics=(beat, *(sub.topic for sub in subtopics)),
        rules=rules,
        exclusions=exclusions,
        subtopics=subtopics,
        index=index,
        window=window,
    )


def _groups(beat_table: Mapping[str, Any], index: TermIndex) -> Mapping[str, Any]:
    groups = _table(beat_table.get("groups"), "[beat.groups]")
    if not groups:
        raise _Problem("[beat.groups] defines no term groups")
    for group_name, group in groups.items():
        where = f"[beat.groups.{group_name}]"
        table = _table(group, where)
        _known_keys(table, where, {*LANGUAGE_KEYS, "also"})
        owner = group_owner(group_name)
        for term in _terms(table, where, owner=owner):
            index.add(term)
        # `also`: the terms of other groups count for this one too, so a wider group ("border") is not a copy
        # of a narrower one ("border_matters") that drifts when only one of them is edited. One level only.
        for other in _strings(table.get("also", []), f"{where} also"):
            other_table = groups.get(other)
            if other_table is None:
                raise _Problem(f"{where} also names unknown group '{other}'")
            if "also" in other_table:
                raise _Problem(f"{where} also names '{other}', which has an also of its own")
            for term in _terms(other_table, f"[beat.groups.{other}]", owner=owner):
                index.add(term)
    return groups


def _exclusion(item: object, number: int, groups: Mapping[str, Any], index: TermIndex) -> Exclusion:
    where = f"[[beat.exclude]] #{number}"
    table = _table(item, where)
    _known_keys(table, where, {"name", "terms", "min", "unless", "in", "mask"})
    name = _text(table, "name", where)
    owner = f"exclude:{number}"
    for term in _terms({"any": table.get("terms")}, f"{where} ({name}) terms", owner=owner):
        index.add(term)
    unless = tuple(_strings(table.get("unless", []), f"{where} ({name}) unless"))
    for entry in unless:
        for group_name in entry.split("+"):
            if group_name not in groups:
                raise _Problem(f"exclusion '{name}' names unknown group '{group_name}' in unless")
    scope = table.get("in", "text")
    if scope not in ("text", "title"):
        raise _Problem(f'exclusion \'{name}\' in must be "text" or "title"')
    mask = table.get("mask", False)
    if not isinstance(mask, bool):
        raise _Problem(f"exclusion '{name}' mask must be true or false")
    return Exclusion(name, owner, _min_hits(table, where), unless, title_only=scope == "title", mask=mask)


def _subtopics(raw: Mapping[str, Any], beat: Topic, index: TermIndex) -> tuple[SubTopic, ...]:
    subtopics: list[SubTopic] = []
    seen = {beat.name}
    for number, item in enumerate(_list(raw, "topics"), 1):
        where = f"[[topics]] #{number}"
        table = _table(item, where)
        _known_keys(table, where, {"name", "title", "description", "colour", "min", *LANGUAGE_KEYS})
        topic = _topic(table, where, parent=beat.name)
        if topic.name in seen:
            raise _Problem(f"topic name '{topic.name}' is used twice")
        seen.add(topic.name)
        owner = f"topic:{topic.name}"
        for term in _terms(table, f"topic '{topic.name}'", owner=owner):
            index.add(term)
        subtopics.append(SubTopic(topic, owner, _min_hits(table, where, default=SUBTOPIC_MIN_HITS)))
    return tuple(subtopics)


def _topic(table: Mapping[str, Any], where: str, parent: str | None) -> Topic:
    name = _text(table, "name", where).lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise _Problem(f"{where} name '{name}' must be lower-case letters, digits and hyphens")
    title = table.get("title", name)
    if not isinstance(title, str) or not title.strip():
        raise _Problem(f"{where} title must be text")
    description = table.get("description", "")
    if not isinstance(description, str):
        raise _Problem(f"{where} description must be text")
    return Topic(name=name, title=title.strip(), parent=parent, description=description.strip(),
                 colour=_colour(table.get("colour"), where))  # fmt: skip


def _colour(value: object, where: str) -> int:
    if value is None:
        return Topic.__dataclass_fields__["colour"].default  # type: ignore[no-any-return]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFF:
        return value
    if isinstance(value, str) and (found := _COLOUR.match(value.strip())):
        return int(found.group(1), 16)
    raise _Problem(f'{where} colour must look like "#1F6FEB"')


def _rule(item: object, number: int, groups: Mapping[str, Any]) -> Rule:
    where = f"[[beat.rules]] #{number}"
    table = _table(item, where)
    _known_keys(table, where, {"name", "all"})
    name = _text(table, "name", where)
    needed = tuple(_strings(table.get("all"), f"rule '{name}' all"))
    if not needed:
        raise _Problem(f"rule '{name}' lists no groups in all")
    for group_name in needed:
        if group_name not in groups:
            known = ", ".join(sorted(groups))
            raise _Problem(f"rule '{name}' uses unknown group '{group_name}' (known: {known})")
    return Rule(name, needed)


def _terms(table: Mapping[str, Any], where: str, owner: str) -> Iterable[Term]:
    found = False
    for key in LANGUAGE_KEYS:
        if table.get(key) is None:
            continue
        for written in _strings(table[key], f"{where} {key}"):
            prefix = written.endswith("*")
            words = tuple(fold_words(written.removesuffix("*")))
            if not words:
                raise _Problem(f"{where} has a term with no letters: '{written}'")
            if prefix and len(words) == 1 and len(words[0]) < PREFIX_KEY:
                raise _Problem(f"{where}: '{written}' is too short for a '*' (at least {PREFIX_KEY} letters)")
            found = True
            language = None if key == "any" else key
            yield Term(written=written, words=words, prefix=prefix, language=language, owner=owner)
    if not found:
        raise _Problem(f"{where} has no terms")


def _min_hits(table: Mapping[str, Any], where: str, default: int = 1) -> int:
    value = table.get("min", default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _Problem(f"{where} min must be a whole number, 1 or more")
    return value


def _table(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        raise _Problem(f"{where} is missing")
    if not isinstance(value, dict):
        raise _Problem(f"{where} must be a table")
    return value


def _list(table: Mapping[str, Any], key: str) -> list[Any]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise _Problem(f"'{key}' must be a list of tables ([[...]])")
    return value


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Problem(f"{where} needs a {key} (text)")
    return value.strip()


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise _Problem(f"{where} must be a list of non-empty texts")
    return [item.strip() for item in value]


def _known_keys(table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _Problem(f"{where} has unknown key '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})")
