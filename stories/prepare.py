"""The CPU stages of the story pipeline, for one entry and without I/O: clean-up, language, beat detection,
key figures, summary and fingerprint, giving the `Prepared` entry that storing and story matching need."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from stories import cluster
from stories.cleanup import clean_article, clean_text
from stories.figures import extract_figures
from stories.fingerprint import Fingerprint, fingerprint, headline_opening_name
from stories.grouping.features import StoryView, guid_base, make_view
from stories.grouping.terms import distinctive_terms, title_terms
from stories.model import Detection, Entry, KeyFigure
from stories.summarize import summarize

if TYPE_CHECKING:
    from stories.topics import TopicCatalog

Detector = Callable[[Entry, "TopicCatalog"], Detection]
LanguageDetector = Callable[..., "str | None"]

# The lead is what names and the summary come from; later paragraphs mention every actor in the conflict.
LEAD_CHARS = 600


@dataclass(slots=True)
class Prepared:
    """An entry after the CPU stages: what storing and clustering need."""

    entry: Entry
    body: str
    detection: Detection
    figures: list[KeyFigure]
    summary: str
    print: Fingerprint
    time: datetime
    days: frozenset[int] = frozenset()  # days of the week the title and lead name
    name_keys: tuple[int, ...] = ()  # stored: the names on the entry's day (`cluster.name_keys`)
    name_lookup: tuple[int, ...] = ()  # looked up: the names on the days around it
    guid_lookup: tuple[int, ...] = ()  # looked up: its guid base on the days around it (among name_lookup)
    source_hash: str | None = None  # of the text as the feed gave it (`source_hash`)
    updating: bool = False  # the title or lead says a running count moved (`cluster.lead_signals`)
    view: StoryView | None = None  # `story_view`, once needed
    # The title's bridged terms: its lookup keys are read from them, and its view would work them out again.
    headline_terms: tuple[str, ...] = ()


def source_hash(entry: Entry) -> str:
    """Hash of an item's text as the feed gives it: a later poll compares it, before any clean-up runs, to see
    an edit in place (same guid, new text)."""
    text = "\x1f".join((entry.title, entry.summary, entry.content))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def prepare_entry(
    entry: Entry,
    feed_language: str | None,
    now: datetime,
    *,
    catalog: TopicCatalog,
    detect: Detector,
    language: LanguageDetector,
) -> Prepared:
    """Clean-up → language → detection → figures → summary → fingerprint, for one entry."""
    title = clean_text(entry.title)
    summary_text = clean_article(entry.summary)
    content = clean_article(entry.content)
    body = content if len(content) > len(summary_text) else summary_text
    detected = language(f"{title}\n{body}", hint=entry.language or feed_language)
    cleaned = dataclasses.replace(
        entry,
        title=title,
        summary=summary_text,
        content=content,
        language=detected or entry.language or feed_language,
        first_seen=entry.first_seen or now,
    )
    detection = detect(cleaned, catalog)
    figures = extract_figures(body, cleaned.language, title=title)
    summary = summarize(body, title, clean=False)
    lead = body[:LEAD_CHARS]
    printed = fingerprint(title, body, lead, figures)
    time = cleaned.published or now
    days, updating = cluster.lead_signals(f"{title}\n{lead}")
    headline = tuple(title_terms(title, cleaned.language))
    lookup = lookup_values(printed.names | headline_opening_name(title), headline)
    # The agency guid without its version suffix, for every entry: an update under "…:2" is certain to be
    # its item's next version, on the beat or off (one key, cheap).
    base = guid_base(cleaned.guid)
    guid_key = frozenset({f"#{base}"}) if base else frozenset()
    guid_lookup = cluster.name_keys(guid_key, time, cluster.NAME_KEY_DAYS) if base else ()
    return Prepared(
        entry=cleaned,
        body=body,
        detection=detection,
        figures=figures,
        summary=summary,
        print=printed,
        time=time,
        days=days,
        # Every entry is found by names and words, off the beat too: off-beat stories are searched, may come
        # onto the beat later, and `make eval` scores every pair. It costs the pipeline a tenth to a seventh
        # of its speed (README, known limits).
        name_keys=cluster.name_keys(lookup | guid_key, time) if lookup or guid_key else (),
        name_lookup=(
            cluster.name_keys(lookup, time, cluster.NAME_KEY_DAYS) + guid_lookup if lookup else guid_lookup
        ),
        guid_lookup=guid_lookup,
        source_hash=source_hash(entry),
        updating=updating,
        headline_terms=headline,
    )


# A rewrite or translation keeps one of a headline's rarest words, bridged. Six, with the headline's opening
# name (`headline_opening_name`): on dev, of the 5,636 same-story pairs within the matching window the
# lookups found 5,217 with four words and no opening name, 5,424 with these (candidate pairs 9,019 -> 10,850).
LOOKUP_TITLE_TERMS = 6


def lookup_values(names: frozenset[str], headline_terms: Sequence[str]) -> frozenset[str]:
    """What the store finds an entry's candidate stories by, besides figures and its guid: the names and the
    rarest words of the title (`title_terms`: bridged to English, so a translation finds its original). The
    store holds an entry's own keys, so a pair is found by a word only when it is among both sides' rarest."""
    words = distinctive_terms(headline_terms, LOOKUP_TITLE_TERMS)
    return names | {f"~{word}" for word in words}


def story_view(item: Prepared) -> StoryView:
    """The entry as the same-story model compares it; worked out on first use (entries with no candidate
    story never need it)."""
    if item.view is None:
        item.view = make_view(
            title=item.entry.title,
            lead=item.body[:LEAD_CHARS],
            language=item.entry.language,
            time=item.time,
            link=item.entry.link,
            guid=item.entry.guid,
            names=item.print.names,
            figures=tuple(item.figures),
            days=item.days,
            updating=item.updating,
            topics=item.detection.topics,
            headline_terms=item.headline_terms,
        )
    return item.view
