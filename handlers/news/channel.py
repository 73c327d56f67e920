"""What a channel is alerted about: `/news topics`, `mute`/`unmute`, `subscribe`/`unsubscribe`, and the
language its alerts are written in (`language`).

Also words the notice a channel gets when a mute ends (`mute_ended_notice`), which `/news unmute` answers with
and delivery posts when a timed mute runs out (`runtime/` hands it to the sender), so both read the same;
and subscribes the alert channel an adapter is configured with (`subscribe_alert_channel`), the one way every
adapter does it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from errors import CommandError
from handlers.news.common import Command, CommandFamily, clock_text
from handlers.news.digest import DEFAULT_DIGEST, MAX_DIGEST
from handlers.news.durations import describe_duration, next_clock_time, parse_date, parse_duration
from handlers.news.topics import retyped
from handlers.news.views import NewsReply, Table
from storage import channels_repo
from values.chat import Caller, ChannelRef


def mute_ended_notice(topic: str, skipped: int, *, muted_for: timedelta | None = None) -> str:
    """What a channel is told when a mute ends (delivery posts it after `end_expired_mutes`, with how long
    the mute lasted): the digest it points to covers the whole mute, up to the longest digest there is."""
    period = DEFAULT_DIGEST
    if muted_for is not None and muted_for > period:
        period = min(timedelta(hours=math.ceil(muted_for.total_seconds() / 3600)), MAX_DIGEST)
    digest = f"/news digest {_hours_text(period)}"
    if skipped <= 0:
        return f"The mute on `{topic}` has ended; no stories were held back. Alerts are back on."
    stories = "story" if skipped == 1 else "stories"
    return (
        f"The mute on `{topic}` has ended; {skipped} {stories} came in while it was on. "
        f"Catch up with `{digest}`."
    )


def _hours_text(period: timedelta) -> str:
    """A digest period as `/news digest` takes it: whole days from two days up, else whole hours."""
    hours = math.ceil(period.total_seconds() / 3600)
    return f"{hours // 24}d" if hours % 24 == 0 and hours >= 48 else f"{hours}h"


def _changed(kind: str, title: str, text: str, now: datetime, *, examples: tuple[str, ...] = ()) -> NewsReply:
    """A reply to a change of the channel's alerts, shown to the whole channel rather than only to the
    editor who made it: the change is to what everyone there is alerted about."""
    return NewsReply(kind=kind, title=title, text=text, examples=examples, ephemeral=False, generated_at=now)


async def subscribe_alert_channel(
    sessions: async_sessionmaker[AsyncSession], channel: ChannelRef, topic: str, *, by: str, now: datetime
) -> bool:
    """Subscribe the channel an adapter is configured to alert (SLACK_ALERT_CHANNEL, DISCORD_ALERT_CHANNEL,
    the console's) to `topic`, the beat, when it starts listening; False when it already was. Other
    channels are subscribed by their editors with `/news subscribe`."""
    async with sessions() as session, session.begin():
        row = await channels_repo.ensure_channel(session, channel, now)
        return await channels_repo.subscribe(session, row.id, topic, by, now)


LANGUAGE_NAMES = {"en": "English", "es": "Spanish", channels_repo.ANY_LANGUAGE: "any language"}


class ChannelCommands(CommandFamily):
    """`topics`, `mute`, `unmute`, `subscribe`, `unsubscribe` and `language`."""

    def commands(self) -> dict[str, Command]:
        return {
            "topics": self._topics,
            "mute": self._mute,
            "unmute": self._unmute,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "language": self._language,
        }

    async def _topics(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        async with self.sessions() as session:
            row = await channels_repo.find_channel(session, channel)
            mutes = (
                {m.topic: m for m in await channels_repo.active_mutes(session, row.id, now)} if row else {}
            )
            subscribed = set(await channels_repo.subscriptions(session, row.id)) if row else set()
        rows: list[tuple[str, str, str]] = []
        for topic in self.topics.catalog.topics:
            # A mute or subscription on a topic covers every topic below it.
            lineage = self.topics.ancestors(topic)
            muted_by = next((mutes[name] for name in lineage if name in mutes), None)
            if muted_by is not None:
                until = f" until {clock_text(muted_by.until)}" if muted_by.until else ""
                inherited = f" (via {muted_by.topic})" if muted_by.topic != topic.name else ""
                state = f"muted{until}{inherited}"
            elif any(name in subscribed for name in lineage):
                state = "on"
            else:
                state = "not subscribed"
            rows.append((topic.name, topic.title, state))
        return NewsReply(
            kind="topics",
            title="Topics",
            text="Alerts in this channel, per topic. Editors change them with mute/unmute and subscribe.",
            table=Table(columns=("topic", "what", "alerts here"), rows=tuple(rows)),
            examples=(self.topics.example("mute"), self.topics.example("latest")),
            generated_at=now,
        )

    def _parse_mute_end(self, rest: str, now: datetime) -> datetime | None:
        """None for "until unmuted"; raises CommandError for something unreadable."""
        words = rest.split()
        if not words:
            return None
        keyword = words[0].lower()
        value = " ".join(words[1:]) if keyword in ("for", "until") else " ".join(words)
        if keyword == "until":
            moment = next_clock_time(value, now)
            if moment is None:
                day = parse_date(value)
                if day is not None:
                    moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if moment is None or moment <= now:
                raise CommandError(
                    f"I couldn't read `until {value[:40]}`: give a UTC time like 18:00 or a future date.",
                    example=f"/news mute {self.topics.example_topic} until 18:00",
                )
            return moment
        duration = parse_duration(value)
        if duration is None:
            raise CommandError(
                f"I couldn't read `{value[:40]}` as a duration: try 30m, 2h or 3d.",
                example=self.topics.example("mute"),
            )
        return now + duration

    async def _mute(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        name, _, when = rest.partition(" ")
        topic = self.topics.resolve(
            name, command="mute", example=lambda meant: retyped(rest, name, meant, "mute")
        )
        until = self._parse_mute_end(when, now)
        async with self.sessions() as session, session.begin():
            row = await channels_repo.ensure_channel(session, channel, now)
            await channels_repo.mute(session, row.id, topic.name, until, caller.user_id, now)
        period = (
            f"for {describe_duration(until - now)} (until {clock_text(until)})"
            if until
            else "until someone unmutes it"
        )
        return _changed(
            "mute",
            f"Muted {topic.name}",
            f"Muted `{topic.name}` in this channel {period}. Stories are still stored and searchable; "
            "when the mute ends you'll hear how many were held back.",
            now,
            examples=(f"/news unmute {topic.name}",),
        )

    async def _unmute(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        topic = self.topics.resolve(rest, command="unmute")
        async with self.sessions() as session, session.begin():
            row = await channels_repo.find_channel(session, channel)
            removed = await channels_repo.unmute(session, row.id, topic.name) if row else None
        if removed is None:
            # Nothing changed, so only the caller needs to see it.
            return NewsReply(
                kind="unmute",
                title=f"{topic.name} was not muted",
                text=f"`{topic.name}` was not muted in this channel; nothing changed.",
                generated_at=now,
            )
        return _changed(
            "unmute",
            f"Unmuted {topic.name}",
            mute_ended_notice(topic.name, removed.skipped_count, muted_for=now - removed.muted_at),
            now,
        )

    async def _subscribe(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        topic = self.topics.resolve(rest, command="subscribe")
        async with self.sessions() as session, session.begin():
            row = await channels_repo.ensure_channel(session, channel, now)
            added = await channels_repo.subscribe(session, row.id, topic.name, caller.user_id, now)
        text = (
            f"This channel now gets alerts on `{topic.name}` ({topic.title})."
            if added
            else f"This channel already gets alerts on `{topic.name}`."
        )
        return _changed("subscribe", f"Subscribed to {topic.name}", text, now)

    async def _unsubscribe(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        topic = self.topics.resolve(rest, command="unsubscribe")
        async with self.sessions() as session, session.begin():
            row = await channels_repo.find_channel(session, channel)
            removed = await channels_repo.unsubscribe(session, row.id, topic.name) if row else False
        text = (
            f"This channel no longer gets alerts on `{topic.name}`."
            if removed
            else f"This channel was not subscribed to `{topic.name}`; nothing changed."
        )
        return _changed("unsubscribe", f"Unsubscribed from {topic.name}", text, now)

    async def _language(self, rest: str, caller: Caller, channel: ChannelRef, now: datetime) -> NewsReply:
        choices = (*channels_repo.ALERT_LANGUAGES, channels_repo.ANY_LANGUAGE)
        wanted = rest.strip().lower()
        if wanted not in choices:
            said = f"`{rest.strip()[:40]}` is not one of them. " if wanted else ""
            raise CommandError(
                f"{said}Alerts here can be written in {', '.join(f'`{c}`' for c in choices)}: `any` keeps "
                "each story in the words of its first report.",
                example="/news language es",
            )
        async with self.sessions() as session, session.begin():
            row = await channels_repo.ensure_channel(session, channel, now)
            await channels_repo.set_language(session, row.id, wanted)
        if wanted == channels_repo.ANY_LANGUAGE:
            text = "Alerts here now use the words of each story's first report, whatever its language."
        else:
            text = (
                f"Alerts here now read in {LANGUAGE_NAMES[wanted]} when a story has a report in it: its "
                "headline, summary and figure labels, and the updates in its thread. An alert first posted "
                f"in another language switches to {LANGUAGE_NAMES[wanted]} when such a report comes in."
            )
        return _changed("language", f"Alert language: {LANGUAGE_NAMES[wanted]}", text, now)
