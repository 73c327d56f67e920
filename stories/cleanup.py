"""Text clean-up shared by feed normalisation and the story pipeline.

Feed text arrives with mojibake, HTML entities, typographic quotes, non-breaking spaces and odd dashes;
detection, duplicate hashing and figures all want one canonical form.
"""

from __future__ import annotations

import html
import re
import unicodedata

import ftfy

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " ", "\u200a": " ", "\u3000": " ",
        "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "", "\u00ad": "",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str | None) -> str:
    """Repair mojibake, decode entities, NFC-normalise, straighten quotes/dashes/spaces, squeeze whitespace.

    Paragraph breaks survive as a single blank line; everything else collapses to single spaces.
    """
    if not text:
        return ""
    # Entities can be double-escaped in feeds ("&amp;eacute;"); two rounds settle both cases.
    fixed = html.unescape(html.unescape(text))
    fixed = ftfy.fix_text(fixed, normalization="NFC")
    fixed = unicodedata.normalize("NFC", fixed).translate(_QUOTES)
    paragraphs = [_SPACES.sub(" ", part).strip() for part in _BLANK_LINES.split(fixed)]
    lines = ["\n".join(line.strip() for line in part.split("\n") if line.strip()) for part in paragraphs]
    return "\n\n".join(line for line in lines if line)
