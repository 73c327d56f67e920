"""Feed leases and health records on SQLite and PostgreSQL; the feeds file and its sync."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import DEFAULT_FEEDS_FILE
from feeds.sources import (
    REMOVED_BY_EDITOR,
    REMOVED_FROM_FILE,
    FeedsFileError,
    load_sources,
    new_feed_row,
    parse_sources,
    sync_sources,
)
from storage import feeds_repo
from storage.db import session_factory
from storage.models import FeedRow
from stories.model import FeedSource

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _add_feeds(engine: AsyncEngine, count: int, *, due_at: datetime = NOW) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        for number in range(count):
            row = new_feed_row(FeedSource(f"feed {number:02d}", f"https://e.org/{number}", "en"), NOW, "file")
            row.next_poll_at = due_at
            session.add(row)


async def test_lease_hands_each_due_feed_to_one_worker(engine: AsyncEngine) -> None:
    await _add_feeds(engine, 40)
    sessions = session_factory(engine)

    async def worker(owner: str) -> list[int]:
        leased: list[int] = []
        while True:
            async with sessions() as session, session.begin():
                rows = await feeds_repo.lease_due_feeds(session, owner, 3, 60, NOW)
            if not rows:
                return leased
            assert all(row.lease_owner == owner for row in rows)
            leased.extend(row.id for row in rows)

    results = await asyncio.gather(*(worker(f"w{n}") for n in range(4)))
    everything = [feed_id for leased in results for feed_id in leased]
    assert len(everything) == 40 and len(set(everything)) == 40


async def test_lease_skips_feeds_not_due_disabled_or_leased(engine: AsyncEngine) -> None:
    await _add_feeds(engine, 4)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        rows = (await session.scalars(select(FeedRow).order_by(FeedRow.id))).all()
        rows[0].next_poll_at = NOW + timedelta(minutes=5)
        rows[1].enabled = False
        rows[2].lease_owner, rows[2].lease_until = "other", NOW + timedelta(seconds=30)
    async with sessions() as session, session.begin():
        leased = await feeds_repo.lease_due_feeds(session, "me", 10, 60, NOW)
    assert [row.name for row in leased] == ["feed 03"]
    assert leased[0].lease_until == NOW + timedelta(seconds=60)


async def test_expired_lease_is_taken_over(engine: AsyncEngine) -> None:
    await _add_feeds(engine, 1)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        assert len(await feeds_repo.lease_due_feeds(session, "dead worker", 5, 60, NOW)) == 1
    async with sessions() as session, session.begin():
        assert await feeds_repo.lease_due_feeds(session, "me", 5, 60, NOW + timedelta(seconds=30)) == []
    async with sessions() as session, session.begin():
        taken = await feeds_repo.lease_due_feeds(session, "me", 5, 60, NOW + timedelta(seconds=61))
    assert [row.lease_owner for row in taken] == ["me"]
    async with sessions() as session, session.begin():
        assert await feeds_repo.claim_leased_feed(session, taken[0].id, "dead worker") is None
        assert await feeds_repo.claim_leased_feed(session, taken[0].id, "me") is not None


async def test_health_records_success_and_failure(engine: AsyncEngine) -> None:
    await _add_feeds(engine, 2)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        good, bad = await feeds_repo.lease_due_feeds(session, "me", 5, 60, NOW)
    async with sessions() as session, session.begin():
        good = await feeds_repo.claim_leased_feed(session, good.id, "me")
        assert good is not None
        await feeds_repo.record_success(
            session,
            good,
            NOW,
            next_poll_at=NOW + timedelta(minutes=5),
            interval_seconds=300,
            etag='"abc"',
            last_modified=None,
            body_hash="f" * 64,
            parse_warning="the feed is malformed (x)",
        )
        bad = await feeds_repo.claim_leased_feed(session, bad.id, "me")
        assert bad is not None
        for _ in range(2):
            await feeds_repo.record_failure(
                session,
                bad,
                NOW,
                kind="http_500",
                reason="the server had an internal problem",
                next_poll_at=None,
            )
    async with sessions() as session:
        health = {line.name: line for line in await feeds_repo.feed_health(session)}
    ok, failing = health["feed 00"], health["feed 01"]
    assert ok.status == "warning" and ok.last_success_at == NOW and ok.backlog_loaded
    assert ok.next_poll_at == NOW + timedelta(minutes=5) and ok.interval_seconds == 300
    assert failing.status == "failing" and failing.consecutive_failures == 2
    assert (
        failing.last_error == "the server had an internal problem" and failing.last_error_kind == "http_500"
    )
    async with sessions() as session:
        rows = (await session.scalars(select(FeedRow))).all()
    assert all(row.lease_owner is None for row in rows)


def test_bundled_feed_list_is_valid_and_bilingual() -> None:
    sources = load_sources(DEFAULT_FEEDS_FILE)
    assert len(sources) >= 10
    assert {source.language for source in sources} == {"en", "es"}
    assert any("news.google.com/rss/search" in source.url for source in sources)


@pytest.mark.parametrize(
    "text,expected",
    [
        ('[[feeds]]\nname = "A"\nlanguage = "en"\n', "entry 1 ('A'): url is missing"),
        ('[[feeds]]\nname = "A"\nurl = "ftp://x/y"\nlanguage = "en"\n', "entry 1 ('A'): url must be"),
        ('[[feeds]]\nname = "A"\nurl = "https://x/y"\nlanguage = "english"\n', "language must be"),
        (
            '[[feeds]]\nname = "A"\nurl = "https://x/y"\nlanguage = "en"\ninterval_seconds = 0\n',
            "interval_seconds",
        ),
        ('[[feeds]]\nname = "A"\nurl = "https://x/y"\nlanguage = "en"\ncolour = 1\n', "unknown key 'colour'"),
        (
            '[[feeds]]\nname = "A"\nurl = "https://x/1"\nlanguage = "en"\n'
            '[[feeds]]\nname = "a"\nurl = "https://x/2"\nlanguage = "en"\n',
            "entry 2 ('a'): name already used by entry 1",
        ),
        ("[[feeds]\nname=", "not valid TOML"),
    ],
)
def test_bad_feeds_file_gives_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(FeedsFileError) as caught:
        parse_sources(text, origin="my-feeds.toml")
    message = str(caught.value)
    assert message.startswith("my-feeds.toml: ") and expected in message and "\n" not in message


def test_missing_feeds_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(FeedsFileError, match=r"FEEDS_FILE: .*nope\.toml does not exist"):
        load_sources(tmp_path / "nope.toml")


async def test_sync_adds_updates_disables_and_respects_feeds_remove(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    first = [FeedSource("A", "https://e.org/a", "en"), FeedSource("B", "https://e.org/b", "es", 600)]
    async with sessions() as session, session.begin():
        report = await sync_sources(session, first, NOW)
        session.add(new_feed_row(FeedSource("Manual", "https://e.org/m", "en"), NOW, "cli"))
    assert report.added == ["A", "B"]
    async with sessions() as session, session.begin():
        b = await feeds_repo.get_feed(session, "B")
        assert b is not None
        b.url, b.etag = "https://moved.example/b", '"x"'  # a permanent redirect moved it
    later = NOW + timedelta(hours=1)
    second = [FeedSource("B", "https://e.org/b", "es", 900), FeedSource("C", "https://e.org/c", "en")]
    async with sessions() as session, session.begin():
        report = await sync_sources(session, second, later)
    assert report.added == ["C"] and report.disabled == ["A"] and report.changed == ["B"]
    async with sessions() as session, session.begin():
        rows = {row.name: row for row in (await session.scalars(select(FeedRow))).all()}
        assert rows["A"].enabled is False and rows["A"].disabled_reason == REMOVED_FROM_FILE
        assert rows["B"].url == "https://moved.example/b"  # the redirect target survives a re-sync
        assert rows["B"].interval_seconds == 900
        assert rows["Manual"].enabled is True  # added by hand: not the file's to disable
        rows["C"].enabled, rows["C"].disabled_reason = False, REMOVED_BY_EDITOR
    async with sessions() as session, session.begin():
        report = await sync_sources(session, [*second, FeedSource("A", "https://e.org/a", "en")], later)
    assert report.enabled == ["A"] and report.kept_removed == ["C"]


async def test_release_lease_only_by_its_owner(engine: AsyncEngine) -> None:
    await _add_feeds(engine, 1)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        (row,) = await feeds_repo.lease_due_feeds(session, "me", 5, 60, NOW)
    async with sessions() as session, session.begin():
        assert await feeds_repo.release_lease(session, row.id, "someone else") is False
        assert await feeds_repo.release_lease(session, row.id, "me") is True
    async with sessions() as session, session.begin():
        assert len(await feeds_repo.lease_due_feeds(session, "other", 5, 60, NOW)) == 1
