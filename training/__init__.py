"""Offline fitting of the data files the bot ships (the EN↔ES bridge lexicon, the same-story model): run by
`make bridge-lexicon` and `make train-grouping`, never imported by the bot."""
