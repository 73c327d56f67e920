"""Feed fetching, parsing, health and scheduling: everything between a feed URL and a list of Entry.

Modules, one job each:
    sources.py   FEEDS_FILE: load and validate (`load_sources`), sync into the `feeds` table (`sync_sources`)
    fetch.py     conditional GET with caps and timeouts → FetchResult, or FeedError(kind, reason)
    parse.py     feedparser off the event loop → ParsedFeed(entries: list[Entry], warning)
    links.py     canonical links (tracking parameters and fragments removed)
    html_text.py feed HTML → clean text
    health.py    failure classes, backoff, Retry-After, adaptive interval
    schedule.py  FeedPoller.tick: lease → fetch → parse → sink + record, per feed

feeds imports the model, text clean-up and storage below it, never delivery, handlers, cli or runtime. The
wiring is in `runtime/`: `process.py` syncs FEEDS_FILE at start (`sync_feed_sources`), and
`polling.PollingService` runs `FeedPoller.tick` on APScheduler with `runtime.ingest.Ingestor` as the sink.
"""
