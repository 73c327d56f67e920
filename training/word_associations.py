"""Learning the word associations of `stories.grouping.associations` from labelled candidate pairs, and the
out-of-file values the same-story model is fitted on.

A pair of terms (one only in the new report, one only in the earlier one) counts once per story for the
same-story pairs that hold it, and once per pair of stories for the others; it is kept when at least
`MIN_STORIES` stories hold it, scored log((stories + 0.5) / (pairs of different stories + 0.5)), and only
when that is above zero.

Why out of file: a pair's own association values, read from a table learned with that pair among the
examples, say what its label already is; the model would trust them far more than any unseen pair deserves.
So each training pair is scored with a table learned from the other data files only (files are dealt into
`FOLDS` folds, as `training.train_grouping.fold_groups` deals them), as the bot scores new copy with a table
that never saw it.
"""

from __future__ import annotations

import gzip
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from stories.grouping.associations import (
    ASSOCIATION_FEATURES,
    ASSOCIATIONS_FILE,
    MIN_STORIES,
    WordAssociations,
    word_associations,
)
from training.folds import FOLDS, deal_files


class LabelledWords(Protocol):
    """What learning reads of a candidate pair (`training.train_grouping.Pair`)."""

    @property
    def new_only(self) -> frozenset[str]: ...
    @property
    def old_only(self) -> frozenset[str]: ...
    @property
    def same(self) -> bool: ...
    @property
    def stories(self) -> tuple[str, str]: ...  # the gold stories of the new and the earlier report


DEALING_SEED = 12345


def learn_associations(pairs: Iterable[LabelledWords]) -> list[tuple[str, str, float]]:
    """The table learned from `pairs`, as sorted (term, term, score) rows."""
    same: dict[tuple[str, str], set[str]] = defaultdict(set)
    different: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for pair in pairs:
        new_story, old_story = pair.stories
        for left in pair.new_only:
            for right in pair.old_only:
                key = (left, right) if left < right else (right, left)
                if pair.same:
                    same[key].add(old_story)
                else:
                    different[key].add((old_story, new_story))
    rows = []
    for key, stories in same.items():
        if len(stories) < MIN_STORIES:
            continue
        score = math.log((len(stories) + 0.5) / (len(different.get(key, ())) + 0.5))
        if score > 0:
            rows.append((key[0], key[1], round(score, 4)))
    return sorted(rows)


def out_of_file_values(pairs: Sequence[LabelledWords], groups: np.ndarray) -> np.ndarray:
    """Each pair's association features (`ASSOCIATION_FEATURES` order) from a table learned without its own
    data file (`groups`: the file of each pair)."""
    folds = deal_files(groups, FOLDS, DEALING_SEED)
    values = np.zeros((len(pairs), len(ASSOCIATION_FEATURES)))
    for fold in range(FOLDS):
        others = (pair for pair, its_fold in zip(pairs, folds, strict=True) if its_fold != fold)
        table = WordAssociations(learn_associations(others))
        for index in np.flatnonzero(folds == fold):
            values[index] = table.evidence(pairs[index].new_only, pairs[index].old_only).values()
    return values


def association_text(rows: Sequence[tuple[str, str, float]], pairs: int) -> str:
    """The table file's text (`stories.grouping.associations.read_associations` reads it)."""
    header = (
        "# word associations learned by make train-grouping (training/word_associations.py) from "
        f"{pairs} dev candidate pairs: term, term, score\n"
    )
    return header + "".join(f"{left}\t{right}\t{score}\n" for left, right, score in rows)


def write_associations(pairs: Sequence[LabelledWords], check: bool = False) -> list[tuple[str, str, float]]:
    """The table learned from every pair written to `ASSOCIATIONS_FILE` (with `check`: compared with it
    instead; a difference is an error). Returns its rows."""
    rows = learn_associations(pairs)
    text = association_text(rows, len(pairs))
    if check:
        with gzip.open(ASSOCIATIONS_FILE, "rt", encoding="utf-8") as handle:
            if handle.read() != text:
                raise SystemExit(f"{ASSOCIATIONS_FILE} is stale: run make train-grouping")
        return rows
    with gzip.GzipFile(ASSOCIATIONS_FILE, "wb", mtime=0) as handle:  # mtime 0: a refit changes no byte
        handle.write(text.encode())
    word_associations.cache_clear()
    return rows
