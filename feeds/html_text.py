"""Feed HTML (summaries, content:encoded) → plain text for chat alerts and detection.

Block elements become line breaks so paragraphs survive; scripts, styles and comments vanish. The result
goes through `stories.cleanup.clean_text`, the one text normaliser of the project.
"""

from __future__ import annotations

from html.parser import HTMLParser

from stories.cleanup import clean_text

_BLOCKS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
        "table", "tr", "section", "article", "figure", "figcaption", "header", "footer", "hr", "dd", "dt",
    }
)  # fmt: skip
_SKIPPED = frozenset({"script", "style", "noscript", "template", "iframe", "object", "svg"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n" if tag == "p" else "\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n" if tag == "p" else "\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def looks_like_html(text: str) -> bool:
    return "<" in text and ">" in text


def html_to_text(markup: str | None) -> str:
    """Visible text of an HTML fragment, cleaned; plain text passes through `clean_text` only."""
    if not markup:
        return ""
    if not looks_like_html(markup):
        return clean_text(markup)
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except (AssertionError, ValueError):  # html.parser gives up on a few pathological inputs
        return clean_text(markup)
    return clean_text("".join(collector.parts))
