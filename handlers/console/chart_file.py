"""Where a terminal shows a reply's chart: a PNG file in CHART_DIR, whose path the console prints."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

from charts.figure_chart import FigureChart, render_png


def save_chart(chart: FigureChart, directory: Path, *, now: datetime | None = None) -> Path:
    """Draw `chart` and write it as `figures-<UTC time>-<hash of title>.png` (blocking: matplotlib and disk).

    The name is unique per chart and moment, so a second answer never overwrites a PNG someone has open.
    """
    image = render_png(chart)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    digest = hashlib.sha256(chart.title.encode()).hexdigest()[:8]
    path = directory / f"figures-{stamp}-{digest}.png"
    partial = path.with_suffix(".png.part")
    partial.write_bytes(image.png)
    # A viewer watching the directory never opens a half-written file.
    os.replace(partial, path)
    return path
