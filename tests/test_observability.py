"""Structured logs without secrets, `/metrics` in Prometheus format, `/healthz` failing on a stall."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import aiohttp
import pytest
import structlog

from observability import metrics
from observability.logs import configure_logging
from observability.server import HealthChecks, MetricsServer

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
