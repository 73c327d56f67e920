"""Prometheus metrics: one module-level object per metric, importable from anywhere.

Names and labels are a public contract (dashboards and alerts use them): they are listed in
docs/operations.md; rename one only together with that page.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FEED_POLLS = Counter(
    "wirewatch_feed_polls_total",
    "Feed polls by outcome: ok (new body), not_modified (304 or same body hash), error.",
    ["outcome"],
)
FEED_FETCH_ERRORS = Counter(
    "wirewatch_feed_fetch_errors_total",
    "Failed feed fetches or parses by FeedError kind (timeout, http_404, too_large, not_a_feed, ...).",
    ["kind"],
)
ENTRIES_STORED = Counter("wirewatch_entries_stored_total", "Feed entries stored for the first time.")
STORY_EVENTS = Counter(
    "wirewatch_story_events_total",
    "What the story pipeline decided for each new entry: new, update, duplicate, off_beat.",
    ["kind"],
)
ALERTS_ENQUEUED = Counter(
    "wirewatch_alerts_enqueued_total", "Outbox rows written, by alert kind (new, update, notice).", ["kind"]
)
ALERTS_SKIPPED_MUTED = Counter(
    "wirewatch_alerts_skipped_muted_total", "Alerts not queued because the topic was muted in the channel."
)
ALERTS_SENT = Counter(
    "wirewatch_alerts_sent_total", "Alerts posted, by platform and alert kind.", ["platform", "kind"]
)
ALERTS_FAILED = Counter(
    "wirewatch_alerts_failed_total",
    "Failed post attempts by platform and outcome: rate_limited, retry, dead.",
    ["platform", "outcome"],
)
ALERTS_RECONCILED = Counter(
    "wirewatch_alerts_reconciled_total",
    "Retried alerts found already posted (platform lookup by idempotency key), so not posted twice.",
    ["platform"],
)
OUTBOX_DEPTH = Gauge(
    "wirewatch_outbox_depth",
    "Outbox rows by state (pending, sending, dead), sampled by the sender.",
    ["state"],
)
OUTBOX_OLDEST_PENDING_SECONDS = Gauge(
    "wirewatch_outbox_oldest_pending_seconds", "Age of the oldest pending outbox row (0 when none)."
)
ALERT_LAG = Histogram(
    "wirewatch_alert_lag_seconds",
    "From the story's publication time (else first seen) to the alert being posted.",
    ["platform"],
    buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600, 24 * 3600),
)
SCHEDULER_LAST_TICK = Gauge(
    "wirewatch_scheduler_last_tick_timestamp_seconds",
    "Unix time of this process's last finished poll tick or feed poll.",
)
SENDER_LAST_BEAT = Gauge(
    "wirewatch_sender_last_beat_timestamp_seconds",
    "Unix time of this process's last successful outbox claim.",
)

__all__ = [
    "ALERTS_ENQUEUED",
    "ALERTS_FAILED",
    "ALERTS_RECONCILED",
    "ALERTS_SENT",
    "ALERTS_SKIPPED_MUTED",
    "ALERT_LAG",
    "ENTRIES_STORED",
    "FEED_FETCH_ERRORS",
    "FEED_POLLS",
    "OUTBOX_DEPTH",
    "OUTBOX_OLDEST_PENDING_SECONDS",
    "SCHEDULER_LAST_TICK",
    "SENDER_LAST_BEAT",
    "STORY_EVENTS",
]
