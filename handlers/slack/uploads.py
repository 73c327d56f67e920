"""A reply's chart uploaded to the channel (or thread) where `/news` was asked, with files upload v2.

Slack has no ephemeral files: the chart is posted where the question was asked, after the text answer.
Uploading needs the `files:write` scope and the bot in the channel; when either is missing (or anything
else fails) the text answer has already gone out, and the failure is logged, never shown as a trace.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from charts.figure_chart import draw_png
from handlers.news.views import NewsReply
from handlers.slack.mrkdwn import escaped_fit

log = logging.getLogger(__name__)

CHART_FILENAME = "figures.png"
TITLE_LIMIT = 250
COMMENT_LIMIT = 1000
ALT_TEXT_LIMIT = 1000


async def upload_chart(
    client: AsyncWebClient, reply: NewsReply, *, channel_id: str, thread_ts: str | None = None
) -> bool:
    """Upload the reply's chart, if it has one; True when Slack took it."""
    if reply.chart is None or reply.is_error or not channel_id:
        return False
    chart = reply.chart
    summary = "; ".join(f"{series.label}: {series.change_text()}" for series in chart.series)
    try:
        image = await draw_png(chart)
        await client.files_upload_v2(
            channel=channel_id,
            thread_ts=thread_ts,
            file=image.png,
            filename=CHART_FILENAME,
            # Headlines and queries are outside text: escaped, so `<!channel>` in one can never ping.
            title=escaped_fit(chart.title, TITLE_LIMIT),
            initial_comment=escaped_fit(summary, COMMENT_LIMIT),
            alt_txt=summary[:ALT_TEXT_LIMIT],
        )
    except SlackApiError as error:
        # missing_scope (no files:write yet) and not_in_channel are the expected ones: an install made
        # before charts existed, or /news used in a channel the bot was never invited to.
        log.warning(
            "chart not uploaded to %s: %s",
            channel_id,
            error.response.get("error") if error.response is not None else error,
        )
        return False
    except Exception:
        log.exception("chart not uploaded to %s", channel_id)
        return False
    return True
