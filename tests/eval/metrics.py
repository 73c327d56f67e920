"""Scores of the eval: detection precision/recall, pairwise story-grouping F1, key-figure precision/recall."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from stories.cleanup import clean_text
from stories.detect import detect
from stories.model import Entry
from stories.topics import TopicCatalog
from tests.eval.dataset import EvalEntry, GoldFigure, labels_relate


@dataclass(slots=True)
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    misses: list[str] = field(default_factory=list)  # ids of false negatives
    false_alarms: list[str] = field(default_factory=list)  # ids of false positives
    unscored_joins: int = 0  # pairs joined whose labels say nothing of them (`labels_relate`)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def as_entry(item: EvalEntry) -> Entry:
    """The entry as the feed stage would hand it over: clean text, the feed's language."""
    return Entry(
        entry_id=item.guid,
        feed_name=item.feed,
        title=clean_text(item.title),
        link=item.link,
        guid=item.guid,
        summary=clean_text(item.summary),
        published=item.published,
        language=item.language,
    )


def detection_score(items: Sequence[EvalEntry], catalog: TopicCatalog) -> Score:
    """Run `stories.detect.detect` alone over the labelled set."""
    return score_decisions(items, {item.id: detect(as_entry(item), catalog).relevant for item in items})


def score_decisions(items: Sequence[EvalEntry], decided: Mapping[str, bool]) -> Score:
    score = Score()
    for item in items:
        if item.id not in decided:
            continue
        flagged = decided[item.id]
        if flagged and item.relevant:
            score.true_positives += 1
        elif flagged:
            score.false_positives += 1
            score.false_alarms.append(item.id)
        elif item.relevant:
            score.false_negatives += 1
            score.misses.append(item.id)
    return score


def grouping_score(
    items: Sequence[EvalEntry],
    predicted_story: Mapping[str, object],
    only: Callable[[EvalEntry, EvalEntry], bool] | None = None,
) -> Score:
    """Pairwise F1: a pair of entries is positive when both are in the same story. `only`: score just the
    pairs it accepts (cross-language pairs, pairs with an update). A pair whose labels say nothing of it (two
    files' entries, `labels_relate`) is not scored; the stories join it all the same, so such a join still
    costs the pairs within each file it takes an entry from. `unscored_joins` counts them."""
    scored = [item for item in items if item.id in predicted_story]
    score = Score()
    for left, right in itertools.combinations(scored, 2):
        if only is not None and not only(left, right):
            continue
        if not labels_relate(left, right):
            if predicted_story[left.id] == predicted_story[right.id]:
                score.unscored_joins += 1
            continue
        gold = left.story == right.story
        same = predicted_story[left.id] == predicted_story[right.id]
        if gold and same:
            score.true_positives += 1
        elif same:
            score.false_positives += 1
            score.false_alarms.append(f"{left.id}+{right.id}")
        elif gold:
            score.false_negatives += 1
            score.misses.append(f"{left.id}+{right.id}")
    return score


@dataclass(frozen=True, slots=True)
class NearMatchScore:
    """How the alerts' "possibly the same story" lines (`NearMatch`) did: how many named a story, how many of
    those a story holding an earlier report of the entry's own story (`right`); and of the on-beat stories
    the bot started apart from an earlier report of their own story (`apart`), how many said so."""

    named: int
    right: int
    apart: int
    apart_named: int


def near_match_score(
    items: Sequence[EvalEntry], predicted_story: Mapping[str, object], named: Mapping[str, object]
) -> NearMatchScore:
    """`named`: entry id -> the story its near match names (entries without one left out)."""
    members: dict[object, list[EvalEntry]] = {}
    for item in items:
        if item.id in predicted_story:
            members.setdefault(predicted_story[item.id], []).append(item)
    by_id = {item.id: item for item in items}
    right = 0
    for key, story in named.items():
        item = by_id[key]
        right += any(
            other.story == item.story and labels_relate(item, other) for other in members.get(story, ())
        )
    by_gold: dict[str, list[EvalEntry]] = {}
    for item in items:
        by_gold.setdefault(item.story, []).append(item)
    apart = apart_named = 0
    for story_members in members.values():
        first = min(story_members, key=lambda entry: entry.published)
        earlier_elsewhere = any(
            other.published < first.published
            and labels_relate(first, other)
            and predicted_story.get(other.id) != predicted_story[first.id]
            for other in by_gold[first.story]
        )
        if first.relevant and earlier_elsewhere:
            apart += 1
            apart_named += first.id in named
    return NearMatchScore(len(named), right, apart, apart_named)


@dataclass(frozen=True, slots=True)
class FoundFigure:
    value: float
    text: str


def figure_score(items: Sequence[EvalEntry], predicted: Mapping[str, Sequence[FoundFigure]]) -> Score:
    """Figures of on-beat entries: a found figure counts when value and text both match a gold one."""
    score = Score()
    for item in items:
        if not item.relevant or item.id not in predicted:
            continue
        unmatched = list(item.figures)
        for found in predicted[item.id]:
            gold = next((gold for gold in unmatched if figures_match(gold, found)), None)
            if gold is None:
                score.false_positives += 1
                score.false_alarms.append(f"{item.id}: {found.text!r}")
            else:
                score.true_positives += 1
                unmatched.remove(gold)
        score.false_negatives += len(unmatched)
        score.misses.extend(f"{item.id}: {gold.text!r}" for gold in unmatched)
    return score


def figures_match(gold: GoldFigure, found: FoundFigure) -> bool:
    """Same value (to 0.5%) and the same words: equal, or one contains the other (a qualifier kept or not)."""
    if abs(gold.value - found.value) > 0.005 * max(1.0, abs(gold.value)):
        return False
    expected, got = _words(gold.text), _words(found.text)
    return bool(got) and (expected == got or expected in got or got in expected)


def _words(text: str) -> str:
    return " ".join(clean_text(text).lower().split())


def format_ids(ids: Iterable[str], limit: int = 12) -> str:
    listed = list(ids)
    shown = ", ".join(listed[:limit])
    return shown + (f" … (+{len(listed) - limit})" if len(listed) > limit else "")
