"""Structured logs without secrets, `/metrics` in Prometheus format, `/healthz` failing on a stall."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Callable, Iterator

import aiohttp
import pytest
import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.settings import load_settings
from delivery.sender import DeliverySender
from observability import metrics
from observability.logs import configure_logging
from observability.server import HealthChecks, MetricsServer
from runtime.polling import PollingService
from storage.db import session_factory
from tests.test_sender import ScriptedPoster

SLACK_TOKEN = "xoxb-1234567890-abcdefghijklmnop"
DB_PASSWORD = "hunter2-very-secret"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _log_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_logs_are_json_off_a_terminal_and_never_carry_secrets() -> None:
    stream = io.StringIO()  # not a TTY
    configure_logging("INFO", "auto", stream=stream)
    log = structlog.get_logger("wirewatch.test")

    log.info("alert sent", outbox_id=7, token=SLACK_TOKEN)
    log.warning("connect failed", url=f"postgresql+psycopg://bot:{DB_PASSWORD}@db/wirewatch")
    logging.getLogger("slack_sdk").error("request with %s failed", SLACK_TOKEN)  # a library's own log
    try:
        raise RuntimeError(f"auth failed for {SLACK_TOKEN}")
    except RuntimeError:
        log.exception("boom")
    log.debug("not shown at INFO")

    output = stream.getvalue()
    lines = _log_lines(stream)
    assert [line["event"] for line in lines][:2] == ["alert sent", "connect failed"]
    assert lines[0]["outbox_id"] == 7 and lines[0]["level"] == "info"
    assert len(lines) == 4
    assert SLACK_TOKEN not in output and DB_PASSWORD not in output
    assert "RuntimeError" in output  # the traceback is kept, only the secret in it is masked


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does when a developer runs the bot by hand."""

    def isatty(self) -> bool:
        return True


def _raise_with_secret() -> None:
    dsn = f"postgresql+psycopg://bot:{DB_PASSWORD}@db/wirewatch"  # a local: Rich would print it
    raise RuntimeError(f"auth failed for {SLACK_TOKEN} on {dsn}")


@pytest.mark.parametrize(
    ("log_format", "stream_type"),
    [("json", io.StringIO), ("console", io.StringIO), ("auto", io.StringIO), ("auto", _Terminal)],
)
def test_tracebacks_are_scrubbed_in_every_format(log_format: str, stream_type: type[io.StringIO]) -> None:
    stream = stream_type()
    configure_logging("INFO", log_format, stream=stream)
    try:
        _raise_with_secret()
    except RuntimeError:
        structlog.get_logger("wirewatch.test").exception("post failed")
        logging.getLogger("slack_sdk").exception("library call failed")  # a library's own traceback
        structlog.get_logger("wirewatch.test").error("with exc_info", exc_info=True)
    output = stream.getvalue()
    assert SLACK_TOKEN not in output and DB_PASSWORD not in output
    assert output.count("RuntimeError") >= 3 and output.count("_raise_with_secret") >= 3  # tracebacks kept
    assert "<redacted>" in output


def test_console_format_is_used_on_request() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", "console", stream=stream)
    structlog.get_logger("wirewatch.test").debug("poll tick", feeds=3)
    text = stream.getvalue()
    assert "poll tick" in text and "feeds" in text
    assert not text.lstrip().startswith("{")


async def test_metrics_endpoint_serves_the_documented_metrics() -> None:
    metrics.ALERTS_SENT.labels(platform="console", kind="new").inc()
    metrics.FEED_FETCH_ERRORS.labels(kind="timeout").inc()
    server = MetricsServer(HealthChecks(), port=0, host="127.0.0.1")
    await server.start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{server.bound_port}/metrics") as response,
        ):
            body = await response.text()
            assert response.status == 200
    finally:
        await server.stop()
    assert 'wirewatch_alerts_sent_total{kind="new",platform="console"}' in body
    assert 'wirewatch_feed_fetch_errors_total{kind="timeout"}' in body
    for name in (
        "wirewatch_alert_lag_seconds_bucket",
        "wirewatch_outbox_depth",
        "wirewatch_feed_polls_total",
    ):
        assert name in body or f"# TYPE {name.removesuffix('_bucket')}" in body


async def test_healthz_fails_naming_the_stalled_component() -> None:
    now = [1000.0]
    health = HealthChecks(clock=lambda: now[0])
    scheduler_beat = [995.0]
    health.watch("scheduler", lambda: scheduler_beat[0], max_silence=60)
    health.watch("delivery", lambda: 999.0, max_silence=60)
    server = MetricsServer(health, port=0, host="127.0.0.1")
    await server.start()
    url = f"http://127.0.0.1:{server.bound_port}/healthz"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
            now[0] = 1100.0  # the scheduler has not ticked for 105 s; delivery beat 101 s ago too
            scheduler_beat[0] = 995.0
            async with http.get(url) as response:
                report = await response.json()
                assert response.status == 503
            assert report["checks"]["scheduler"].startswith("stalled")
            scheduler_beat[0] = 1099.0
            async with http.get(url) as response:
                report = await response.json()
                assert response.status == 503
            assert report["checks"]["scheduler"].startswith("ok")
            assert report["checks"]["delivery"].startswith("stalled")
    finally:
        await server.stop()


class FlakyDatabase:
    """A session factory that fails like an unreachable server while `down`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.down = False
        self.calls = 0

    def __call__(self) -> AsyncSession:
        self.calls += 1
        if self.down:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
        return self._sessions()


async def _until(condition: Callable[[], bool], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_a_database_outage_turns_healthz_red_for_delivery_and_scheduler(
    sqlite_engine: AsyncEngine, sqlite_url: str
) -> None:
    """The heartbeats mean work done: a delivery loop whose claims fail and a poll tick that raises do not
    beat, so `/healthz` goes red once the outage outlasts the stall threshold, and green again after."""
    database = FlakyDatabase(session_factory(sqlite_engine))
    sender = DeliverySender(
        database,  # type: ignore[arg-type]
        {"console": ScriptedPoster()},
        worker_id="w-outage",
        idle_seconds=0.01,
        housekeeping_seconds=3600,
    )
    settings = load_settings(DATABASE_URL=sqlite_url, WORKER_ID="w-outage")
    polling = PollingService(database, settings, lambda *_args: [], owner="w-outage")  # type: ignore[arg-type]
    now = [0.0]
    health = HealthChecks(clock=lambda: now[0])
    health.watch("delivery", lambda: sender.last_beat, max_silence=60)
    health.watch("scheduler", polling.beat, max_silence=120)
    sender_beat, scheduler_beat = sender.last_beat, polling.beat()

    database.down = True
    stop = asyncio.Event()
    loop = asyncio.create_task(sender.run(stop))
    try:
        calls = database.calls
        assert await _until(lambda: database.calls >= calls + 5)  # several failed claims
        for _ in range(3):
            await polling.tick()  # leasing raises; the tick logs and returns
        assert sender.last_beat == sender_beat and polling.beat() == scheduler_beat and polling.ticks == 0
        now[0] = max(sender_beat, scheduler_beat) + 121  # the outage outlasted both thresholds
        healthy, checks = health.report()
        assert not healthy
        assert checks["delivery"].startswith("stalled") and checks["scheduler"].startswith("stalled")

        database.down = False  # the server is back: both loops beat on their next successful turn
        assert await _until(lambda: sender.last_beat > sender_beat)
        await polling.tick()
        assert polling.beat() > scheduler_beat and polling.ticks == 1
        now[0] = max(sender.last_beat, polling.beat()) + 1
        assert health.report()[0]
    finally:
        stop.set()
        await loop
        await polling.poller.aclose()
