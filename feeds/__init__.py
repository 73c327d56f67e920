"""Feed fetching, parsing, health and scheduling: everything between a feed URL and a list of Entry.

Modules, one job each:
    sources.py   FEEDS_FILE: load, validate, sync into the `feeds` table (`sync_feeds_file`)
    fetch.py     conditional GET with caps and timeouts → FetchResult, or FeedError(kind, reason)
    parse.py     feedparser off the event loop → ParsedFeed(entries: list[Entry], warning)
    links.py     canonical links (tracking parameters and fragments removed)
    html_text.py feed HTML → clean text
    health.py    failure classes, backoff, Retry-After, adaptive interval
    schedule.py  FeedPoller.tick (lease → fetch → parse → sink + record, per feed) and install_poller

Wiring (what `bot.py run` does):
    async with sessions() as session, session.begin():
        await sync_feeds_file(session, settings.feeds_file, now)
    poller = FeedPoller(sessions, settings, Ingestor(pipeline, alert_max_age))
    install_poller(scheduler, poller, settings)      # AsyncIOScheduler; scheduler.start()
    ...
    await poller.aclose()
"""
