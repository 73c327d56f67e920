"""Slack mrkdwn for text we did not write: escaped so it can never ping, cut so it always fits.

Slack turns `<!channel>`, `<!here>`, `<@U0123>` and `<#C0123>` into mentions only when the angle brackets
reach it unescaped, so escaping `&`, `<` and `>` in every piece of feed text is the whole defence (Slack's
"Formatting text for app surfaces"); we also never send `link_names`. Truncation works on the escaped
text, so a limit is never exceeded by the escaping itself and an entity is never cut in half.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote, urlsplit

ELLIPSIS = "…"
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
# Characters that would end or split a `<url|label>` link if left in the URL.
_URL_UNSAFE = {"<": "%3C", ">": "%3E", "|": "%7C", " ": "%20", '"': "%22"}
MAX_URL_LENGTH = 2000


def escape(text: str) -> str:
    """Escape the three control characters of Slack mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(escaped: str, limit: int) -> str:
    """Cut already-escaped mrkdwn to `limit` characters with an ellipsis, never inside an entity."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(0, limit - len(ELLIPSIS))]
    cut = _ENTITY_TAIL.sub("", cut)
    return cut.rstrip() + ELLIPSIS


def escaped_fit(text: str, limit: int) -> str:
    """Escape feed text and cut it to `limit` characters."""
    return fit(escape(text), limit)


def plain_fit(text: str, limit: int) -> str:
    """Cut plain_text (headers, button labels), which Slack shows literally and never parses for mentions."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """An http(s) URL that cannot break out of a `<url|label>` link; None for anything else."""
    if not url:
        return None
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in {"http", "https"}:
        return None
    for char, replacement in _URL_UNSAFE.items():
        url = url.replace(char, replacement)
    url = quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")
    if len(url) > MAX_URL_LENGTH:
        return None
    return url.replace("&", "&amp;")


def link(url: str | None, label_escaped: str) -> str:
    """`<url|label>` when the URL is usable, otherwise just the label."""
    target = safe_url(url)
    if target is None:
        return label_escaped
    return f"<{target}|{label_escaped}>"


def code(text: str) -> str:
    """Inline code for short identifiers (topic names, commands); backticks cannot close it early."""
    return "`" + escape(text.replace("`", "ˋ")) + "`"


def slack_date(moment: datetime, fallback_format: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A date every reader sees in their own time zone, with a UTC fallback for old clients."""
    return (
        f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment.strftime(fallback_format)}>"
    )
