"""The same-story decision learned from labelled pairs: an entry is compared with the members of each
candidate story through features that generalise (`features`), across languages through a word bridge
(`bridge`), and a small logistic model (`model`, fitted by `make train-grouping`) says how likely the two tell
one story. Exact and near copies are decided before, without it (`stories.batch`)."""
