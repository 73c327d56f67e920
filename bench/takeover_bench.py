"""Takeover benchmark: how long a killed worker's feeds and alerts wait, with the default LEASE_SECONDS.

Three real `bot.py run --role worker` processes share PostgreSQL (one on SQLite, killed and restarted, when
PostgreSQL is not answering); 300 loopback feeds; 12 on-beat stories for three Slack channels of the Slack
contract fake. One worker is SIGKILLed while it holds feed leases (and, when the moment allows, outbox rows
in `sending`). Printed: seconds from the kill until another worker held every feed and row it had, and
until every alert was posted once, next to the lease. Prints, never fails (the scenario's own checks run in
`tests/test_scaleout.py`).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from sqlalchemy.exc import OperationalError

from tests.test_scaleout import LEASE_SECONDS, ScaleResult, run_scale_scenario

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


async def _postgres_answers(url: str) -> bool:
    from storage.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect():
            return True
    except (OperationalError, OSError):
        return False
    finally:
        await engine.dispose()


def _print(label: str, result: ScaleResult) -> None:
    def seconds(value: float | None) -> str:
        return "never" if value is None else f"{value:.1f} s"

    lost = result.served_entries - result.stored_entries
    duplicated = sum(
        count - 1 for keys in result.per_channel_keys.values() for count in keys.values() if count > 1
    )
    print(
        f"{label}: lease {LEASE_SECONDS} s (default); feeds taken over {seconds(result.takeover_seconds)} "
        f"after the kill ({result.victim_leases} held), alerts in `sending` "
        f"{seconds(result.row_takeover_seconds)} ({result.victim_sending} held); every alert posted "
        f"{seconds(result.delivered_seconds)} after the kill; lost entries {lost}, "
        f"duplicate posts {duplicated}"
    )


async def _run() -> None:
    from tests.conftest import POSTGRES_ENV, create_postgres_database, drop_postgres_database

    os.environ.setdefault(POSTGRES_ENV, DEFAULT_POSTGRES)
    workdir = Path(tempfile.mkdtemp(prefix="ww-takeover-bench-"))
    if await _postgres_answers(os.environ[POSTGRES_ENV]):
        url = create_postgres_database()  # a fresh database, as the tests use
        try:
            result = await run_scale_scenario(url, workdir, workers=3, restart_victim=False)
        finally:
            drop_postgres_database(url)
        _print("3 workers on PostgreSQL", result)
    else:
        sqlite_url = f"sqlite:///{workdir / 'takeover.db'}"
        result = await run_scale_scenario(sqlite_url, workdir, workers=1, restart_victim=True)
        _print("1 worker on SQLite, restarted", result)


def run() -> None:
    asyncio.run(_run())
