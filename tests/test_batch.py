"""Which stored stories a poll's batch loads (`stories.batch.compared_stories`): exactly those some entry may
compare with, so a name shared by dozens of stored stories does not load them all."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from stories.batch import MAX_FACT_CANDIDATES, Candidates, compared_stories


def entry(figures: tuple[int, ...], names: tuple[int, ...], guid_lookup: tuple[int, ...] = ()) -> Any:
    return SimpleNamespace(
        print=SimpleNamespace(figure_keys=figures), name_lookup=names, guid_lookup=guid_lookup
    )


def test_each_entry_loads_only_the_stories_sharing_the_most_keys_and_its_guids_stories() -> None:
    found = Candidates()
    # Story 1 shares three keys with the entry, story 2 two, stories 3..7 one each (a common name).
    found.figure_stories = {
        10: {1, 2},
        11: {1, 2},
        12: {1, 3, 4, 5, 6, 7},
        20: {8},  # the key of another entry's figure
        30: {9},  # the entry's agency guid, found on another day
    }
    mine = entry((10, 11), (12,), guid_lookup=(30,))
    other = entry((20,), ())
    wanted = compared_stories(found, [mine, other])
    assert {1, 2} <= wanted and 8 in wanted and 9 in wanted
    assert len(wanted & {3, 4, 5, 6, 7}) == MAX_FACT_CANDIDATES - 2
