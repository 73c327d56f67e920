"""SQLAlchemy tables. The schema is created only by Alembic (`storage/migrations/`).

`tests/test_migrations.py` compares these models with the migrated schema, so a column added here without
a migration fails the suite.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite, so primary keys autoincrement on both.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class FeedRow(Base):
    """A polled feed, its HTTP cache validators, its schedule, its lease and its health."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)  # polled; a permanent redirect rewrites it
    configured_url: Mapped[str | None] = mapped_column(Text)  # as written in FEEDS_FILE / `feeds add`
    origin: Mapped[str] = mapped_column(String(10), default="file")  # "file" (FEEDS_FILE) or "cli"
    language: Mapped[str] = mapped_column(String(8))
    interval_seconds: Mapped[int | None] = mapped_column(Integer)  # configured; None = POLL_INTERVAL_SECONDS
    current_interval_seconds: Mapped[int | None] = mapped_column(Integer)  # adaptive, clamped to min/max
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # HTTP cache state: a 304 or an unchanged body hash means nothing is parsed.
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    body_hash: Mapped[str | None] = mapped_column(String(64))
    # Schedule and lease: several workers share the table; a dead worker's lease expires.
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    # Health, shown by `/news feeds` and `bot.py feeds check`.
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)  # plain words, for a reporter
    last_error_kind: Mapped[str | None] = mapped_column(String(40))
    last_error_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    parse_warning: Mapped[str | None] = mapped_column(Text)  # bozo feed that still yielded entries
    # The first successful poll stores the backlog silently; alerts start after it.
    backlog_loaded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class StoryRow(Base):
    """One real-world story; every entry of it points here."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(8))
    relevant: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    matched: Mapped[list[Any]] = mapped_column(JSON, default=list)
    figures: Mapped[list[Any]] = mapped_column(JSON, default=list)  # current KeyFigures as dicts
    revision: Mapped[int] = mapped_column(Integer, default=1)
    source_count: Mapped[int] = mapped_column(Integer, default=1)
    first_entry_id: Mapped[int | None] = mapped_column(BigId)
    first_seen_at: Mapped[datetime] = mapped_column(index=True)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class EntryRow(Base):
    """A feed item as stored: normalised fields plus the pipeline's decision about it."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("feed_id", "entry_key", name="uq_entries_feed_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    entry_key: Mapped[str] = mapped_column(String(512))  # Entry.entry_id
    guid: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    first_seen_at: Mapped[datetime] = mapped_column(index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    author: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # exact duplicate of clean text
    source_hash: Mapped[str | None] = mapped_column(String(64))  # of the text as the feed gave it: edits
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    relevant: Mapped[bool] = mapped_column(Boolean, default=False)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    matched: Mapped[list[Any]] = mapped_column(JSON, default=list)
    figures: Mapped[list[Any]] = mapped_column(JSON, default=list)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)  # signature, to verify LSH candidates
    # Why the entry joined its story (`StoryMatch.as_json`); NULL for a story's first entry.
    match: Mapped[dict[str, Any] | None] = mapped_column(JSON)


Index("ix_entries_link", EntryRow.link)
Index("ix_entries_guid", EntryRow.guid)


class StoryRevisionRow(Base):
    """Figure history of a story: revision 1 is the first alert, each update adds one."""

    __tablename__ = "story_revisions"
    __table_args__ = (UniqueConstraint("story_id", "revision", name="uq_story_revisions"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="SET NULL"))
    figures: Mapped[list[Any]] = mapped_column(JSON, default=list)
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


class StoryBandRow(Base):
    """Persisted MinHash-LSH index: one row per (band hash, story); candidates are an index lookup."""

    __tablename__ = "story_bands"

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    entry_id: Mapped[int] = mapped_column(BigId, primary_key=True)


class ChannelRow(Base):
    """A chat channel Wirewatch knows: where alerts go and whose mutes/subscriptions apply."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_channels_platform_external"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))  # "slack", "discord", "console"
    external_id: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[str | None] = mapped_column(String(100))  # Slack workspace / Discord guild
    created_at: Mapped[datetime]
    # No message goes to the channel before this, from any worker: the platform's per-channel rate, or its
    # Retry-After after a 429 (storage.outbox.hold_channel).
    next_post_at: Mapped[datetime | None]
    # The language alerts here are written in ("en", "es"), or "any": the words of the story's first report.
    language: Mapped[str] = mapped_column(String(8), default="any", server_default="any")


class SubscriptionRow(Base):
    """Which topics a channel gets alerts for."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel_id", "topic", name="uq_subscriptions"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class MuteRow(Base):
    """A topic muted in one channel; `until` None means until unmuted."""

    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("channel_id", "topic", name="uq_mutes"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(100))
    until: Mapped[datetime | None]
    muted_by: Mapped[str | None] = mapped_column(String(100))
    muted_at: Mapped[datetime]
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)


class OutboxRow(Base):
    """An alert or update to post, written in the same transaction as the story change that caused it.

    The unique constraint is the exactly-once guarantee: one row per story, channel, kind and revision.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("story_id", "channel_id", "kind", "revision", name="uq_outbox_story_channel_rev"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # AlertKind
    revision: Mapped[int] = mapped_column(Integer, default=1)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # changes, notice text
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending|sending|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(100))
    thread_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]  # of the story, to measure lag from published to posted


class ArticleCacheRow(Base):
    """Article text fetched for teaser-only entries, cached per URL."""

    __tablename__ = "article_cache"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    fetched_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(40))  # "ok" or the failure kind
    text: Mapped[str] = mapped_column(Text, default="")


class SchedulerBeatRow(Base):
    """Last heartbeat of each worker's scheduler and sender, for /healthz and takeover diagnostics."""

    __tablename__ = "worker_beats"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    scheduler_beat_at: Mapped[datetime | None]
    sender_beat_at: Mapped[datetime | None]
    started_at: Mapped[datetime]


class StoreOutageRow(Base):
    """A time the database could not be used, recorded by the worker that saw it once it was back."""

    __tablename__ = "store_outages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime] = mapped_column(index=True)
    error: Mapped[str] = mapped_column(Text)  # the driver's first line: why the store could not be used


__all__ = [
    "ArticleCacheRow",
    "Base",
    "ChannelRow",
    "EntryRow",
    "FeedRow",
    "MuteRow",
    "OutboxRow",
    "SchedulerBeatRow",
    "StoreOutageRow",
    "StoryBandRow",
    "StoryRevisionRow",
    "StoryRow",
    "SubscriptionRow",
]


# Schema objects created by hand in migrations (full-text search) or by a library (Slack's installation
# store): autogenerate and the schema parity test leave them alone.
UNMODELLED_PREFIXES = ("entries_fts", "search_vector", "ix_entries_search", "slack_", "alembic_version")


def is_modelled(name: str | None) -> bool:
    return not (name and name.startswith(UNMODELLED_PREFIXES))
