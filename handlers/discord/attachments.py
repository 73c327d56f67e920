"""A reply's chart as a Discord attachment, shown inside the answer's embed (`attachment://figures.png`)."""

from __future__ import annotations

import io
import logging

import discord

from charts.figure_chart import draw_png
from handlers.news.views import NewsReply

log = logging.getLogger(__name__)

CHART_FILENAME = "figures.png"
ALT_TEXT_LIMIT = 1024  # Discord's limit for an attachment's description (its alt text)


async def chart_files(reply: NewsReply) -> list[discord.File]:
    """The reply's chart drawn as a PNG file, or none: a chart that fails to draw is logged and the answer
    goes out without it."""
    if reply.chart is None or reply.is_error:
        return []
    try:
        image = await draw_png(reply.chart)
    except Exception:
        log.exception("chart for %r not drawn", reply.title[:200])
        return []
    alt = "; ".join(f"{series.label}: {series.change_text()}" for series in reply.chart.series)
    return [
        discord.File(io.BytesIO(image.png), filename=CHART_FILENAME, description=alt[:ALT_TEXT_LIMIT] or None)
    ]


def with_chart(embed: discord.Embed, files: list[discord.File]) -> discord.Embed:
    """Show the attached chart as the embed's image, so it sits with the answer instead of below it."""
    if any(file.filename == CHART_FILENAME for file in files):
        embed.set_image(url=f"attachment://{CHART_FILENAME}")
    return embed
