"""Dealing labelled data files into folds: the unit every out-of-fold estimate of `make train-grouping` holds
out, since a file's traps are variations of its own stories (`training.train_grouping.fold_groups`)."""

from __future__ import annotations

import numpy as np

# One number for both out-of-fold estimates (the model's probabilities, the word associations' values): a
# pair's features and its probability are then read from models that each saw four fifths of the files.
FOLDS = 5


def deal_files(groups: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """The fold of each pair, given the data file of each (`groups`): the files dealt at random (`seed`)
    into `folds` folds, so a file's pairs all land in one."""
    names = np.unique(groups)
    fold_of = np.random.default_rng(seed).permutation(len(names)) % folds
    return fold_of[np.searchsorted(names, groups)]
