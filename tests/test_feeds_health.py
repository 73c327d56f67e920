"""Failure classes, backoff, Retry-After and the adaptive interval."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from config.settings import Settings, load_settings
from feeds import health
from feeds.fetch import FeedFetcher
from feeds.health import FailureClass
from tests.fakes.feed_server import FeedServer, rss_document

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings() -> Settings:
    return load_settings(POLL_MIN_SECONDS=60, POLL_MAX_SECONDS=3600, POLL_INTERVAL_SECONDS=300)


@pytest.mark.parametrize(
    "kind,expected",
    [
        ("timeout", FailureClass.TRANSIENT),
        ("dns", FailureClass.TRANSIENT),
        ("http_502", FailureClass.TRANSIENT),
        ("rate_limited", FailureClass.THROTTLED),
        ("unavailable", FailureClass.THROTTLED),
        ("http_404", FailureClass.BROKEN),
        ("not_a_feed", FailureClass.BROKEN),
        ("too_large", FailureClass.BROKEN),
        ("tls", FailureClass.BROKEN),
        ("gone", FailureClass.GONE),
    ],
)
def test_classify(kind: str, expected: FailureClass) -> None:
    assert health.classify(kind) is expected


def test_backoff_doubles_with_bounded_jitter_and_a_ceiling(settings: Settings) -> None:
    rng = random.Random(1)
    for failures in range(1, 12):
        wait = health.backoff_seconds(failures, settings, rng)
        nominal = min(60 * 2 ** (failures - 1), health.BACKOFF_CEILING_SECONDS)
        assert (
            nominal * (1 - health.BACKOFF_JITTER)
            <= wait
            <= min(nominal * 1.2, health.BACKOFF_CEILING_SECONDS)
        )
    spread = {round(health.backoff_seconds(3, settings, random.Random(seed))) for seed in range(20)}
    assert len(spread) > 1  # jitter really varies


def test_plan_after_failure(settings: Settings) -> None:
    gone = health.plan_after_failure("gone", None, 1, NOW, settings)
    assert gone.disable and gone.next_poll_at is None
    throttled = health.plan_after_failure("rate_limited", 900.0, 1, NOW, settings)
    assert throttled.next_poll_at == NOW + timedelta(seconds=900) and not throttled.disable
    tiny = health.plan_after_failure("rate_limited", 0.0, 1, NOW, settings)
    assert tiny.next_poll_at == NOW + timedelta(seconds=health.MIN_RETRY_AFTER_SECONDS)
    plain = health.plan_after_failure("http_500", None, 2, NOW, settings, random.Random(3))
    assert plain.next_poll_at is not None
    assert 96 <= (plain.next_poll_at - NOW).total_seconds() <= 144


def test_publication_interval(settings: Settings) -> None:
    hourly = [NOW - timedelta(hours=n) for n in range(10)]
    assert health.publication_interval(hourly, settings) == 3600 // health.POLLS_PER_GAP
    minutely = [NOW - timedelta(minutes=n) for n in range(10)]
    assert health.publication_interval(minutely, settings) == settings.poll_min_seconds
    weekly = [NOW - timedelta(weeks=n) for n in range(10)]
    assert health.publication_interval(weekly, settings) == settings.poll_max_seconds
    assert health.publication_interval([NOW, NOW - timedelta(hours=1)], settings) is None
    assert health.publication_interval([NOW, NOW, NOW, None], settings) is None
    assert health.base_interval(None, settings) == 300 and health.base_interval(10, settings) == 60


async def test_concurrency_is_limited_per_host_and_overall() -> None:
    settings = load_settings(FETCH_CONCURRENCY=3, FETCH_PER_HOST_CONCURRENCY=2)
    in_flight = {"now": 0, "max": 0}
    body = rss_document("t", [])

    async def counted(request: web.Request) -> web.StreamResponse:
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(0.05)
        in_flight["now"] -= 1
        return web.Response(body=body, content_type="application/rss+xml")

    async with FeedServer() as server, FeedFetcher(settings) as fetcher:
        paths = [server.route(f"/f{n}.xml", counted) for n in range(8)]
        # 127.0.0.1 and localhost are two hosts to the limiter: per-host 2 each, 3 overall.
        urls = paths[:4] + [url.replace("127.0.0.1", "localhost") for url in paths[4:]]
        one_host = await asyncio.gather(*(fetcher.fetch(url) for url in paths[:6]))
        assert in_flight["max"] <= 2
        in_flight["max"] = 0
        await asyncio.gather(*(fetcher.fetch(url) for url in urls))
    assert len(one_host) == 6 and in_flight["max"] <= 3
