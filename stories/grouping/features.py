"""What the same-story model knows of a pair: an entry and one member of a candidate story, each seen as a
`StoryView` (worked out once per entry), compared into the numbers of `FEATURES`, each with the evidence a
reporter can read ("shared figure 326 (deserters)", "title cosine 0.71 via translation").

Every feature is general: word overlap after bridging (TF-IDF over words and character n-grams), figures by
how distinctive they are and whether they count the same thing, names, time, the agency and its guid,
what the text says of days and of counts that moved, the kinds of event told (`event_kinds`: an arrest, a
reopening), the words one report has and the other says otherwise (`associations`, learned from labelled
pairs). Nothing names a place, event or phrase of the beat.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlsplit

from stories.figure_match import (
    BACKGROUND_NAMES,
    REVISION_RATIO,
    FigureFacts,
    agrees,
    comparable,
    different_things,
    figure_facts,
    same_thing,
    same_words,
)
from stories.figures.vocabulary import MONTH_NUMBERS
from stories.folding import fold_text
from stories.grouping.associations import ASSOCIATION_FEATURES, WordAssociations, word_associations
from stories.grouping.event_kinds import event_kinds
from stories.grouping.terms import (
    bridged_terms,
    char_grams,
    cosine,
    idf_table,
    set_cosine,
    tfidf,
    title_terms,
)
from stories.model import KeyFigure

FEATURES = (
    "title_cosine",
    "text_cosine",
    "gram_cosine",
    "shared_rare_words",
    "rare_word_overlap",
    "rarest_shared_word",
    "cross_language",
    "cross_language_text_cosine",
    "shared_names",
    "name_overlap",
    "figures_shared",
    "figures_same_what",
    "figures_revised",
    "figures_vague",
    "figures_near",
    "figures_conflict",
    "figures_missing",
    "days_apart",
    "same_agency",
    "same_agency_cross_language",
    "same_guid_base",
    "update_cue_with_revision",
    "same_day_named",
    "other_day_named",
    "same_date_named",
    "other_date_named",
    "other_date",
    "dated_from_another_event",
    "same_topic",
    "headline_only",
    "event_kinds_shared",
    "event_kind_overlap",
    "event_kinds_differ",
    "associated_words",
    "association_strength",
    "strongest_association",
    "unshared_words",
)
MAX_NAMES = 6
MAX_KINDS = 3
MAX_FIGURE_WEIGHT = 4.0
MAX_FIGURE_COUNT = 3
MAX_DAYS_APART = 4.0
MAX_UNSHARED = 30
MAX_SHARED_IDF = 80.0  # about twelve rare words in common: beyond that, more says nothing new
# A version suffix an agency adds to an updated item's guid: ":2" (Reuters URNs), "-v2"/"_v2", "?v=2".
# "-2" only after an id-like run of hex digits ("ap-7f3e2a-2"): "story-7" is another story's guid.
_VERSION_SUFFIX = re.compile(
    r"(?::\d{1,3}|[-_.]v\d{1,3}|[?&;#](?:v|ver|version|rev)=\d{1,3}|(?<=[0-9a-f]{6})-\d)$", re.I
)


# Cached, like `agency_of`: an entry's guid and link are read again for each story member it is checked
# against (`stories.batch.item_of`) and for its view.
@lru_cache(maxsize=8192)
def guid_base(guid: str | None) -> str | None:
    """The guid without an agency's version suffix: an update's and its original's are the same."""
    if not guid:
        return None
    base = _VERSION_SUFFIX.sub("", guid.strip())
    return base if len(base) >= 8 else None


@lru_cache(maxsize=8192)
def agency_of(link: str | None) -> str | None:
    """The site an item links to, as a stand-in for its agency: an agency's English and Spanish services link
    to the same site (afp.com/en/..., afp.com/es/...); "www.reuters.com" -> "reuters"."""
    if not link:
        return None
    host = (urlsplit(link).hostname or "").lower()
    labels = [label for label in host.split(".") if label and label != "www"]
    if len(labels) >= 2:
        # "co.uk"-style endings: the name is the label before the public suffix's two short parts.
        return (
            labels[-3] if len(labels) >= 3 and len(labels[-2]) <= 3 and len(labels[-1]) == 2 else labels[-2]
        )
    return labels[0] if labels else None


_MONTH = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
_RANGE = r"(\d{1,2})(?:\s*(?:-|–|al|a|y|to|and|through)\s*(\d{1,2}))?"
_DAY_MONTH = re.compile(rf"\b{_RANGE}\s+(?:de\s+)?({_MONTH})\b\.?")
_MONTH_WORDS = frozenset(MONTH_NUMBERS)
_WORD = re.compile(r"[a-z]+")
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.?\s+{_RANGE}\b(?!\s*(?:,\d|\d|%))")


# A report dating its event from another one ("a day after five soldiers crossed", "dos días después",
# "la víspera", "the same day as"): how a new event of a running story is told, where a copy or an update of
# one report has no other event to date it from. On dev (6,383 entries), the new entry of 1.2% of same-story
# candidate pairs and of 7.3% of the others says so when the earlier one does not.
_DATED_FROM_ANOTHER_EVENT = re.compile(
    r"\b(?:(?:(?:a|an|one|two|three|four|five|six|several|few|\d+)\s+)?(?:days?|hours?|weeks?)\s+"
    r"(?:after|before|later|earlier)|the\s+(?:day|week)\s+(?:after|before)|the\s+previous\s+(?:day|week)"
    r"|(?:(?:un|una|dos|tres|cuatro|cinco|seis|unos|unas|pocos|pocas|varios|varias|\d+)\s+)?"
    r"(?:dias?|horas?|semanas?)\s+(?:despues|antes|mas\s+tarde)"
    r"|al\s+dia\s+siguiente|el\s+dia\s+anterior|la\s+semana\s+anterior|la\s+vispera"
    r"|(?:on\s+)?the\s+same\s+day\s+(?:as|that|when)|el\s+mismo\s+dia\s+(?:en\s+)?(?:que|de|del))\b"
)


def date_mentions(folded: str) -> frozenset[tuple[int, int]]:
    """(month, day) of the calendar dates a lower-case, accent-free text names: "del 13 al 15 de marzo",
    "March 13", "Sept. 21". The event's dates, like the weekdays: two reports naming only different dates
    tell different events (the weekend vote of the 13th, of the 7th)."""
    if _MONTH_WORDS.isdisjoint(_WORD.findall(folded)):
        return frozenset()  # most leads name no month: one pass over the words instead of two regexes
    found: set[tuple[int, int]] = set()
    for match in _DAY_MONTH.finditer(folded):
        month = MONTH_NUMBERS[match.group(3)]
        found.update((month, int(day)) for day in match.group(1, 2) if day and 1 <= int(day) <= 31)
    for match in _MONTH_DAY.finditer(folded):
        month = MONTH_NUMBERS[match.group(1)]
        found.update((month, int(day)) for day in match.group(2, 3) if day and 1 <= int(day) <= 31)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class ViewDetails:
    title_vector: dict[str, float]
    word_mass: float  # the IDF of its distinct words, summed: what `rare_word_overlap` divides by
    grams: dict[str, None]  # character n-grams of its terms, as keys (`char_grams`)
    dates: frozenset[tuple[int, int]]  # `date_mentions`
    dated_from_another_event: bool  # `_DATED_FROM_ANOTHER_EVENT`


@dataclass(slots=True)
class StoryView:
    """One entry as the model compares it (a new entry, or a stored member of a candidate story)."""

    language: str | None
    time: datetime
    agency: str | None
    guid_base: str | None
    names: frozenset[str]
    figures: tuple[KeyFigure, ...]
    facts: tuple[FigureFacts, ...]
    text_vector: dict[str, float]
    days: frozenset[int]
    updating: bool
    subtopics: frozenset[str]
    kinds: frozenset[str] = frozenset()  # the kinds of event it tells (`event_kinds`)
    has_lead: bool = False  # a teaser or text besides the headline
    title: str = field(default="", repr=False)
    lead: str = field(default="", repr=False)
    # Tuples, not lists: a tuple of strings drops out of the cyclic collector's lists, and thousands of views
    # are kept between polls (`stories.batch.MEMBER_VIEWS_KEPT`).
    headline_terms: tuple[str, ...] = field(default=(), repr=False)
    terms: tuple[str, ...] = field(default=(), repr=False)  # the headline's, then the lead's
    _details: ViewDetails | None = field(default=None, repr=False)

    def details(self) -> ViewDetails:
        """What only a full comparison reads, worked out on the first one: most candidate members are
        dropped on the overlap of `text_vector` alone."""
        if self._details is None:
            table, unseen = idf_table()
            folded = fold_text(f"{self.title}\n{self.lead}")
            self._details = ViewDetails(
                title_vector=tfidf(self.headline_terms),
                # fsum: the same total whatever the set's order (the model file must not depend on it)
                word_mass=math.fsum(table.get(word, unseen) for word in set(self.terms)),
                grams=char_grams(self.terms),
                dates=date_mentions(folded),
                dated_from_another_event=_DATED_FROM_ANOTHER_EVENT.search(folded) is not None,
            )
        return self._details


def make_view(
    *,
    title: str,
    lead: str,
    language: str | None,
    time: datetime,
    link: str | None,
    guid: str | None,
    names: frozenset[str],
    figures: tuple[KeyFigure, ...],
    days: frozenset[int],
    updating: bool,
    topics: tuple[str, ...] | list[str],
    headline_terms: Sequence[str] | None = None,
) -> StoryView:
    """The view of an entry; `headline_terms`: `title_terms(title, language)`, when the caller has them."""
    headline = tuple(title_terms(title, language) if headline_terms is None else headline_terms)
    body = bridged_terms(lead, language)
    terms = (*headline, *body)
    return StoryView(
        has_lead=bool(body),
        language=language,
        time=time,
        agency=agency_of(link),
        guid_base=guid_base(guid),
        names=names - BACKGROUND_NAMES,
        figures=figures,
        facts=figure_facts(figures),
        text_vector=tfidf(terms),
        days=days,
        updating=updating,
        subtopics=frozenset(topics[1:]),  # the beat itself, listed first, is shared by every on-beat entry
        kinds=event_kinds(terms),
        title=title,
        lead=lead,
        headline_terms=headline,
        terms=terms,
    )


@dataclass(slots=True)
class PairEvidence:
    """A pair's feature values (in `FEATURES` order) and what each rests on, for `why`."""

    values: list[float]
    notes: dict[str, str]
    # Why the pair cannot be one story whatever the model says (`RULED_OUT_*`), else None.
    ruled_out: str | None = None


# Two reports published the same date that name only different days of the week tell two days' events (a
# daily count, "another 40 crossed on Sunday"); an update names a later day but is published later too. On
# dev (3,030 entries): 33 candidate pairs of this kind, one of them the same story (a weekly count "in the
# week to Wednesday" reported on Thursday).
RULED_OUT_OTHER_DAY = "same date of publication, other days of the week named"
# The next edition of a daily or weekly count (Monday's crossings, Tuesday's crossings): other days named, no
# figure in common, and nothing saying a count rose ("has risen to", "up from"), which an update says. On
# dev (3,030 entries): 131 candidate pairs of this kind, none the same story.
RULED_OUT_NEXT_EDITION = "other days named, no figure in common, no word of a count that moved"


# What a feature that is only present or absent rests on, for `why`.
_FIXED_NOTES = {
    "update_cue_with_revision": "says the count moved",
    "same_day_named": "names the same day",
    "other_day_named": "names another day",
    "same_date_named": "names the same date",
    "other_date_named": "names another date",
    "other_date": "published on another date",
    "dated_from_another_event": "dates its event from another one",
    "same_topic": "same sub-topic",
    "figures_conflict": "their figures differ",
    "figures_near": "counts within reach of a revision",
    "figures_missing": "no figures to compare",
}


def _figure_evidence(
    new: StoryView, old: StoryView, explain: bool
) -> tuple[dict[str, float], dict[str, str]]:
    values = dict.fromkeys(
        ("figures_shared", "figures_same_what", "figures_revised", "figures_vague", "figures_near",
         "figures_conflict"), 0.0
    )  # fmt: skip
    notes: dict[str, str] = {}
    if not new.facts or not old.facts:
        return values, notes
    theirs = {item.key: item for item in old.facts}
    shared = [
        item for item in new.facts if item.key in theirs and not different_things(item, theirs[item.key])
    ]
    values["figures_shared"] = min(sum(item.weight for item in shared), MAX_FIGURE_WEIGHT)
    values["figures_same_what"] = min(
        sum(same_words(item, theirs[item.key]) for item in shared), MAX_FIGURE_COUNT
    )
    if shared and explain:
        notes["figures_shared"] = ", ".join(
            f"shared figure {item.figure.text} ({item.figure.what})" for item in shared[:3]
        )
    shared_keys = {item.key for item in shared}
    revised = [
        (before, after)
        for after in new.facts
        if after.key not in shared_keys
        for before in old.facts
        if before.key not in shared_keys and same_thing(before, after) and not agrees(before, after)
    ]
    values["figures_revised"] = min(len({after.key for _, after in revised}), MAX_FIGURE_COUNT)
    if revised and explain:
        before, after = revised[0]
        notes["figures_revised"] = (
            f"revised figure {before.figure.text} → {after.figure.text} ({after.figure.what})"
        )
    vague = [
        item
        for item in new.facts
        if item.key not in theirs
        and any(agrees(other, item) and not different_things(other, item) for other in old.facts)
    ]
    values["figures_vague"] = min(len(vague), MAX_FIGURE_COUNT)
    if vague and explain:
        notes["figures_vague"] = f"{vague[0].figure.text} restates a figure of the story"
    # Counts within reach of a revision whatever they are said to count: a follow-up's "36,000 displaced" for
    # the story's "32,000 people" (descriptions are often a stray word of the sentence).
    near = {
        after.key
        for after in new.facts
        if after.key not in shared_keys
        for before in old.facts
        if comparable(before, after, REVISION_RATIO) and not different_things(before, after)
    }
    values["figures_near"] = min(len(near), MAX_FIGURE_COUNT)
    if not shared and not near:
        values["figures_conflict"] = 1.0
    return values, notes


def _ruled_out(other_day_named: bool, other_date: bool, figures_shared: float, updating: bool) -> str | None:
    """The rule outside the model that rules the pair out (`RULED_OUT_*`), if any."""
    if not other_day_named:
        return None
    if not other_date:
        return RULED_OUT_OTHER_DAY
    if not figures_shared and not updating:
        return RULED_OUT_NEXT_EDITION
    return None


def own_terms(new: StoryView, old: StoryView, shared: Set[str] | None = None) -> tuple[Set[str], Set[str]]:
    """The terms only `new` has and those only `old` has: what the word associations link (`shared`: the
    terms both have, when the caller has them already)."""
    if shared is None:
        shared = new.text_vector.keys() & old.text_vector.keys()
    return new.text_vector.keys() - shared, old.text_vector.keys() - shared


def compare(
    new: StoryView,
    old: StoryView,
    *,
    explain: bool = False,
    text_cosine: float | None = None,
    stop_if_ruled_out: bool = False,
    associations: WordAssociations | None = None,
) -> PairEvidence:
    """The features of an entry (`new`) against one member of a story (`old`); with `explain`, also the
    notes that say what each rests on (worked out only for the match the pipeline keeps). `text_cosine`:
    the cosine of their text vectors, when the caller has it already. `stop_if_ruled_out`: a pair a rule
    rules out comes back without values (the bot skips it; a third of the pipeline bench's pairs).
    `associations`: the word associations to read (`word_associations()`, the shipped table, by default)."""
    figure_values, notes = _figure_evidence(new, old, explain)
    other_day_named = bool(new.days and old.days and not new.days & old.days)
    other_date = new.time.astimezone(UTC).date() != old.time.astimezone(UTC).date()
    ruled_out = _ruled_out(other_day_named, other_date, figure_values["figures_shared"], new.updating)
    if ruled_out is not None and stop_if_ruled_out:
        return PairEvidence([], {}, ruled_out)
    cross = 1.0 if new.language and old.language and new.language != old.language else 0.0
    mine, theirs = new.details(), old.details()
    text = cosine(new.text_vector, old.text_vector) if text_cosine is None else text_cosine
    title = cosine(mine.title_vector, theirs.title_vector)
    shared_names = new.names & old.names
    smaller = min(len(new.names), len(old.names))
    hours = abs((new.time - old.time).total_seconds()) / 3600
    same_guid = bool(new.guid_base and new.guid_base == old.guid_base)
    same_agency = bool(new.agency and new.agency == old.agency)
    table, unseen = idf_table()
    shared_words = new.text_vector.keys() & old.text_vector.keys()
    rarity = [table.get(word, unseen) for word in shared_words]
    smaller_mass = min(mine.word_mass, theirs.word_mass)
    values = {
        "rare_word_overlap": math.fsum(rarity) / smaller_mass if smaller_mass else 0.0,
        "shared_rare_words": min(math.fsum(rarity), MAX_SHARED_IDF),
        "rarest_shared_word": max(rarity, default=0.0),
        "title_cosine": title,
        "text_cosine": text,
        "gram_cosine": set_cosine(mine.grams, theirs.grams),
        "cross_language": cross,
        "cross_language_text_cosine": cross * text,
        "shared_names": float(min(len(shared_names), MAX_NAMES)),
        "name_overlap": len(shared_names) / smaller if smaller else 0.0,
        **figure_values,
        "figures_missing": 0.0 if new.facts and old.facts else 1.0,
        "days_apart": min(hours / 24, MAX_DAYS_APART),
        "same_agency": float(same_agency),
        "same_agency_cross_language": float(same_agency) * cross,
        "same_guid_base": float(same_guid),
        "update_cue_with_revision": float(new.updating and figure_values["figures_revised"] > 0),
        "same_day_named": float(bool(new.days & old.days)),
        "other_day_named": float(other_day_named),
        "same_date_named": float(bool(mine.dates & theirs.dates)),
        "other_date_named": float(bool(mine.dates and theirs.dates and not mine.dates & theirs.dates)),
        "other_date": float(other_date),
        "dated_from_another_event": float(
            mine.dated_from_another_event and not theirs.dated_from_another_event
        ),
        "same_topic": float(bool(new.subtopics & old.subtopics)),
        # Homepage headlines alone (no teaser) say less: the same overlap means less than between leads.
        "headline_only": float(not (new.has_lead and old.has_lead)),
    }
    shared_kinds = new.kinds & old.kinds
    all_kinds = new.kinds | old.kinds
    values["event_kinds_shared"] = float(min(len(shared_kinds), MAX_KINDS))
    values["event_kind_overlap"] = len(shared_kinds) / len(all_kinds) if all_kinds else 0.0
    values["event_kinds_differ"] = float(bool(new.kinds and old.kinds and not shared_kinds))
    # The words only one of the two has, linked to the other's by a learned association: what a rewrite says
    # in other words, where the shared words above see nothing.
    mine_only, theirs_only = own_terms(new, old, shared_words)
    linked = (word_associations() if associations is None else associations).evidence(mine_only, theirs_only)
    # How many words there were to link: a close rewrite has few of its own, and no association then says
    # nothing against it.
    values["unshared_words"] = float(min(len(mine_only), len(theirs_only), MAX_UNSHARED))
    values.update(zip(ASSOCIATION_FEATURES, linked.values(), strict=True))
    if not explain:
        return PairEvidence([values[name] for name in FEATURES], {}, ruled_out)
    via = " via translation" if cross else ""
    # A present-or-absent feature's note only where it is present: an absent conflict may still weigh
    # towards "same story", and must not be shown as "their figures differ".
    notes.update({name: note for name, note in _FIXED_NOTES.items() if values[name]})
    notes["title_cosine"] = f"title cosine {title:.2f}{via}"
    notes["text_cosine"] = f"text cosine {text:.2f}{via}"
    if shared_words:
        notes["shared_rare_words"] = notes["rarest_shared_word"] = f"{len(shared_words)} words in common{via}"
    notes["gram_cosine"] = f"word-form overlap {values['gram_cosine']:.2f}{via}"
    notes["cross_language_text_cosine"] = notes["text_cosine"]
    if shared_names:
        notes["shared_names"] = notes["name_overlap"] = f"{len(shared_names)} names in common"
    notes["days_apart"] = f"published {hours:.0f} h apart" if hours >= 1 else "published within the hour"
    if same_agency:
        notes["same_agency"] = f"same agency ({new.agency})"
    if same_agency and cross:
        notes["same_agency_cross_language"] = f"the agency's other-language service ({new.agency})"
    if same_guid:
        notes["same_guid_base"] = "same agency guid (another version)"
    if shared_kinds:
        notes["event_kinds_shared"] = notes["event_kind_overlap"] = (
            f"same kind of event ({', '.join(sorted(shared_kinds)).replace('_', ' ')})"
        )
    elif values["event_kinds_differ"]:
        notes["event_kinds_differ"] = "other kinds of event"
    if linked.example:
        notes["associated_words"] = notes["association_strength"] = notes["strongest_association"] = (
            f"{linked.count:.0f} associated words ({linked.example[0]} ~ {linked.example[1]}{via})"
        )
    return PairEvidence([values[name] for name in FEATURES], notes, ruled_out)
