"""Which stored stories a poll's batch loads (`stories.batch.compared_stories`): exactly those some entry may
compare with, so a name shared by dozens of stored stories does not load them all, and only stories within
the entry's own matching window, however many days the batch spans (a backlog, an archive replayed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from config.settings import DEFAULT_TOPICS_FILE, load_settings
from storage import stories_repo
from storage.db import session_factory
from storage.models import FeedRow
from stories.batch import (
    MAX_FACT_CANDIDATES,
    Candidates,
    compared_stories,
    find_candidates,
    ranked_stories,
    time_stretches,
)
from stories.model import Entry
from stories.pipeline import StoryPipeline
from stories.topics import load_topics

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=4)


def entry(
    figures: tuple[int, ...], names: tuple[int, ...], guid_lookup: tuple[int, ...] = (), time: datetime = NOW
) -> Any:
    return SimpleNamespace(
        print=SimpleNamespace(figure_keys=figures), name_lookup=names, guid_lookup=guid_lookup, time=time
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
    wanted = compared_stories(found, [mine, other], WINDOW)
    assert {1, 2} <= wanted and 8 in wanted and 9 in wanted
    assert len(wanted & {3, 4, 5, 6, 7}) == MAX_FACT_CANDIDATES - 2


def test_stories_outside_the_entrys_window_do_not_take_the_candidates_places() -> None:
    # A batch's lookups span all its entries' days (a backlog, an archive replayed): stories 1-3 share a
    # common figure and a name with the entry but were told weeks before or after it; story 4, of the
    # entry's day, shares only the name. Ranked by keys alone, 1-3 took every place and 4 was never compared.
    found = Candidates()
    found.figure_stories = {10: {1, 2, 3}, 11: {1, 2, 3, 4}}
    found.story_times = {
        1: NOW - timedelta(days=30),
        2: NOW - timedelta(days=5),
        3: NOW + timedelta(days=20),
        4: NOW - timedelta(hours=3),
    }
    mine = entry((10,), (11,))
    assert ranked_stories(mine, (found,), WINDOW) == [4]
    assert compared_stories(found, [mine], WINDOW) == {4}
    # The same stories, all on the entry's days: the ones sharing the most keys come first, as before.
    found.story_times = dict.fromkeys(found.story_times, NOW)
    assert ranked_stories(mine, (found,), WINDOW) == [1, 2, 3]


def timed(hours: float) -> Any:
    return SimpleNamespace(time=NOW + timedelta(hours=hours))


def test_a_batch_is_cut_into_stretches_no_longer_than_the_window() -> None:
    items = [timed(hours) for hours in (150, 0, 1, 96, 1440, 97)]
    stretches = time_stretches(items, WINDOW)
    assert [[item.time for item in stretch] for stretch in stretches] == [
        [NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=96)],
        [NOW + timedelta(hours=97), NOW + timedelta(hours=150)],
        [NOW + timedelta(hours=1440)],
    ]


def lookup_entry(key: int, hours: float) -> Any:
    return SimpleNamespace(
        entry=SimpleNamespace(link=None, guid=None),
        print=SimpleNamespace(text_hash=f"hash-{key}-{hours}", bands=(), figure_keys=(key,)),
        name_lookup=(),
        guid_lookup=(),
        time=NOW + timedelta(hours=hours),
    )


async def test_a_backlog_is_looked_up_stretch_by_stretch_and_stories_come_with_their_time(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = StoryPipeline(load_topics(DEFAULT_TOPICS_FILE), load_settings())
    stored = Entry(
        entry_id="e1",
        feed_name="wire",
        title="326 Venezuelan soldiers have deserted to Colombia",
        link="https://wire.example/e1",
        guid="https://wire.example/e1",
        summary="A total of 326 members of Venezuela's armed forces have crossed into Colombia.",
        published=NOW,
        first_seen=NOW,
    )
    key = pipeline.prepare(stored, "en", NOW).print.figure_keys[0]
    async with session_factory(engine)() as session, session.begin():
        feed = FeedRow(name="wire", url="https://wire.example/rss", language="en", created_at=NOW)
        session.add(feed)
        await session.flush()
        [event] = await pipeline.process(session, feed, [stored], NOW, alerting=True)
    story_id = event.story.story_id
    asked: list[tuple[datetime, datetime]] = []
    real = stories_repo.find_stories_by_figures

    async def recording(
        session: AsyncSession, keys: Sequence[int], since: datetime, until: datetime
    ) -> list[tuple[int, int, datetime]]:
        asked.append((since, until))
        return await real(session, keys, since, until)

    monkeypatch.setattr(stories_repo, "find_stories_by_figures", recording)
    # A feed's backlog: two entries of the story's days and one two months later, all stating its figure.
    backlog = [lookup_entry(key, 2), lookup_entry(key, 1440), lookup_entry(key, 30)]
    async with session_factory(engine)() as session:
        found = await find_candidates(session, backlog, WINDOW)
    # Each stretch asks for the stories of its own days (the figures' lookup, then the names'): the row
    # limit then bounds those days' stories, never the whole span of the backlog's weeks.
    first = (NOW + timedelta(hours=2) - WINDOW, NOW + timedelta(hours=30) + WINDOW)
    second = (NOW + timedelta(hours=1440) - WINDOW, NOW + timedelta(hours=1440) + WINDOW)
    assert asked == [first, second]
    assert found.figure_stories == {key: {story_id}}
    assert found.story_times == {story_id: NOW}
