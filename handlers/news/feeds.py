"""`/news feeds`: the health of every feed, and of alert delivery when anything waits or was given up on."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.news.common import Command, CommandFamily
from handlers.news.durations import describe_ago, describe_duration
from handlers.news.views import NewsReply, ReplySection, Table
from storage import feeds_repo
from storage.outbox_status import DeliveryStatus, delivery_status
from storage.store_watch import StoreOutage, recent_outages
from values.chat import Caller, ChannelRef


def _delivery_section(delivery: DeliveryStatus, now: datetime) -> ReplySection:
    waiting = ""
    if delivery.oldest_pending_age is not None:
        waiting = f", the oldest waiting {describe_duration(delivery.oldest_pending_age)}"
    lines = [f"{delivery.pending} alert(s) waiting to be sent{waiting}."]
    if delivery.dead_here:
        lines.append(f"{delivery.dead_here} alert(s) here could not be delivered and were given up on:")
        for letter in delivery.recent_dead:
            what = letter.title or letter.kind
            reason = f": {letter.last_error}" if letter.last_error else ""
            lines.append(
                f"{letter.platform} {letter.channel}, {what[:80]} "
                f"({describe_ago(letter.created_at, now)}, {letter.attempts} tries){reason}"
            )
    if delivery.dead_elsewhere:  # other workspaces/servers: counted, never described
        lines.append(f"{delivery.dead_elsewhere} more undeliverable alert(s) in other workspaces or servers.")
    return ReplySection(heading="Delivery", lines=tuple(lines))


OUTAGES_SHOWN_FOR = timedelta(hours=24)


def _outage_section(outages: list[StoreOutage]) -> ReplySection:
    """Polling and delivery paused while the database was gone: say when, so a gap in alerts is explained."""
    lines = []
    seen: set[tuple[datetime, datetime]] = set()
    for outage in outages:
        # Every worker that lived through one outage reports it; show it once.
        key = (outage.started_at.replace(second=0, microsecond=0), outage.ended_at.replace(microsecond=0))
        if key in seen:
            continue
        seen.add(key)
        lines.append(
            f"{outage.started_at:%Y-%m-%d %H:%M:%S}–{outage.ended_at:%H:%M:%S} UTC "
            f"({describe_duration(outage.duration)}): {outage.error}"
        )
    lines.append("Polling and delivery paused meanwhile and resumed by themselves; nothing was dropped.")
    return ReplySection(heading="Database outages (last 24 h)", lines=tuple(lines))


class FeedCommands(CommandFamily):
    """`feeds`."""

    def commands(self) -> dict[str, Command]:
        return {"feeds": self._feeds}

    async def _feeds(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        async with self.sessions() as session:
            feeds = list(await feeds_repo.list_feeds(session))
            delivery = await delivery_status(
                session,
                now,
                platform=channel.platform,
                team_id=channel.team_id,
                channel_id=channel.external_id,
            )
            outages = await recent_outages(session, now - OUTAGES_SHOWN_FOR)
        rows: list[tuple[str, str, str, str, str]] = []
        failing = 0
        for feed in feeds:
            if not feed.enabled:
                status = "disabled"
            elif feed.consecutive_failures:
                status = f"failing ({feed.consecutive_failures}x)"
                failing += 1
            elif feed.last_success_at is None:
                status = "not polled yet"
            else:
                status = "ok"
            error = "-"
            if feed.last_error:
                error = f"{feed.last_error} ({describe_ago(feed.last_error_at, now)})"
            if not feed.enabled and feed.disabled_reason:
                error = feed.disabled_reason
            next_poll = "not scheduled" if feed.next_poll_at is None else describe_ago(feed.next_poll_at, now)
            if not feed.enabled:
                next_poll = "-"
            if feed.enabled and feed.next_poll_at is not None and feed.next_poll_at <= now:
                next_poll = "due now"
            rows.append((feed.name, status, describe_ago(feed.last_success_at, now), error, next_poll))
        sections = [_delivery_section(delivery, now)] if delivery.dead or delivery.pending else []
        if outages:
            sections.append(_outage_section(outages))
        summary = (
            f"{len(feeds)} feeds, {failing} failing."
            if feeds
            else "No feeds yet: they are added from FEEDS_FILE."
        )
        return NewsReply(
            kind="feeds",
            title="Feed health",
            text=summary,
            table=Table(
                columns=("feed", "status", "last success", "last error", "next poll"), rows=tuple(rows)
            )
            if rows
            else None,
            sections=tuple(sections),
            generated_at=now,
        )
