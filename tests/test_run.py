"""`bot.py run`: the wiring from settings to posted alerts, the roles, metrics/health, graceful stop."""

from __future__ import annotations

import asyncio
import io
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from config.settings import ConfigurationError, load_settings
from feeds.schedule import TickSummary
from handlers.console.runtime import build_console_runtime
from handlers.news.channel import mute_ended_notice
from runtime.polling import PollingService
from runtime.process import WirewatchProcess
from runtime.roles import Role
from storage.models import FeedRow, OutboxRow, SchedulerBeatRow
from tests.conftest import PROJECT_ROOT
from tests.test_scaleout import FeedFarm, Store, off_beat_item, on_beat_item, wait_until


def _console_factory(output: io.StringIO, input_text: str | None = None):  # type: ignore[no-untyped-def]
    def factory(settings, news, sessions):  # type: ignore[no-untyped-def]
        stream = io.StringIO(input_text) if input_text is not None else None
        runtime = build_console_runtime(
            settings,
            news,
            sessions,
            stdin=input_text is not None,
            input_stream=stream,
            output_stream=output,
            color=False,
        )
        return [runtime]

    return factory


async def test_all_role_polls_stores_alerts_and_reports_health(sqlite_url: str, tmp_path: Path) -> None:
    rng = random.Random(5)
    farm = FeedFarm(2)
    await farm.start()
    earlier = datetime.now(UTC) - timedelta(hours=1)
    for number in range(2):
        farm.serve(number, [off_beat_item(rng, f"old-{number}", earlier)])
    settings = load_settings(
        DATABASE_URL=sqlite_url,
        FEEDS_FILE=str(farm.write_feeds_file(tmp_path / "feeds.toml", interval_seconds=1)),
        POLL_INTERVAL_SECONDS=1,
        POLL_MIN_SECONDS=1,
        POLL_MAX_SECONDS=2,
        SCHEDULER_TICK_SECONDS=0.2,
        DELIVERY_CHANNEL_INTERVAL_SECONDS=0,
        METRICS_PORT=0,
        WORKER_ID="test-all",
    )
    store = Store(sqlite_url)
    await store.migrate()
    output = io.StringIO()
    process = WirewatchProcess(settings, Role.ALL, runtime_factory=_console_factory(output, ""))
    stop = asyncio.Event()
    running = asyncio.create_task(process.run(stop))
    try:

        async def backlog_loaded() -> bool:
            count = await store.scalar(select(func.count()).where(FeedRow.backlog_loaded.is_(True)))
            return bool(count == 2)

        assert await wait_until(backlog_loaded, within=20)
        assert output.getvalue() == ""  # the backlog is stored silently
        story = on_beat_item(rng, "fresh", datetime.now(UTC))
        farm.publish(1, story)

        async def alerted() -> bool:
            return (await store.outbox_states())["sent"] == 1

        assert await wait_until(alerted, within=20)
        assert story.title in output.getvalue() and "NEW" in output.getvalue()
        # Delivery imports nothing of the command layer: the wiring hands it the mute-ended notice's wording.
        assert process.sender is not None and process.sender.notice_text is mute_ended_notice

        assert process.metrics_server is not None
        base = f"http://127.0.0.1:{process.metrics_server.bound_port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as response:
                health = await response.json()
                assert response.status == 200
            async with http.get(f"{base}/metrics") as response:
                exposition = await response.text()
        assert set(health["checks"]) == {"scheduler", "delivery", "database"}
        assert health["checks"]["database"] == "ok"
        assert 'wirewatch_alerts_sent_total{kind="new",platform="console"}' in exposition
        assert 'wirewatch_feed_polls_total{outcome="fetched"}' in exposition

        async def beat_written() -> bool:
            row = await store.scalar(select(SchedulerBeatRow).where(SchedulerBeatRow.worker_id == "test-all"))
            return row is not None and row.scheduler_beat_at is not None and row.sender_beat_at is not None

        assert await wait_until(beat_written, within=10)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
        await farm.stop()
    # A clean stop leaves no heartbeat row and no feed lease behind.
    assert await store.scalar(select(func.count()).select_from(SchedulerBeatRow)) == 0
    assert await store.scalar(select(func.count()).where(FeedRow.lease_owner.is_not(None))) == 0
    await store.close()


async def test_gateway_role_answers_commands_but_never_polls(sqlite_url: str, tmp_path: Path) -> None:
    farm = FeedFarm(1)
    await farm.start()
    farm.serve(0, [off_beat_item(random.Random(1), "old", datetime.now(UTC))])
    settings = load_settings(
        DATABASE_URL=sqlite_url,
        FEEDS_FILE=str(farm.write_feeds_file(tmp_path / "feeds.toml", interval_seconds=1)),
        SCHEDULER_TICK_SECONDS=0.2,
        WORKER_ID="test-gateway",
    )
    output = io.StringIO()
    process = WirewatchProcess(
        settings, Role.GATEWAY, runtime_factory=_console_factory(output, "/news help\n")
    )
    stop = asyncio.Event()
    running = asyncio.create_task(process.run(stop))
    try:

        async def answered() -> bool:
            return "/news" in output.getvalue()

        assert await wait_until(answered, within=15)
        assert process.polling is None and process.sender is not None
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
        await farm.stop()
    assert farm.server.hits(farm.path(0)) == 0


def _bot(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "bot.py"), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _env(sqlite_url: str, feeds_file: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),
            "DATABASE_URL": sqlite_url,
            "FEEDS_FILE": str(feeds_file),
            "LOG_FORMAT": "json",
            "SCHEDULER_TICK_SECONDS": "0.2",
        }
    )
    return env


def test_an_unknown_role_is_refused_in_one_line() -> None:
    import bot

    result = CliRunner().invoke(bot.app, ["run", "--role", "everything"])
    # bot.main turns ConfigurationError into this one line on stderr and exit status 2.
    assert isinstance(result.exception, ConfigurationError)
    message = str(result.exception)
    assert message.splitlines() == [message]
    assert "--role" in message and "worker" in message


@pytest.mark.slow
async def test_sigterm_stops_a_worker_gracefully(sqlite_url: str, tmp_path: Path) -> None:
    farm = FeedFarm(3)
    await farm.start()
    for number in range(3):
        farm.serve(number, [off_beat_item(random.Random(number), f"e{number}", datetime.now(UTC))])
    feeds_file = farm.write_feeds_file(tmp_path / "feeds.toml", interval_seconds=1)
    env = _env(sqlite_url, feeds_file) | {"WORKER_ID": "sigterm-worker"}
    store = Store(sqlite_url)
    await store.migrate()
    bot = _bot("run", "--role", "worker", "--no-stdin", cwd=tmp_path, env=env)
    try:

        async def polled() -> bool:
            count = await store.scalar(select(func.count()).where(FeedRow.backlog_loaded.is_(True)))
            return bool(count == 3)

        assert await wait_until(polled, within=30)
        bot.send_signal(signal.SIGTERM)
        _out, err = await asyncio.to_thread(bot.communicate, timeout=30)
    finally:
        if bot.poll() is None:
            bot.kill()
        await farm.stop()
    assert bot.returncode == 0
    assert '"signal received; shutting down gracefully"' in err and '"stopped"' in err
    assert await store.scalar(select(func.count()).select_from(SchedulerBeatRow)) == 0
    assert await store.scalar(select(func.count()).select_from(OutboxRow)) == 0
    await store.close()


async def test_stop_gives_the_running_poll_tick_its_grace(sqlite_url: str) -> None:
    """A tick running when the process stops finishes its polls (within the grace) instead of being cut off:
    APScheduler cancels a running job when it shuts down, so the service pauses it first."""
    settings = load_settings(DATABASE_URL=sqlite_url, WORKER_ID="w-grace", SCHEDULER_TICK_SECONDS=60)
    store = Store(sqlite_url)
    await store.migrate()
    polling = PollingService(store.sessions, settings, lambda *_args: [], owner="w-grace")  # type: ignore[arg-type]
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow_tick() -> TickSummary:
        started.set()
        await asyncio.sleep(0.5)  # polls in flight
        finished.set()
        return TickSummary()

    polling.poller.tick = slow_tick  # type: ignore[method-assign]
    polling.start()  # the first tick runs at once
    try:
        await asyncio.wait_for(started.wait(), timeout=10)
        await polling.stop(grace_seconds=10)
        assert finished.is_set() and polling.ticks == 1
    finally:
        await store.close()
