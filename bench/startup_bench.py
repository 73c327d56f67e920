"""Start-up benchmark: how long `bot.py --help` and `bot.py scan` on an empty feed take, against the bare
interpreter (`python -c pass`) measured in the same run, each a fresh process.

The three commands run interleaved (one of each per round) so a busy machine slows them alike. Printed: the
median and the fastest of each, and each median as a multiple of the bare interpreter's. The empty feed is a
file with a channel and no items; `scan` reports such a file as unreadable (exit 1) after reading it, so its
time is the command's start-up: settings, the in-memory store migrated, the feed read. `python -X importtime
bot.py --help` shows where the time goes. Prints, never fails.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = int(os.environ.get("WIREWATCH_STARTUP_ROUNDS", "9"))
PROJECT_ROOT = Path(__file__).resolve().parent.parent
EMPTY_FEED = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<rss version="2.0"><channel><title>Empty</title><link>https://example.org/</link>'
    "<description>nothing yet</description></channel></rss>\n"
)


def _seconds(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - started


def run() -> None:
    with tempfile.TemporaryDirectory() as directory:
        feed = Path(directory) / "empty.xml"
        feed.write_text(EMPTY_FEED, encoding="utf-8")
        bot = str(PROJECT_ROOT / "bot.py")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "bot.py --help": [sys.executable, bot, "--help"],
            "bot.py scan <empty feed>": [sys.executable, bot, "scan", str(feed)],
        }
        # A database of its own so no developer DATABASE_URL is touched; .env still applies like for a user.
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(directory) / 'unused.db'}"}
        for command in commands.values():  # warm the file cache and the bytecode once, untimed
            _seconds(command, env)
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(ROUNDS):
            for label, command in commands.items():
                times[label].append(_seconds(command, env))
    bare = statistics.median(times["python -c pass"])
    print(f"start-up, {ROUNDS} rounds of fresh processes, {os.cpu_count()} cores")
    for label, samples in times.items():
        median = statistics.median(samples)
        print(
            f"  {label:26} median {median * 1000:7.0f} ms   fastest {min(samples) * 1000:7.0f} ms"
            f"   {median / bare:5.1f}× python -c pass"
        )
