"""A key figure's history as a PNG line chart: value over time, one labelled line per figure.

The value types are what the command layer puts on a reply; `render_png` draws them. matplotlib costs
about half a second to import, and start-up time is benchmarked, so it is imported inside `render_png`
only, the first time a chart is drawn. Drawing goes through `Figure` and the Agg canvas directly, never
pyplot: pyplot keeps global state that is not safe to touch from the worker threads `draw_png` uses.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH_PX = 960
HEIGHT_PX = 540
DPI = 100
MAX_LABEL_CHARS = 60
MAX_TITLE_CHARS = 80
# Beyond this ratio between the largest and smallest value, a linear axis flattens the small figures into
# the floor (326 deserters beside 1.6 million migrants), so the axis turns logarithmic.
LOG_SCALE_RATIO = 100.0
ANNOTATION_GAP_PX = 16  # vertical room one annotation needs, so two ending at similar values do not overlap
# Colour-blind-safe and distinct on white (the Okabe–Ito palette, less its yellow, which is unreadable).
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000")


def compact_number(value: float) -> str:
    """A value as a reader would say it: 411, 12,500, 1.6M, 2.5%-style fractions kept to 3 digits."""
    magnitude = abs(value)
    if magnitude >= 1_000_000_000:
        return f"{value / 1_000_000_000:.3g}B"
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3g}"


@dataclass(frozen=True, slots=True)
class FigureSeries:
    """One figure's reported values, oldest first: `members of Venezuela's armed forces`, 326 then 411."""

    label: str
    points: tuple[tuple[datetime, float], ...]

    def values(self) -> tuple[float, ...]:
        return tuple(value for _, value in self.points)

    def change_text(self) -> str:
        """ "326 → 411" from first to last report; just "411" when it never changed."""
        first, last = self.points[0][1], self.points[-1][1]
        if first == last:
            return compact_number(last)
        return f"{compact_number(first)} → {compact_number(last)}"


@dataclass(frozen=True, slots=True)
class FigureChart:
    """What a reply's chart shows; adapters draw it with `draw_png` (or `charts.sparkline` in text)."""

    title: str
    series: tuple[FigureSeries, ...]


@dataclass(frozen=True, slots=True)
class ChartImage:
    """A drawn chart: the PNG, its size in pixels, and which line (label, colour) each series got."""

    png: bytes
    width: int
    height: int
    labels: tuple[str, ...]
    colors: tuple[str, ...]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_png(chart: FigureChart, *, width: int = WIDTH_PX, height: int = HEIGHT_PX) -> ChartImage:
    """Draw `chart` (blocking, CPU-bound: call it through `draw_png` from async code)."""
    from matplotlib import dates as mdates
    from matplotlib import ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels: list[str] = []
    colors: list[str] = []
    ends: list[tuple[datetime, float, str, str]] = []
    for index, series in enumerate(chart.series):
        color = COLORS[index % len(COLORS)]
        label = _shorten(series.label, MAX_LABEL_CHARS)
        times = [when for when, _ in series.points]
        axes.plot(
            times,
            series.values(),
            color=color,
            marker="o",
            linewidth=2.2,
            markersize=6,
            label=f"{label}: {series.change_text()}",
        )
        labels.append(label)
        colors.append(color)
        ends.append((times[-1], series.points[-1][1], series.change_text(), color))

    values = [value for series in chart.series for value in series.values()]
    logarithmic = bool(values) and min(values) > 0 and max(values) / min(values) > LOG_SCALE_RATIO
    if logarithmic:
        axes.set_yscale("log")
    else:
        axes.set_ylim(bottom=0 if values and min(values) >= 0 else None)
    times_all = [when for series in chart.series for when, _ in series.points]
    if times_all:
        start, end = min(times_all), max(times_all)
        span = (end - start) or timedelta(days=1)
        # Room on the right for the annotations at each line's last point.
        axes.set_xlim(start - span * 0.05, end + span * 0.3)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: compact_number(value)))
    axes.set_xlabel("reported (UTC)")
    axes.set_ylabel("value (log scale)" if logarithmic else "value")
    axes.grid(True, color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.set_title(_shorten(chart.title, MAX_TITLE_CHARS), loc="left", fontsize=13, fontweight="bold")
    # Below the axes, not inside: inside, it hides whichever line runs through its corner.
    figure.legend(loc="outside lower center", ncols=min(2, len(labels)) or 1, fontsize=9, frameon=False)
    _annotate_ends(axes, ends)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return ChartImage(
        png=buffer.getvalue(), width=width, height=height, labels=tuple(labels), colors=tuple(colors)
    )


def _annotate_ends(axes: object, ends: list[tuple[datetime, float, str, str]]) -> None:
    """Write "326 → 411" beside each line's last point, nudged apart vertically where they would collide."""
    from matplotlib.axes import Axes
    from matplotlib.dates import date2num

    assert isinstance(axes, Axes)
    axes.autoscale_view()
    placed: list[tuple[float, float, datetime, float, str, str]] = []  # (wanted y px, offset px, ...)
    for when, value, text, color in ends:
        _, y_px = axes.transData.transform((date2num(when), value))
        placed.append((float(y_px), 0.0, when, value, text, color))
    placed.sort(key=lambda item: item[0])
    last_y: float | None = None
    for index, (y_px, _, when, value, text, color) in enumerate(placed):
        shown_y = y_px if last_y is None else max(y_px, last_y + ANNOTATION_GAP_PX)
        placed[index] = (y_px, shown_y - y_px, when, value, text, color)
        last_y = shown_y
    points_per_px = 72 / DPI
    for _, offset_px, when, value, text, color in placed:
        axes.annotate(
            text,
            xy=(when, value),
            xytext=(8, offset_px * points_per_px),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=10,
            fontweight="bold",
            color=color,
            annotation_clip=False,
        )


async def draw_png(chart: FigureChart) -> ChartImage:
    """`render_png` in a worker thread, so the event loop (and the Discord gateway on it) never waits."""
    return await asyncio.to_thread(render_png, chart)
