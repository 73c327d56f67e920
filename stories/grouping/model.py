"""The fitted same-story model, read from `data/same_story_model.json` (fitted by `make train-grouping`; see
MODEL_CARD.md): gradient-boosted decision trees of depth three over `features.FEATURES`, a few hundred
comparisons per pair and no library at run time. Each tree is a list of nodes `[feature, threshold, left,
right, value]` (a leaf has feature -1 and its value; a node sends `value <= threshold` left); the trees' sum
plus the baseline is the log-odds that the pair tells one story.

`why`: each tree's part of the log-odds is credited to the features on the path the pair took (the change
of the expected value at each split, as in Saabas' attribution), so the evidence shown is the features that
pushed the decision hardest towards "same story".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from stories.grouping.features import FEATURES, PairEvidence

MODEL_FILE = Path(__file__).resolve().parent / "data" / "same_story_model.json"
EVIDENCE_SHOWN = 3
LEAF = -1

# feature, threshold, left, right, value (for a split node: the count-weighted mean of the leaves under it)
Node = tuple[int, float, int, int, float]


class ModelMismatch(ValueError):
    """The model file was fitted on other features than this code computes: refit with make train-grouping."""


def _tree_source(tree: tuple[Node, ...], index: int = 0) -> str:
    feature, threshold, left, right, value = tree[index]
    if feature == LEAF:
        return repr(value)
    return f"({_tree_source(tree, left)} if v[{feature}] <= {threshold!r} else {_tree_source(tree, right)})"


def _compile(baseline: float, trees: tuple[tuple[Node, ...], ...]) -> Callable[[list[float]], float]:
    """The trees as one Python expression (nested conditionals, summed): the same log-odds as walking the
    nodes, about eight times faster, which matters at thousands of pairs a second. The source is built
    from numbers only, so nothing in the model file can inject code."""
    body = " + ".join([repr(baseline), *(_tree_source(tree) for tree in trees)])
    namespace: dict[str, object] = {}
    exec(f"def log_odds(v):\n    return {body}\n", namespace)
    return namespace["log_odds"]  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class SameStoryModel:
    features: tuple[str, ...]
    baseline: float
    trees: tuple[tuple[Node, ...], ...]
    threshold: float
    # The mean probability over the members of a story an entry is compared with must reach this too: one
    # member matched alone does not chain two stories of the same running event (`make train-grouping`).
    story_agreement: float = 0.0
    _compiled: Callable[[list[float]], float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", _compile(self.baseline, self.trees))

    @classmethod
    def from_json(cls, data: dict[str, object]) -> SameStoryModel:
        features = tuple(str(name) for name in data["features"])  # type: ignore[attr-defined]
        if features != FEATURES:
            raise ModelMismatch(f"model features {features} differ from the code's {FEATURES}")
        trees = tuple(
            tuple((int(f), float(t), int(left), int(right), float(v)) for f, t, left, right, v in tree)
            for tree in data["trees"]  # type: ignore[attr-defined]
        )
        agreement = float(data.get("story_agreement", 0.0))  # type: ignore[arg-type]
        return cls(features, float(data["baseline"]), trees, float(data["threshold"]), agreement)  # type: ignore[arg-type]

    def log_odds(self, values: list[float]) -> float:
        return self._compiled(values)

    def probability(self, values: list[float]) -> float:
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, self.log_odds(values)))))

    def contributions(self, values: list[float]) -> list[float]:
        """Each feature's share of the log-odds (beyond the trees' expected values), per feature."""
        credit = [0.0] * len(self.features)
        for tree in self.trees:
            node = tree[0]
            while node[0] != LEAF:
                child = tree[node[2] if values[node[0]] <= node[1] else node[3]]
                credit[node[0]] += child[4] - node[4]
                node = child
        return credit

    def evidence(self, pair: PairEvidence, limit: int = EVIDENCE_SHOWN) -> list[str]:
        """The notes of the features that pushed hardest towards "same story", strongest first."""
        ranked = sorted(zip(self.contributions(pair.values), self.features, strict=True), reverse=True)
        notes: list[str] = []
        for contribution, name in ranked:
            note = pair.notes.get(name)
            if contribution <= 0 or not note or note in notes:
                continue
            notes.append(note)
            if len(notes) == limit:
                break
        return notes


@cache
def load_model(path: Path = MODEL_FILE) -> SameStoryModel:
    return SameStoryModel.from_json(json.loads(path.read_text(encoding="utf-8")))
