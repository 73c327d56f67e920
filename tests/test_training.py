"""The shipped same-story model and IDF table are what `make train-grouping` gives on this code and data: a
feature, the dev split or the fitting changed without a refit fails here, not silently in production."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from stories.grouping.features import FEATURES
from stories.grouping.model import SameStoryModel
from training.train_grouping import export_trees

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_model_is_a_refit_of_this_code_and_data() -> None:
    command = [sys.executable, "-m", "training.train_grouping", "--check"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
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
