"""Text clean-up shared by feed normalisation and the story pipeline.

Feed text arrives with mojibake, HTML entities, typographic quotes, non-breaking spaces and odd dashes;
detection, duplicate hashing and figures all want one canonical form.
"""

from __future__ import annotations

import html
import re
import string
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
_TYPOGRAPHY = re.compile("[" + "".join(re.escape(chr(code)) for code in _QUOTES) + "]")
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# UTF-8 read as Latin-1/cp1252 ("Ã©", "â€™"), ligatures, full-width forms, C1 controls.
_NEEDS_FTFY = re.compile(
    "[\u00c2\u00c3\u00c5\u00e2][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|[\ufb00-\ufb06\uff01-\uff5e\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]"
)


def _straighten(match: re.Match[str]) -> str:
    return str(_QUOTES[ord(match.group())])


# Runs of spaces and tabs that are not already a single space: a bare " " would be replaced by itself, and
# matching every word gap made this the costliest step of clean-up.
_SPACES = re.compile(r" [ \t\r\f\v]+|[\t\r\f\v][ \t\r\f\v]*")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str | None) -> str:
    """Repair mojibake, decode entities, NFC-normalise, straighten quotes/dashes/spaces, squeeze whitespace.

    Paragraph breaks survive as a single blank line; everything else collapses to single spaces.
    """
    if not text:
        return ""
    # Entities can be double-escaped in feeds ("&amp;eacute;"); two rounds settle both cases.
    fixed = _LINE_BREAKS.sub("\n", html.unescape(html.unescape(text)))
    if fixed.isascii():
        fixed = _CONTROL.sub("", fixed)
    else:
        # ftfy costs milliseconds per article (it works line by line); only text with a mojibake marker,
        # a ligature, a full-width form or a control character needs it.
        if _NEEDS_FTFY.search(fixed):
            fixed = ftfy.fix_text(fixed, normalization="NFC")
        fixed = _TYPOGRAPHY.sub(_straighten, unicodedata.normalize("NFC", fixed))
    paragraphs = [_SPACES.sub(" ", part).strip() for part in _BLANK_LINES.split(fixed)]
    lines = ["\n".join(line.strip() for line in part.split("\n") if line.strip()) for part in paragraphs]
    return "\n\n".join(line for line in lines if line)


# Site chrome that scrapers and some feeds wrap around the article: share bars, newsletter boxes, search
# prompts, cookie notices. Matched on whole short lines only, so a sentence that merely mentions a newsletter
# stays.
_CHROME_LINE = re.compile(
    r"""^(?:
        connect\ with\ us | follow\ us(?:\ on\ \w+)? | share(?:\ this)?(?:\ (?:article|story|post))?
        | share\ on\ \w+ | tweet(?:\ this)? | email(?:\ this)? | print(?:\ this)?(?:\ article)?
        | (?:sign\ up|subscribe)(?:\ (?:to|for))?(?:\ our)?(?:\ \w+)?\ ?newsletters?
        | subscribe(?:\ now)? | sign\ up | log\ ?in | sign\ in | register
        | hi,?\ what\ are\ you\ looking\ for\?? | search | menu | skip\ to\ (?:main\ )?content
        | advertisement | sponsored(?:\ content)? | click\ here.* | read\ more | see\ more | load\ more
        | accept(?:\ all)?\ cookies | we\ use\ cookies.* | all\ rights\ reserved\.? | ©.* | \(c\)\ .*
        | comparte?(?:\ en\ \w+)? | compartir(?:\ en\ \w+)? | síguenos(?:\ en\ \w+)? | suscr[ií]bete.*
        | recibe\ (?:nuestro|el)\ (?:boletín|newsletter).* | publicidad | anuncio | buscar
        | lee\ (?:también|además|más) | leer\ más | ver\ más | cargar\ más
        | todos\ los\ derechos\ reservados\.?
        | -+ | \|+ | •+
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Markers after which nothing belongs to the article any more: related links, author bios, comments.
_TAIL_MARKER = re.compile(
    r"""^(?:
        you\ may\ also\ like | you\ might\ also\ like
        | (?:more\ )?related(?:\ (?:stories|articles|news|content|coverage))?
        | recommended(?:\ for\ you)? | more\ from\ .+ | more\ stories | most\ read | trending(?:\ now)?
        | written\ by | about\ the\ author | comments? | leave\ a\ (?:comment|reply) | \d+\ comments?
        | te\ puede\ interesar | también\ te\ puede\ interesar | (?:noticias|artículos)\ relacionad[oa]s
        | más\ noticias | lo\ más\ leído | comentarios | deja\ (?:un|tu)\ comentario | sobre\ el\ autor
        | escrito\ por
    ):?$""",
    re.IGNORECASE | re.VERBOSE,
)
# A tail marker only cuts when this much of the text comes before it: a teaser that starts with "Related" is
# not thrown away whole.
_MIN_BODY_BEFORE_TAIL = 200
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(¿¡]?[A-ZÁÉÍÓÚÑ0-9])")
_KEY_WORDS = re.compile(r"\w+")
# After clean_text, copies of a sentence differ only in ASCII punctuation and spacing ("--" for a dash).
# Keys are UTF-8 bytes with those ASCII marks deleted: a bytes table deletes at C speed, where a str table
# goes through a dict per character once the sentence holds an accent, and encoding keeps keys distinct.
_IGNORED_IN_KEYS = (string.punctuation + string.whitespace).encode()
# Repeats shorter than this are left alone: "Caracas." twice is not a duplicated body.
_MIN_REPEAT_WORDS = 4


def _is_chrome(line: str) -> bool:
    return len(line) <= 80 and _CHROME_LINE.match(line.strip()) is not None


def strip_boilerplate(text: str) -> str:
    """Drop site chrome lines and everything after a related-links/author/comments marker."""
    kept: list[str] = []
    size = 0
    for paragraph in text.split("\n\n"):
        lines: list[str] = []
        cut = False
        for line in paragraph.split("\n"):
            if size >= _MIN_BODY_BEFORE_TAIL and _TAIL_MARKER.match(line.strip()):
                cut = True
                break
            if not _is_chrome(line):
                lines.append(line)
                size += len(line)
        if lines and not cut:
            kept.append("\n".join(lines))
        if cut:
            break
    return "\n\n".join(kept)


def paragraph_key(text: str) -> str:
    """Comparison form of a sentence or paragraph: case, punctuation and typography do not count."""
    # The word runs themselves: no whitespace is a word character, so this is "non-words to one space".
    return " ".join(_KEY_WORDS.findall(text.casefold()))


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph, split after ., ! or ? before a capital, digit or opening quote."""
    return [part.strip() for part in _SENTENCE_END.split(paragraph) if part.strip()]


def collapse_repeats(text: str) -> str:
    """Keep the first copy of every sentence repeated inside one article (scraped pages often carry the body
    twice, once with straight and once with curly quotes)."""
    seen: set[bytes] = set()
    paragraphs: list[str] = []
    for paragraph in text.split("\n\n"):
        lines: list[str] = []
        for line in paragraph.split("\n"):
            sentences: list[str] = []
            for sentence in split_sentences(line):
                if sentence.count(" ") + 1 >= _MIN_REPEAT_WORDS:
                    folded = sentence.casefold().encode("utf-8", "surrogatepass")
                    key = folded.translate(None, _IGNORED_IN_KEYS)  # punctuation and case do not count
                    if key in seen:
                        continue
                    seen.add(key)
                sentences.append(sentence)
            if sentences:
                lines.append(" ".join(sentences))
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def clean_article(text: str | None) -> str:
    """`clean_text`, boilerplate removed, repeated sentences collapsed: the body the pipeline reads."""
    return collapse_repeats(strip_boilerplate(clean_text(text)))
