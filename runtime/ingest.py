"""The one transaction between "feed fetched" and "alert queued".

The poller calls `Ingestor` inside the transaction in which it also records the feed's success, so entries,
stories, figure revisions, LSH bands and outbox rows commit together or not at all: a crash can neither
store a story without its alert nor queue an alert for a story that was never stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FeedRow
from storage.outbox import enqueue_alerts
from stories.model import Entry, StoryEvent
from stories.pipeline import StoryPipeline


class Ingestor:
    """Entry sink for the poller: pipeline, then outbox, in the caller's transaction."""

    def __init__(self, pipeline: StoryPipeline, alert_max_age: timedelta) -> None:
        self._pipeline = pipeline
        self._alert_max_age = alert_max_age

    async def __call__(
        self, session: AsyncSession, feed: FeedRow, entries: list[Entry], now: datetime
    ) -> list[StoryEvent]:
        # A feed's first successful poll is its backlog: stored and searchable, never alerted.
        alerting = feed.backlog_loaded
        events = await self._pipeline.process(session, feed, entries, now, alerting=alerting)
        if alerting:
            await enqueue_alerts(session, events, now, max_age=self._alert_max_age)
        return events
