"""`/news` options back to the text line the command layer reads: `mute migration-refugees for 2h`.

Discord sends typed options; the command layer (`handlers.news.service.NewsService.handle`) reads one
line, as typed in Slack or the console. Rebuilding the line keeps one parser for every platform.
"""

from __future__ import annotations


def _words(*parts: object) -> str:
    return " ".join(str(p).strip() for p in parts if p is not None and str(p).strip())


def topic_token(topic: str | None) -> str | None:
    """A topic as one word: the line puts the topic first and reads what follows as the duration or count,
    so "humanitarian aid" typed instead of picked from autocomplete becomes `humanitarian-aid`."""
    return "-".join(topic.split()) if topic else None


def search_line(query: str, since: str | None = None, language: str | None = None) -> str:
    """`search <words> [since:7d] [lang:es]`: the explicit form, so a query may start with any word."""
    return _words(
        "search",
        " ".join(query.split()),
        f"since:{since.strip()}" if since else None,
        f"lang:{language}" if language else None,
    )


def mute_line(topic: str, duration: str | None = None) -> str:
    """`mute <topic> [for 2h | until 18:00]`; a bare `2h` means "for 2h"."""
    when = " ".join((duration or "").split())
    if when and not when.lower().startswith(("for ", "until ")):
        when = f"for {when}"
    return _words("mute", topic_token(topic), when or None)


def latest_line(topic: str | None = None, count: int | None = None) -> str:
    return _words("latest", topic_token(topic), count)


def topic_line(command: str, topic: str) -> str:
    """`unmute|subscribe|unsubscribe <topic>`."""
    return _words(command, topic_token(topic))


def simple_line(command: str, *arguments: object) -> str:
    return _words(command, *arguments)
