"""Scale benchmark: 1,000 feeds on loopback polled every 60 s by real `bot.py run --role worker` processes.

Three set-ups in one run: one process on SQLite, one worker on PostgreSQL, three workers on PostgreSQL.
For each: the first cycle stores every feed's backlog silently; then, for one more poll cycle, on-beat
stories appear in random feeds, each a random 0-60 s before that feed's next poll (plus ordinary entries in
a fifth of the feeds), and the workers poll, build stories and post alerts to a console channel (paced at
one message per second).

Printed per set-up: CPU use of the worker processes (% of one core, summed over workers, during the
measured cycle), peak RSS (largest worker, and the sum), first-cycle time, and the alert lag from
publication to posted (p50/p95; mostly the wait for the feed's next poll). Prints, never fails.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from storage.models import OutboxRow
from tests.test_scaleout import (
    FeedFarm,
    Store,
    beat_topic,
    off_beat_item,
    on_beat_item,
    spawn_worker,
    stop_workers,
    wait_until,
    worker_environment,
)

FEEDS = 1000
POLL_SECONDS = 60
ON_BEAT_STORIES = 30
OFF_BEAT_SHARE = 0.2
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class ProcessSample:
    cpu_seconds: float
    peak_rss_mb: float


def sample(pid: int) -> ProcessSample:
    """CPU time so far and peak resident memory of a live process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    peak_kb = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
    return ProcessSample(cpu, peak_kb / 1024)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


async def measure(label: str, database_url: str, workers: int) -> None:
    rng = random.Random(1000)
    store = Store(database_url)
    await store.migrate()
    await store.subscribe("console", ["bench-desk"], beat_topic(), None)
    farm = FeedFarm(FEEDS)
    await farm.start()
    old = datetime.now(UTC) - timedelta(hours=2)
    for number in range(FEEDS):
        farm.serve(number, [off_beat_item(rng, f"{number}-backlog", old)])
    workdir = Path(tempfile.mkdtemp(prefix="ww-scale-bench-"))
    feeds_file = farm.write_feeds_file(workdir / "feeds.toml", interval_seconds=POLL_SECONDS)
    overrides = {
        "POLL_INTERVAL_SECONDS": str(POLL_SECONDS),
        "POLL_MIN_SECONDS": str(POLL_SECONDS),
        "POLL_MAX_SECONDS": str(POLL_SECONDS),
        "SCHEDULER_TICK_SECONDS": "5",
        "CONSOLE_CHANNEL": "bench-desk",
    }
    processes = []
    started = time.monotonic()
    try:
        for n in range(workers):
            env = worker_environment(database_url, feeds_file, f"bench-{n}", **overrides)
            processes.append(spawn_worker(env, workdir))

        async def first_cycle_done() -> bool:
            return await store.feeds_with_backlog() == FEEDS

        if not await wait_until(first_cycle_done, within=180, interval=0.5):
            print(f"{label}: first cycle did not finish within 180 s; skipped")
            return
        first_cycle = time.monotonic() - started
        before = [sample(p.pid) for p in processes]
        cycle_start = time.monotonic()

        ordinary = rng.sample(range(FEEDS), int(FEEDS * OFF_BEAT_SHARE))
        for number in ordinary:
            farm.publish(number, off_beat_item(rng, f"{number}-n", datetime.now(UTC)))
        # Each story is published a uniformly random time (0-60 s) before its feed's next scheduled poll,
        # so the lag reflects news arriving at any moment of a feed's cycle; moments already past are
        # back-dated (nobody polled that feed in between, so it is the same to the bot).
        beat_feeds = rng.sample(range(FEEDS), ON_BEAT_STORIES)
        next_polls = await store.next_polls([farm.name(number) for number in beat_feeds])
        plan = sorted(
            (
                next_polls.get(farm.name(number), datetime.now(UTC) + timedelta(seconds=POLL_SECONDS))
                - timedelta(seconds=rng.uniform(0, POLL_SECONDS)),
                number,
            )
            for number in beat_feeds
        )
        for moment, number in plan:
            await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))
            farm.publish(number, on_beat_item(rng, f"{number}-beat", min(moment, datetime.now(UTC))))

        async def alerted() -> bool:
            return (await store.outbox_states())["sent"] >= ON_BEAT_STORIES

        await wait_until(alerted, within=POLL_SECONDS + 40, interval=0.5)
        wall = time.monotonic() - cycle_start
        after = [sample(p.pid) for p in processes]
    finally:
        stop_workers(processes)
        await farm.stop()

    sent = select(OutboxRow.published_at, OutboxRow.sent_at).where(OutboxRow.state == "sent")
    rows = await store.read(lambda session: session.execute(sent))
    lags = [(sent - published).total_seconds() for published, sent in rows if published and sent]
    await store.close()
    cpu = sum(a.cpu_seconds - b.cpu_seconds for a, b in zip(after, before, strict=True))
    peaks = [a.peak_rss_mb for a in after]
    lag_text = (
        f"alert lag p50 {percentile(lags, 0.5):.1f} s, p95 {percentile(lags, 0.95):.1f} s "
        f"({len(lags)}/{ON_BEAT_STORIES} alerts)"
        if lags
        else "no alerts delivered"
    )
    print(
        f"{label}: first cycle (1,000 backlog entries) {first_cycle:.1f} s; measured cycle {wall:.0f} s: "
        f"CPU {100 * cpu / wall:.1f}% of one core, peak RSS {max(peaks):.0f} MB per worker "
        f"({sum(peaks):.0f} MB total); {lag_text}",
        flush=True,
    )


def _postgres_database() -> tuple[str, str] | None:
    """A fresh database on the local server: (its URL, the admin URL to drop it with)."""
    import psycopg

    admin = os.environ.get("WIREWATCH_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    libpq = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"ww_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(libpq, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        print(f"PostgreSQL not available ({type(error).__name__}); PostgreSQL set-ups skipped")
        return None
    return make_url(admin).set(database=name).render_as_string(hide_password=False), libpq


def _drop(libpq: str, url: str) -> None:
    import psycopg

    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


async def _run_all() -> None:
    print(
        f"{FEEDS} feeds on loopback, polled every {POLL_SECONDS} s; {ON_BEAT_STORIES} on-beat stories and "
        f"{int(FEEDS * OFF_BEAT_SHARE)} ordinary entries during the measured cycle; {os.cpu_count()} CPUs",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as scratch:
        await measure("SQLite, 1 process", f"sqlite:///{scratch}/bench.db", workers=1)
    for workers in (1, 3):
        created = _postgres_database()
        if created is None:
            return
        url, libpq = created
        try:
            await measure(f"PostgreSQL, {workers} worker{'s' if workers > 1 else ''}", url, workers)
        finally:
            _drop(libpq, url)


def run() -> None:
    asyncio.run(_run_all())


if __name__ == "__main__":
    run()
