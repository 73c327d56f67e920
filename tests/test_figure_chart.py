"""The figure chart as drawn (charts/figure_chart.py) and as text (charts/sparkline.py)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from matplotlib import image as mpimg

from charts.figure_chart import (
    COLORS,
    HEIGHT_PX,
    WIDTH_PX,
    FigureChart,
    FigureSeries,
    compact_number,
    draw_png,
    render_png,
)
from charts.sparkline import sparkline
from tests.conftest import PROJECT_ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T0 = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
DESERTERS = FigureSeries(
    "members of Venezuela's armed forces", ((T0, 326.0), (T0 + timedelta(days=1), 411.0))
)
DETAINED = FigureSeries(
    "deserters detained", ((T0, 20.0), (T0 + timedelta(hours=10), 35.0), (T0 + timedelta(days=1), 50.0))
)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which a PNG must start with."""
    assert png[:8] == PNG_SIGNATURE
    length, kind, width, height = struct.unpack(">I4sII", png[8:24])
    assert kind == b"IHDR" and length == 13
    return width, height


def pixels_of(png: bytes, color: str) -> int:
    """How many pixels are (almost exactly) this colour."""
    pixels = mpimg.imread(io.BytesIO(png), format="png")[:, :, :3]
    wanted = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return int((abs(pixels - wanted).max(axis=2) < 0.02).sum())


def test_a_story_update_is_drawn_as_a_png_of_the_expected_size_with_one_line_per_figure() -> None:
    image = render_png(FigureChart("#1 Venezuelan soldiers desert to Colombia", (DESERTERS, DETAINED)))
    assert png_size(image.png) == (WIDTH_PX, HEIGHT_PX) == (image.width, image.height)
    assert image.labels == ("members of Venezuela's armed forces", "deserters detained")
    assert image.colors == COLORS[:2]
    # Each figure's colour is really on the picture (a line, not a legend swatch alone), and no third one.
    for color in image.colors:
        assert pixels_of(image.png, color) > 500, color
    assert pixels_of(image.png, COLORS[2]) == 0


def test_a_single_figure_draws_a_single_line() -> None:
    image = render_png(FigureChart("Key figures: deserters", (DESERTERS,)))
    assert image.labels == ("members of Venezuela's armed forces",)
    assert pixels_of(image.png, COLORS[0]) > 500 and pixels_of(image.png, COLORS[1]) == 0


async def test_drawing_from_async_code_gives_the_same_picture() -> None:
    chart = FigureChart("Key figures: deserters", (DESERTERS,))
    assert (await draw_png(chart)).png == render_png(chart).png


def test_the_change_reads_first_to_last_report() -> None:
    assert DESERTERS.change_text() == "326 → 411"
    assert FigureSeries("x", ((T0, 5.0), (T0 + timedelta(days=1), 5.0))).change_text() == "5"
    assert compact_number(1_600_000) == "1.6M" and compact_number(12_500) == "12,500"


def test_sparkline_scales_between_the_smallest_and_largest_value() -> None:
    assert sparkline([326, 411]) == "▁█"
    assert sparkline([20, 35, 50]) == "▁▅█"
    assert sparkline([7, 7]) == "▅▅"
    assert sparkline([]) == ""


def test_the_chart_module_loads_matplotlib_only_when_drawing() -> None:
    probe = "import sys, charts.figure_chart, charts.sparkline; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
