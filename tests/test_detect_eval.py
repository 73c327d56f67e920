"""`make eval` as a regression gate on the dev split (test is frozen and only read, never gated on).

Detection must stay at its targets; story grouping at its precision target and at no less than the F1 it
had when the same-story model was last fitted (`GROUPING_F1_FLOOR` for on-beat pairs,
`GROUPING_ALL_PAIRS_F1_FLOOR` for all: the target of 0.95 is not reached yet,
see README's known limits), key figures at their targets. Detection alone runs in every test run; the
whole pipeline through `bot.py scan` is the slow test.
"""

from __future__ import annotations

import pytest

from config.settings import DEFAULT_TOPICS_FILE
from stories.topics import load_topics
from tests.eval.dataset import load_dataset
from tests.eval.metrics import FoundFigure, detection_score, figure_score, grouping_score, score_decisions
from tests.eval.run import TARGETS, on_beat, run_scan

# Dev F1 with the committed model, about a hundredth under it (on-beat pairs 0.922, every pair 0.908 with
# grouping_c..cr: the refit on grouping_cp..cr moved the decision from threshold 0.8 with story agreement 0.7
# to 0.9 without, the choice of the replay and of the bot's own scan of held-out files alike, and lowered them
# from 0.925 and 0.916; before, 0.926 and 0.917 with grouping_c..co and the real headline files
# leo2166_l{q,r,s,t}, which made dev harder: every pair 0.920 without them; the real headline stream held out
# by fortnight, not whole, in training raised them from 0.917 and 0.910, the earlier changes of 2026-12-07
# moved them by 0.001 either way, and those of 7c43847 from 0.914 and 0.906; the floors follow the dev split
# as it grows: its files of traps and running crises made it harder for the same code, 0.924 and 0.915 with
# grouping_c..ci). The model's refits over the waves of fresh dev files left the on-beat figure between 0.77
# and 0.86 (see README's known limits); the scan's candidates kept to each entry's own days
# (`stories.batch.time_stretches`, `ranked_stories`) raised it from 0.817 to 0.845, every pair from 0.805 to
# 0.832 (the dev split spans decades, and stories of other years sharing a common figure had taken the
# candidates' places); trees with leaves of at least 50 pairs (`training.train_grouping.MIN_LEAF`) to 0.857
# and 0.846; six title words and the headline's opening name as lookup keys, the model trained on exactly the
# pairs the lookups offer, to 0.871 and 0.859; the model asked about pairs with fewer words in common
# (`stories.batch.MIN_TEXT_COSINE` 0.05, not 0.1) to 0.885 and 0.875; word associations learned from dev's
# pairs (`stories.grouping.associations`) from 0.880 and 0.871 (grouping_c..bw, before) to 0.933 and 0.923,
# then 0.927 and 0.917 with grouping_bx..cc. Dev is in-sample for the associations: test rose less (0.887 to
# 0.926 on-beat, 0.880 to 0.920 every pair, on the test files of that day).
GROUPING_F1_FLOOR = 0.915
GROUPING_ALL_PAIRS_F1_FLOOR = 0.9


def test_labelled_set_meets_its_own_requirements() -> None:
    items = load_dataset()
    assert len(items) >= 150
    assert sum(item.language == "es" for item in items) * 3 >= len(items)
    stories = [item.story for item in items]
    assert sum(1 for story in set(stories) if stories.count(story) > 1) >= 20
    kinds = {item.kind for item in items}
    assert {"curly-copy", "republication", "translation", "update"} <= kinds
    assert {"venezuela-oil", "essequibo", "brazil-border", "us-mexico-border", "darien", "football",
            "business", "colombia-only"} <= kinds  # fmt: skip
    # Most on-beat entries carry figures; stories with none (an event, a bridge opening) are labelled too.
    on_beat = [item for item in items if item.relevant]
    assert sum(bool(item.figures) for item in on_beat) >= 0.6 * len(on_beat)
    assert sum(not item.figures for item in on_beat) >= 20
    assert {"dev", "test"} == {item.split for item in items}
    # A guid names one item to the bot: two files' items under one guid would be folded as copies (and the
    # scan's rows, mapped back by guid, would lose one of them).
    guids = [(item.split, item.feed_guid) for item in items if item.feed_guid]
    assert len(guids) == len(set(guids))


def test_detection_meets_targets_on_the_labelled_set() -> None:
    score = detection_score(load_dataset(split="dev"), load_topics(DEFAULT_TOPICS_FILE))
    assert score.precision >= TARGETS["detection precision"], score.false_alarms
    assert score.recall >= TARGETS["detection recall"], score.misses


# The dev split's whole scan (12,912 entries): about three and a half minutes here in a slow hour, over the
# default 180 s.
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_whole_pipeline_meets_targets_on_the_labelled_set() -> None:
    """The dev split as RSS through `bot.py scan --json`: detection, grouping and figures at target."""
    items = load_dataset(split="dev")
    rows = run_scan(items)
    assert rows is not None, "bot.py scan --json failed on the rendered eval feeds"
    assert len(rows) == len(items)
    detection = score_decisions(items, {key: bool(row["relevant"]) for key, row in rows.items()})
    grouping = grouping_score(items, {key: row["story_id"] for key, row in rows.items()})
    figures = figure_score(
        items,
        {
            key: [FoundFigure(float(f["value"]), str(f["text"])) for f in row["figures"]]
            for key, row in rows.items()
        },
    )
    assert detection.precision >= TARGETS["detection precision"], detection.false_alarms
    assert detection.recall >= TARGETS["detection recall"], detection.misses
    assert grouping.precision >= TARGETS["grouping precision"], grouping.false_alarms
    assert grouping.f1 >= GROUPING_ALL_PAIRS_F1_FLOOR, (grouping.misses, grouping.false_alarms)
    alerted = grouping_score(items, {key: row["story_id"] for key, row in rows.items()}, on_beat)
    assert alerted.f1 >= GROUPING_F1_FLOOR, (alerted.misses, alerted.false_alarms)
    assert figures.precision >= TARGETS["figures precision"], figures.false_alarms
    assert figures.recall >= TARGETS["figures recall"], figures.misses
