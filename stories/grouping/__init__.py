"""The same-story decision learned from labelled pairs: an entry is compared with the members of each
candidate story through features that generalise (`features`), across languages through a word bridge
(`bridge`), in other words through word associations learned from labelled pairs (`associations`), and small
gradient-boosted trees (`model`, fitted by `make train-grouping`) say how likely the two tell one story.
Exact and near copies are decided before, without it (`stories.batch`)."""

from __future__ import annotations


def warm_up() -> bool:
    """Load the model, the IDF table, the bridge lexicon, the word associations and the kinds of event now (a
    worker does it at start-up, before it freezes its long-lived objects) rather than on the first entry that
    needs them.
    Returns whether the EN↔ES bridge is available; without it, cross-language folding runs in reduced mode
    (names, figures and word forms the two languages share)."""
    from stories.grouping.associations import word_associations
    from stories.grouping.bridge import bridge_available
    from stories.grouping.event_kinds import kind_index
    from stories.grouping.model import load_model
    from stories.grouping.terms import idf_table

    load_model()
    idf_table()
    word_associations()
    available = bridge_available()
    kind_index()  # after the lexicon: its Spanish words go through the bridge
    return available


REDUCED_MODE = (
    "cross-language folding runs in reduced mode: the EN-ES bridge lexicon "
    "(stories/grouping/data/es_en_lexicon.tsv.gz) could not be read; reinstall, or rebuild it with "
    "make bridge-lexicon"
)
