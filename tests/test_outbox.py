"""The transactional outbox: what gets queued, the exactly-once constraint, claiming and per-channel order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import channels_repo, outbox
from storage.db import session_factory
from storage.models import MuteRow, OutboxRow, StoryRow
from stories.model import (
    Entry,
    FigureChange,
    KeyFigure,
    StoryCluster,
    StoryEvent,
    StoryEventKind,
)
from values.chat import ChannelRef

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(hours=6)
BEAT = "border"


async def add_channel(
    sessions: async_sessionmaker[AsyncSession],
    external_id: str,
    *,
    platform: str = "console",
    topics: tuple[str, ...] = (BEAT,),
) -> int:
    async with sessions() as session, session.begin():
        channel = await channels_repo.ensure_channel(session, ChannelRef(platform, external_id), NOW)
        for topic in topics:
            await channels_repo.subscribe(session, channel.id, topic, "tester", NOW)
        return channel.id


async def add_story(
    sessions: async_sessionmaker[AsyncSession],
    title: str = "Border crossing reopens",
    *,
    topics: tuple[str, ...] = (BEAT,),
    relevant: bool = True,
    published: datetime | None = NOW,
) -> StoryCluster:
    async with sessions() as session, session.begin():
        row = StoryRow(
            title=title,
            link=f"https://news.example/{abs(hash(title))}",
            source="Example Wire",
            summary="Summary.",
            language="en",
            relevant=relevant,
            topics=list(topics),
            matched=["Cúcuta"],
            figures=[],
            revision=1,
            source_count=1,
            first_seen_at=NOW,
            published_at=published,
            updated_at=NOW,
        )
        session.add(row)
        await session.flush()
        story_id = row.id
    return StoryCluster(
        story_id=story_id,
        title=title,
        link=None,
        source="Example Wire",
        summary="Summary.",
        language="en",
        topics=topics,
        matched=("Cúcuta",),
        figures=(),
        first_seen=NOW,
        published=published,
        relevant=relevant,
    )


def story_event(
    story: StoryCluster,
    kind: StoryEventKind = StoryEventKind.NEW,
    *,
    published: datetime | None = NOW,
    changes: tuple[FigureChange, ...] = (),
) -> StoryEvent:
    entry = Entry(
        entry_id=f"e-{story.story_id}-{story.revision}",
        feed_name="wire",
        title=story.title,
        published=published,
        first_seen=NOW,
    )
    return StoryEvent(kind=kind, entry=entry, story=story, changes=changes)


async def enqueue(
    sessions: async_sessionmaker[AsyncSession], events: list[StoryEvent], now: datetime = NOW
) -> int:
    async with sessions() as session, session.begin():
        return await outbox.enqueue_alerts(session, events, now, MAX_AGE)


async def outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxRow]:
    async with sessions() as session:
        return list((await session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars())


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    owner: str = "w1",
    now: datetime = NOW,
    *,
    limit: int = 50,
    platforms: tuple[str, ...] = ("console",),
) -> list[outbox.ClaimedRow]:
    async with sessions() as session, session.begin():
        return await outbox.claim_due(
            session, owner, now, lease=timedelta(seconds=60), limit=limit, platforms=platforms
        )


async def finish(
    sessions: async_sessionmaker[AsyncSession], row: outbox.ClaimedRow, owner: str = "w1"
) -> None:
    async with sessions() as session, session.begin():
        assert await outbox.mark_sent(session, row.id, owner, f"m{row.id}", None, NOW)


# --- what gets queued -----------------------------------------------------------------------------------


async def test_new_story_queues_one_row_per_subscribed_channel(sqlite_engine: AsyncEngine) -> None:
    sessions = session_factory(sqlite_engine)
    first = await add_channel(sessions, "newsdesk")
    second = await add_channel(sessions, "night-desk")
    await add_channel(sessions, "sports", topics=("football",))
    story = await add_story(sessions)

    assert await enqueue(sessions, [story_event(story)]) == 2

    rows = await outbox_rows(sessions)
    assert sorted(r.channel_id for r in rows) == sorted([first, second])
    assert {(r.story_id, r.kind, r.revision, r.state) for r in rows} == {
        (story.story_id, "new", 1, "pending")
    }


async def test_only_relevant_recent_new_or_update_events_are_queued(sqlite_engine: AsyncEngine) -> None:
    sessions = session_factory(sqlite_engine)
    await add_channel(sessions, "newsdesk")
    off_beat = await add_story(sessions, "Football final", relevant=False)
    duplicate = await add_story(sessions, "Same crossing story, another outlet")
    stale = await add_story(sessions, "Old report")
    unknown_date = await add_story(sessions, "Undated report", published=None)

    events = [
        story_event(off_beat),
        story_event(duplicate, StoryEventKind.DUPLICATE),
        story_event(stale, published=NOW - MAX_AGE - timedelta(minutes=1)),
        # No publication date: the first-seen time (now) decides, so it is recent.
        story_event(unknown_date, published=None),
    ]
    assert await enqueue(sessions, events) == 1
    assert [r.story_id for r in await outbox_rows(sessions)] == [unknown_date.story_id]


async def test_update_rows_carry_their_changes(sqlite_engine: AsyncEngine) -> None:
    sessions = session_factory(sqlite_engine)
    await add_channel(sessions, "newsdesk")
    story = await add_story(sessions)
    await enqueue(sessions, [story_event(story)])
    story.revision = 2
    old = KeyFigure(326.0, "326", "soldiers detained")
    new = KeyFigure(411.0, "411", "soldiers detained")
    change = FigureChange("soldiers detained", old, new)

    assert await enqueue(sessions, [story_event(story, StoryEventKind.UPDATE, changes=(change,))]) == 1

    update_row = (await outbox_rows(sessions))[-1]
    assert (update_row.kind, update_row.revision) == ("update", 2)
    assert outbox.changes_from_payload(update_row.payload) == (change,)


async def test_an_update_to_a_channel_that_never_got_the_story_is_its_first_alert(
    sqlite_engine: AsyncEngine,
) -> None:
    sessions = session_factory(sqlite_engine)
    await add_channel(sessions, "newsdesk")
    story = await add_story(sessions)
    await enqueue(sessions, [story_event(story)])
    late = await add_channel(sessions, "late-desk")  # subscribed after the first alert went out
    story.revision = 2
    change = FigureChange(
        "deserters", KeyFigure(326.0, "326", "deserters"), KeyFigure(411.0, "411", "deserters")
    )

    assert await enqueue(sessions, [story_event(story, StoryEventKind.UPDATE, changes=(change,))]) == 2

    rows = {(r.channel_id, r.kind, r.revision) for r in await outbox_rows(sessions)}
    assert (late, "new", 2) in rows  # no thread to reply in: the story itself, with current figures
    assert sum(kind == "update" for _, kind, _ in rows) == 1  # the newsdesk gets the threaded update


async def test_muted_channel_gets_no_row_and_counts_the_skip(sqlite_engine: AsyncEngine) -> None:
    sessions = session_factory(sqlite_engine)
    muted = await add_channel(sessions, "muted-desk")
    open_desk = await add_channel(sessions, "open-desk")
    async with sessions() as session, session.begin():
        await channels_repo.mute(session, muted, BEAT, NOW + timedelta(hours=1), "editor", NOW)
    stories = [await add_story(sessions, f"Story {n}") for n in range(3)]

    assert await enqueue(sessions, [story_event(s) for s in stories]) == 3

    assert {r.channel_id for r in await outbox_rows(sessions)} == {open_desk}
    async with sessions() as session:
        mute = (await session.execute(select(MuteRow))).scalar_one()
    assert mute.skipped_count == 3


# --- at most once per channel per revision -------------------------------------------------------------


async def test_the_same_revision_is_queued_once_however_often_it_is_enqueued(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    channel = await add_channel(sessions, "newsdesk")
    story = await add_story(sessions)
    event = story_event(story)

    counts = [await enqueue(sessions, [event]) for _ in range(3)]
    # Concurrent ingest transactions racing on the same story (two workers, one feed lease overlap).
    counts += await asyncio.gather(*(enqueue(sessions, [event]) for _ in range(4)))

    assert sum(counts) == 1
    assert len(await outbox_rows(sessions)) == 1
    # Even code that bypasses enqueue_alerts cannot write a second row: the constraint itself refuses.
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            session.add(
                OutboxRow(
                    story_id=story.story_id,
                    channel_id=channel,
                    kind="new",
                    revision=1,
                    payload={},
                    state="pending",
                    attempts=0,
                    next_attempt_at=NOW,
                    created_at=NOW,
                )
            )


# --- claiming ------------------------------------------------------------------------------------------


async def test_concurrent_claimers_never_share_a_row(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    channels = [await add_channel(sessions, f"desk-{n}") for n in range(24)]
    story = await add_story(sessions)
    assert await enqueue(sessions, [story_event(story)]) == len(channels)

    batches = await asyncio.gather(*(claim(sessions, f"w{n}", limit=5) for n in range(4)))

    claimed = [row.id for batch in batches for row in batch]
    assert len(claimed) == len(set(claimed))
    assert len(claimed) == 20  # 4 claimers x 5: none came back empty-handed because of another's locks
    rows = {r.id: r for r in await outbox_rows(sessions)}
    for n, batch in enumerate(batches):
        assert all(rows[c.id].lease_owner == f"w{n}" and rows[c.id].state == "sending" for c in batch)


async def test_a_channel_is_served_in_order_one_row_at_a_time(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    await add_channel(sessions, "newsdesk")
    stories = [await add_story(sessions, f"Story {n}") for n in range(3)]
    await enqueue(sessions, [story_event(s) for s in stories])
    first, second, third = await outbox_rows(sessions)

    [claimed] = await claim(sessions, "w1")
    assert claimed.id == first.id
    assert await claim(sessions, "w2") == []  # the channel's first row is still being sent

    # A failed first row waiting for its retry still holds the channel's place in line.
    async with sessions() as session, session.begin():
        await outbox.mark_retry(session, first.id, "w1", "timeout", NOW + timedelta(minutes=5))
    assert await claim(sessions, "w2") == []

    [retried] = await claim(sessions, "w2", NOW + timedelta(minutes=6))
    assert retried.id == first.id and retried.attempts == 2
    await finish(sessions, retried, "w2")
    [claimed] = await claim(sessions, "w1")
    assert claimed.id == second.id

    # A dead row no longer blocks the channel.
    async with sessions() as session, session.begin():
        await outbox.mark_dead(session, second.id, "w1", "channel not found")
    assert [c.id for c in await claim(sessions, "w1")] == [third.id]


async def test_an_expired_sending_lease_is_taken_over(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    await add_channel(sessions, "newsdesk")
    await enqueue(sessions, [story_event(await add_story(sessions))])
    [first] = await claim(sessions, "dead-worker")

    assert await claim(sessions, "w2", NOW + timedelta(seconds=30)) == []  # lease (60 s) still held
    [taken] = await claim(sessions, "w2", NOW + timedelta(seconds=61))
    assert (taken.id, taken.attempts) == (first.id, 2)
    # The dead worker, should it wake up, can no longer mark the row.
    async with sessions() as session, session.begin():
        assert not await outbox.mark_sent(session, first.id, "dead-worker", "m1", None, NOW)


async def test_a_sender_only_claims_platforms_it_can_post_to(sqlite_engine: AsyncEngine) -> None:
    sessions = session_factory(sqlite_engine)
    await add_channel(sessions, "C123", platform="slack")
    discord_channel = await add_channel(sessions, "998877", platform="discord")
    await enqueue(sessions, [story_event(await add_story(sessions))])

    claimed = await claim(sessions, "w1", platforms=("discord", "console"))

    assert [c.channel_id for c in claimed] == [discord_channel]
    assert claimed[0].platform == "discord" and claimed[0].channel == "998877"
    async with sessions() as session:
        pending = await session.scalar(select(func.count()).where(OutboxRow.state == "pending"))
    assert pending == 1
