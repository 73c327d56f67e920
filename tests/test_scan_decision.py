"""The same-story decision chosen on the bot's own scan of held-out dev files (`training.scan_decision`): the
pick, the folds it scans, and the shipped model file's record of it. The scans themselves take about a quarter
of an hour (`make scan-decision`); here the record is checked against the shipped trees and its own table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from stories.grouping.model import MODEL_FILE, load_model
from tests.eval.dataset import EvalEntry
from tests.eval.metrics import Score
from training import train_grouping
from training.scan_decision import pick_scanned, scan_folds, scan_row
from training.train_grouping import fold_unit, scan_decision_for, trees_fingerprint


def _entry(key: str, origin: str) -> EvalEntry:
    return EvalEntry(key, "wire-en", "en", 1, key, True, "original", key, "", (),
                     datetime(2026, 5, 4, 9, tzinfo=UTC), origin=origin)  # fmt: skip


def test_the_pick_keeps_the_most_recall_at_the_target_precision() -> None:
    table = {
        "0.7/0.0": {"precision": 0.975, "recall": 0.90},  # most recall, under the target
        "0.75/0.0": {"precision": 0.981, "recall": 0.88},
        "0.8/0.7": {"precision": 0.990, "recall": 0.86},
        "0.9/0.0": {"precision": 0.993, "recall": 0.82},
    }
    assert pick_scanned(table, 0.98) == "0.75/0.0"
    assert pick_scanned(table, 0.99) == "0.8/0.7"
    assert pick_scanned(table, 0.999) is None
    # on a tie of recall, the higher threshold: the same stories for less risk
    assert pick_scanned({"0.8/0.0": table["0.75/0.0"], **table}, 0.98) == "0.8/0.0"


def test_a_decisions_row_is_its_pooled_pairwise_scores() -> None:
    pooled = Score(true_positives=90, false_positives=10, false_negatives=30)
    assert scan_row(pooled) == {"precision": 0.9, "recall": 0.75, "f1": round(2 * 0.9 * 0.75 / 1.65, 4)}


def test_a_fold_is_scanned_only_by_a_model_that_never_saw_its_units() -> None:
    # Each file (a unit) lands in one fold: the entries scanned in a fold and the pairs its model learned
    # from never share a unit.
    entries = [_entry(f"e{n}", f"file_{n % 7}.toml") for n in range(40)]
    groups = np.array([fold_unit(entry) for entry in entries[::2]])
    entry_folds, pair_folds = scan_folds(entries, groups)
    for fold in set(entry_folds.tolist()):
        scanned = {fold_unit(entry) for entry, f in zip(entries, entry_folds, strict=True) if f == fold}
        learned = {unit for unit, f in zip(groups.tolist(), pair_folds, strict=True) if f != fold}
        assert scanned and not scanned & learned
    assert len(set(entry_folds.tolist())) > 1


def test_the_shipped_decision_is_the_scans_choice_for_the_shipped_trees() -> None:
    # A refit whose trees differ drops the record (`make train-grouping`); `make scan-decision` must then run
    # again. A decision edited by hand, or a record whose table picks another, fails here too.
    shipped = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    record = shipped.get("scan_decision")
    assert record is not None, "run make scan-decision after make train-grouping"
    assert record["fingerprint"] == trees_fingerprint(shipped)
    decision = (shipped["threshold"], shipped["story_agreement"])
    assert pick_scanned(record["scans"], record["target_precision"]) == "/".join(map(str, decision))
    assert (record["threshold"], record["story_agreement"]) == decision
    model = load_model()
    assert (model.threshold, model.story_agreement) == decision


def test_a_refit_keeps_the_scans_decision_only_for_the_same_trees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = {"features": ["a"], "baseline": 0.1, "trees": [[[-1, 0.0, 0, 0, 0.5]]], "threshold": 0.9}
    record = {"threshold": 0.75, "story_agreement": 0.0, "fingerprint": trees_fingerprint(data)}
    shipped = tmp_path / "model.json"
    shipped.write_text(json.dumps({**data, "scan_decision": record}), encoding="utf-8")
    monkeypatch.setattr(train_grouping, "MODEL_FILE", shipped)
    assert scan_decision_for(data) == record
    assert scan_decision_for({**data, "trees": [[[-1, 0.0, 0, 0, 0.6]]]}) is None
    assert scan_decision_for({**data, "baseline": 0.2}) is None
