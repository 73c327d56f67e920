"""The whole dry run against bare parsing: `bot.py scan --json` over the pipeline bench's feeds (the real
outlet feeds of the corpus plus the generated border-beat feed, 2,676 entries), a fresh process each round,
start-up included, against `feedparser.parse` of the same bytes in this process, measured in the same run,
interleaved.
Target (issue 11): the scan within 4× bare feedparser. Prints, never fails.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import feedparser

from bench.pipeline_bench import documents

ROUNDS = int(os.environ.get("WIREWATCH_SCAN_ROUNDS", "3"))
PROJECT_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 4.0


def run() -> None:
    docs = documents()
    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for name, body in docs:
            path = Path(directory) / f"{name}.xml"
            path.write_bytes(body)
            paths.append(str(path))
        command = [sys.executable, str(PROJECT_ROOT / "bot.py"), "scan", "--json", *paths]
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(directory) / 'unused.db'}"}
        scans: list[float] = []
        parses: list[float] = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _name, body in docs:
                feedparser.parse(body)
            parses.append(time.perf_counter() - started)
            started = time.perf_counter()
            done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, check=False)
            scans.append(time.perf_counter() - started)
        rows = done.stdout.count(b"\n")
    scan, parse = statistics.median(scans), statistics.median(parses)
    print(f"bot.py scan --json over {len(docs)} feeds ({rows} entries), {ROUNDS} rounds, fresh processes")
    print(f"   bare feedparser.parse of the same bytes: {parse:.2f} s (median)")
    verdict = "" if scan / parse <= TARGET_RATIO else ", missed"
    print(f"   bot.py scan, start-up included:          {scan:.2f} s (median), {scan / parse:.2f}× bare")
    print(f"   feedparser (target ≤ {TARGET_RATIO:.0f}×{verdict})")
