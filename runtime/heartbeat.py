"""Heartbeats in memory, for this process's `/healthz`: when each loop last turned.

The fleet's heartbeats, in the `worker_beats` table, are written by `storage.worker_beats`.
"""

from __future__ import annotations

import time


class LoopBeat:
    """Monotonic time of a loop's last turn; starts "now" so a process is healthy while it warms up."""

    def __init__(self) -> None:
        self.at = time.monotonic()

    def beat(self) -> None:
        self.at = time.monotonic()

    def __call__(self) -> float:
        return self.at
