"""The shipped same-story model and IDF table are what `make train-grouping` gives on this code and data: a
feature, the dev split or the fitting changed without a refit fails here, not silently in production. And
the pieces of the fit that are easy to get wrong: the exported trees, the replay that sets the threshold
(the bot's shortcuts first, the story asked to agree as a whole, pairs counted by cluster sizes) and the
decision read off the mean curves."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from stories.cluster import name_keys
from stories.grouping.associations import WordAssociations
from stories.grouping.features import FEATURES
from stories.grouping.model import SameStoryModel
from tests.eval.dataset import EvalEntry
from training.train_grouping import (
    AGREEMENTS,
    THRESHOLDS,
    Pair,
    cluster_with,
    clustering_scores,
    export_trees,
    fold_groups,
    make_pairs,
    pick_decision,
    prepare_all,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]


# A whole refit: about a minute on a quiet machine, more than three while other work shares its two cores.
@pytest.mark.timeout(900)
def test_the_shipped_model_is_a_refit_of_this_code_and_data() -> None:
    command = [sys.executable, "-m", "training.train_grouping", "--check"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=840, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_exported_trees_give_scikit_learns_probabilities() -> None:
    rng = np.random.default_rng(7)
    x = rng.random((400, len(FEATURES))) * 3
    y = x[:, 1] + 0.5 * x[:, 5] - 0.8 * x[:, 17] + rng.normal(0, 0.3, 400) > 1.2
    fitted = HistGradientBoostingClassifier(max_depth=2, max_iter=40, early_stopping=False).fit(x, y)
    baseline = float(np.ravel(fitted._baseline_prediction)[0])
    exported = {
        "features": list(FEATURES),
        "threshold": 0.5,
        "trees": export_trees(fitted),
        "baseline": baseline,
    }
    model = SameStoryModel.from_json(exported)
    ours = np.array([model.probability(list(row)) for row in x])
    assert np.max(np.abs(ours - fitted.predict_proba(x)[:, 1])) < 1e-4
    # The compiled expression against a walk of the nodes: the attribution's walk telescopes to each leaf,
    # so baseline + the trees' root values + every feature's credit is the walked log-odds.
    roots = sum(tree[0][4] for tree in model.trees)
    walked = [model.baseline + roots + sum(model.contributions(list(row))) for row in x]
    assert all(abs(model.log_odds(list(row)) - value) < 1e-9 for row, value in zip(x, walked, strict=True))


def _entry(key: str, story: str, hour: int) -> EvalEntry:
    return EvalEntry(key, "wire-en", "en", 1, story, True, "original", key, "", (),
                     datetime(2026, 5, 4, hour, tzinfo=UTC))  # fmt: skip


def test_two_files_entries_are_an_example_only_when_labelled_one_story() -> None:
    # Two files tell the reopening of one bridge on one day under two story names: their labels say nothing
    # of each other, so the pair teaches nothing; a story labelled across two files still does.
    def told(key: str, story: str, origin: str, hour: int, title: str) -> EvalEntry:
        return EvalEntry(key, "wire-en", "en", 1, story, True, "original", title, "", (),
                         datetime(2024, 7, 30, hour, tzinfo=UTC), origin=origin)  # fmt: skip

    first = told("j1", "j-reopen", "grouping_j.toml", 9, "Venezuela reopens Simon Bolivar bridge to Cucuta")
    copy = told("j2", "j-reopen", "grouping_j.toml", 10, "Simon Bolivar bridge to Cucuta open again")
    other_file = told("z1", "z-reopen", "grouping_z.toml", 11, "Crossings resume on Simon Bolivar bridge")
    labelled = told("z2", "j-reopen", "grouping_z.toml", 12, "Cucuta traders cheer Simon Bolivar reopening")
    found = {(pair.new.id, pair.old.id) for pair in make_pairs([first, copy, other_file, labelled])}
    assert ("j2", "j1") in found and ("z2", "j1") in found and ("z2", "z1") in found
    assert ("z1", "j1") not in found and ("z1", "j2") not in found


def test_examples_are_the_pairs_the_stores_lookups_offer() -> None:
    # A name is looked up on the days around an entry only (`cluster.NAME_KEY_DAYS`): a report three days
    # later naming the same town is never compared, so it is no example; one the next morning is. A
    # headline's opening name is a key too ("Ureña" opens one headline and is inside the other).
    def told(key: str, when: datetime, title: str) -> EvalEntry:
        return EvalEntry(key, "wire-es", "es", 1, "s", True, "original", title, "", (), when)

    start = datetime(2019, 2, 26, 18, tzinfo=UTC)
    first = told("a", start, "Ureña amanece bajo restricción nocturna")
    morning = told("b", start + timedelta(hours=14), "Decretan toque de queda en Ureña")
    later = told("c", start + timedelta(days=3), "Comerciantes de Ureña reabren sus negocios")
    found = {(pair.new.id, pair.old.id) for pair in make_pairs([first, morning, later])}
    assert ("b", "a") in found
    assert ("c", "a") not in found and ("c", "b") not in found
    (opening,) = prepare_all([first])
    assert set(name_keys(frozenset({"urena"}), start)) <= set(opening.name_keys)


def test_entries_published_at_the_same_moment_are_replayed_as_a_pair() -> None:
    # Headline snapshots give every headline of one snapshot the same time. The replay meets them in list
    # order, so the pair's new entry must be the later one, or the replay never compares them.
    when = datetime(2026, 2, 10, 15, tzinfo=UTC)

    def told(key: str, title: str) -> EvalEntry:
        return EvalEntry(key, "outlet-es", "es", 1, "guanipa", True, "original", title, "", (), when)

    items = [
        told("a", "Juan Pablo Guanipa ya está en Maracaibo para cumplir casa por cárcel"),
        told("b", "Juan Pablo Guanipa regresa a Maracaibo para cumplir arresto domiciliario"),
    ]
    (pair,) = make_pairs(items)
    assert (pair.new.id, pair.old.id) == ("b", "a")
    stories = cluster_with(items, [pair], np.array([0.99]), 0.9)
    assert stories["a"] == stories["b"]


def test_pairs_read_the_word_associations_they_are_given() -> None:
    # Training reads none (an empty table) and fills the columns from tables that never saw the pair; the
    # shipped table there would give in-sample values. A table given is the one read.
    def told(key: str, hour: int, title: str) -> EvalEntry:
        return EvalEntry(key, "wire-en", "en", 1, "s", True, "original", title, "", (),
                         datetime(2024, 7, 30, hour, tzinfo=UTC))  # fmt: skip

    first = told("a", 9, "Cucuta quake rattles Simon Bolivar bridge")
    second = told("b", 10, "Cucuta tremor rattles Simon Bolivar bridge")
    column = FEATURES.index("associated_words")
    (unlinked,) = make_pairs([first, second], associations=WordAssociations())
    assert unlinked.values[column] == 0.0
    assert {"quak", "tremor"} <= unlinked.new_only | unlinked.old_only
    (linked,) = make_pairs([first, second], associations=WordAssociations([("quak", "tremor", 2.0)]))
    assert linked.values[column] == 1.0


def test_folds_are_dealt_by_data_file_so_a_files_traps_are_held_out_with_its_stories() -> None:
    # A writer's trap is a variation of one of their own stories: held out together, or the model that
    # scores the trap has learnt it from its sibling.
    story, trap, other = (
        dataclasses.replace(_entry(key, name, hour), origin=origin)
        for key, name, hour, origin in (
            ("s", "s1", 1, "grouping_aj.toml"),
            ("t", "t1", 2, "grouping_aj.toml"),
            ("o", "o1", 3, "unseen_o.toml"),
        )
    )
    groups = fold_groups(
        [Pair(story, story, [], True), Pair(trap, trap, [], True), Pair(other, other, [], True)]
    )
    assert groups[0] == groups[1] != groups[2]


def test_a_real_headline_stream_is_dealt_by_fortnight_across_its_files_and_a_writers_file_whole() -> None:
    # Months of real homepage headlines are not one writer's world: held out whole, their pairs were scored
    # by models that had never seen a headline without a teaser. A fortnight keeps most of a running event's
    # lookalike stories together; a helper's file stays one unit however long it runs.
    def real(key: str, when: datetime, origin: str = "leo2166_pairs.toml") -> EvalEntry:
        return dataclasses.replace(
            _entry(key, key, 1), origin=origin, published=when, real_link=f"https://x.example/{key}"
        )

    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    same_fortnight = [real(f"r{day}", start + timedelta(days=day)) for day in range(14)]
    later = real("later", start + timedelta(days=30))
    written = [
        dataclasses.replace(_entry(key, "s", 1), origin="grouping_aj.toml", published=start + timedelta(days))
        for key, days in (("w1", 0), ("w2", 60))
    ]
    # Another file of the same stream, labelled apart: its days go with the first file's same days.
    other_file = [real(f"o{n}", entry.published, "leo2166_lq.toml") for n, entry in enumerate(same_fortnight)]
    entries = [*same_fortnight, later, *written, *other_file]
    units = fold_groups([Pair(entry, entry, [], True) for entry in entries])
    fortnights = set(units[:14])
    assert len(fortnights) <= 2  # fourteen days cross at most one boundary
    assert units[14] not in fortnights
    assert units[15] == units[16] not in {*fortnights, units[14]}
    assert list(units[17:]) == list(units[:14])


def test_the_replay_joins_the_bots_shortcuts_first_and_scores_pairs_by_cluster_sizes() -> None:
    # a, b, c are one story; d another. The model is unsure of c (0.5) and sure of d (0.95), but c is an
    # agency's next version of a: the bot joins it by guid before asking the model.
    a, b, c, d = (_entry("a", "s1", 1), _entry("b", "s1", 2), _entry("c", "s1", 3), _entry("d", "s2", 4))
    items = [a, b, c, d]
    pairs = [Pair(b, a, [], True), Pair(c, a, [], True, certain=True), Pair(d, b, [], False)]
    stories = cluster_with(items, pairs, np.array([0.92, 0.5, 0.95]), 0.9)
    assert stories["c"] == stories["a"] == stories["b"] == stories["d"]
    precision, recall = clustering_scores(items, stories)
    # 6 pairs joined, 3 of them right: every pair of a, b, c.
    assert (precision, recall) == (0.5, 1.0)
    stories = cluster_with(items, pairs, np.array([0.92, 0.5, 0.95]), 0.96)
    assert stories["c"] == stories["a"] != stories["b"]
    assert clustering_scores(items, stories) == (1.0, 1 / 3)


def test_the_replay_asks_the_story_as_a_whole_to_agree_as_the_bot_does() -> None:
    # a, b one story; c another of the same running event, matched surely by b alone (not by a).
    a, b, c = _entry("a", "s1", 1), _entry("b", "s1", 2), _entry("c", "s2", 3)
    items = [a, b, c]
    pairs = [Pair(b, a, [], True), Pair(c, b, [], False), Pair(c, a, [], False)]
    probabilities = np.array([0.95, 0.97, 0.1])
    assert (
        cluster_with(items, pairs, probabilities, 0.9)["c"]
        == cluster_with(items, pairs, probabilities, 0.9)["a"]
    )
    apart = cluster_with(items, pairs, probabilities, 0.9, 0.6)  # mean over a and b: 0.535
    assert apart["a"] == apart["b"] != apart["c"]
    # A pair the bot does not ask the model about (too few words in common) counts 0, whatever its score.
    pairs[2] = Pair(c, a, [], False, skipped=True)
    probabilities[2] = 0.9
    assert len(set(cluster_with(items, pairs, probabilities, 0.9, 0.6).values())) == 2
    assert len(set(cluster_with(items, pairs, probabilities, 0.9, 0.45).values())) == 1


def _curve(reached: dict[float, tuple[float, float]]) -> np.ndarray:
    """Replay curves (agreements x thresholds x precision, recall) where each listed agreement reaches
    precision 0.99 from a threshold on, with the recall given; every other point has precision 0.9."""
    curve = np.zeros((len(AGREEMENTS), len(THRESHOLDS), 2))
    curve[:, :, 0] = 0.9
    for agreement, (threshold, recall) in reached.items():
        row = AGREEMENTS.index(agreement)
        curve[row, threshold <= THRESHOLDS, 0] = 0.99
        curve[row, :, 1] = recall
    return curve


def test_the_decision_is_read_off_the_mean_of_the_curves_for_the_most_recall() -> None:
    low, high = _curve({0.0: (0.75, 0.6)}), _curve({0.0: (0.85, 0.6)})
    # one set of dealings reaches the target from 0.75, another only from 0.85: neither alone decides
    assert pick_decision([low]) == (0.75, 0.0)
    assert pick_decision([low, high]) == (0.85, 0.0)
    # of the agreements that reach the target, the one that keeps most of the same-story pairs
    both = _curve({0.0: (0.93, 0.5), 0.8: (0.87, 0.58)})
    assert pick_decision([both]) == (0.87, 0.8)


def test_a_threshold_under_the_agreement_is_given_as_the_agreement() -> None:
    # every threshold up to the agreement makes the same stories: the best member clears the agreement anyway
    flat = _curve({0.8: (float(THRESHOLDS[0]), 0.6)})
    assert pick_decision([flat]) == (0.8, 0.8)
