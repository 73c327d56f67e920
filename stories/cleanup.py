"""Text clean-up shared by feed normalisation and the story pipeline.

Feed text arrives with mojibake, HTML entities, typographic quotes, non-breaking spaces and odd dashes;
detection, duplicate hashing and figures all want one canonical form.
"""

from __future__ import annotations

import html
import re
import string
import unicodedata

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
# UTF-8 read as Latin-1/cp1252 ("Ã©", "â€™"), ligatures, full-width forms, C1 controls: a mojibake lead byte
# followed by a continuation, or one of the others on its own. Written to start with one character class (the
# regex engine scans for it quickly instead of trying two alternatives at every character), the look-behinds
# then telling the two cases apart.
_MOJIBAKE_LEAD = "\u00c2\u00c3\u00c5\u00e2"
_NEEDS_FTFY = re.compile(
    f"[{_MOJIBAKE_LEAD}\ufb00-\ufb06\uff01-\uff5e\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]"
    f"(?:(?<=[{_MOJIBAKE_LEAD}])"
    "[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    f"|(?<![{_MOJIBAKE_LEAD}]))"
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
    fixed = html.unescape(html.unescape(text)) if "&" in text else text
    # Most text reaching here was cleaned once already (feed parsing does it): a substring test per marker
    # runs at memchr speed, where a regex substitution that finds nothing still costs microseconds per call.
    if "\r" in fixed or (not fixed.isascii() and ("\u2028" in fixed or "\u2029" in fixed or "\x85" in fixed)):
        fixed = _LINE_BREAKS.sub("\n", fixed)
    if fixed.isascii():
        if not fixed.isprintable():  # every control character is unprintable: most lines have none
            fixed = _CONTROL.sub("", fixed)
    else:
        # ftfy costs milliseconds per article (it works line by line); only text with a mojibake marker,
        # a ligature, a full-width form or a control character needs it.
        if _NEEDS_FTFY.search(fixed):
            import ftfy  # on first use: ~120 ms of imports, for the few texts with mojibake

            fixed = ftfy.fix_text(fixed, normalization="NFC")
        fixed = _TYPOGRAPHY.sub(_straighten, unicodedata.normalize("NFC", fixed))
    # Space runs never contain a newline, so squeezing them before the paragraph split gives the same parts
    # as squeezing each part, in one call.
    if "  " in fixed or "\t" in fixed or "\r" in fixed or "\f" in fixed or "\v" in fixed:
        fixed = _SPACES.sub(" ", fixed)
    if "\n" not in fixed:
        return fixed.strip()  # one paragraph of one line: what the general path below gives for it
    paragraphs = [part.strip() for part in _BLANK_LINES.split(fixed)]
    lines = ["\n".join(line for line in map(str.strip, part.split("\n")) if line) for part in paragraphs]
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
# Splits after the end mark, which the split keeps as a group of its own: a pattern that starts with the
# mark is scanned for quickly, where one that starts with a look-behind is tried at every character.
_SENTENCE_END = re.compile(r"([.!?…])[\"')\]]*\s+(?=[\"'(¿¡]?[A-ZÁÉÍÓÚÑ0-9])")
KEY_WORDS = re.compile(r"\w+")  # the words of `paragraph_key`
# After clean_text, copies of a sentence differ only in ASCII punctuation and spacing ("--" for a dash).
# Keys are UTF-8 bytes with those ASCII marks deleted: a bytes table deletes at C speed, where a str table
# goes through a dict per character once the sentence holds an accent, and encoding keeps keys distinct.
_IGNORED_IN_KEYS = (string.punctuation + string.whitespace).encode()
# Repeats shorter than this are left alone: "Caracas." twice is not a duplicated body.
_MIN_REPEAT_WORDS = 4
_MIN_REPEAT_SPACES = _MIN_REPEAT_WORDS - 1  # between the words of a sentence that long


def strip_boilerplate(text: str) -> str:
    """Drop site chrome lines and everything after a related-links/author/comments marker."""
    kept: list[str] = []
    size = 0
    chrome, tail = _CHROME_LINE.match, _TAIL_MARKER.match
    for paragraph in text.split("\n\n"):
        lines: list[str] = []
        cut = False
        for line in paragraph.split("\n"):
            if size >= _MIN_BODY_BEFORE_TAIL and tail(line.strip()):
                cut = True
                break
            # Chrome is a short line: the length test spares most lines the regex.
            if len(line) > 80 or chrome(line.strip()) is None:
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
    return " ".join(KEY_WORDS.findall(text.casefold()))


# The agencies' own mark of a new version of an item, at the head of its title: "UPDATE 1-", "ACTUALIZA 2-",
# "ACTUALIZACIÓN:". Its number is the version, not a figure of the story.
VERSION_HEADING = r"^\W*(?:update|actualiza|actualizaci[oó]n)\s*\d*\s*[-:–—]"
_VERSION_HEADING = re.compile(VERSION_HEADING, re.IGNORECASE)


def without_version_heading(title: str) -> str:
    """The title without an agency's version mark at its head ("UPDATE 1-Toll rises" -> "Toll rises")."""
    return _VERSION_HEADING.sub("", title, count=1)


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph, split after ., ! or ? before a capital, digit or opening quote."""
    parts = _SENTENCE_END.split(paragraph)
    if len(parts) == 1:
        only = paragraph.strip()
        return [only] if only else []
    # parts = [text, mark, text, mark, ..., text]: each sentence is its text and its end mark. A mark is no
    # whitespace, so stripping text + mark is stripping the text's start, and it is never empty.
    sentences = list(map(str.__add__, map(str.lstrip, parts[0:-1:2]), parts[1::2]))
    last = parts[-1].strip()
    if last:
        sentences.append(last)
    return sentences


def collapse_repeats(text: str) -> str:
    """Keep the first copy of every sentence repeated inside one article (scraped pages often carry the body
    twice, once with straight and once with curly quotes)."""
    seen: set[bytes] = set()
    paragraphs: list[str] = []
    for paragraph in text.split("\n\n"):
        lines: list[str] = []
        for line in paragraph.split("\n"):
            kept: list[str] = []
            for sentence in split_sentences(line):
                if sentence.count(" ") >= _MIN_REPEAT_SPACES:
                    folded = sentence.casefold().encode("utf-8", "surrogatepass")
                    key = folded.translate(None, _IGNORED_IN_KEYS)  # punctuation and case do not count
                    if key in seen:
                        continue
                    seen.add(key)
                kept.append(sentence)
            if kept:
                lines.append(" ".join(kept))
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def clean_article(text: str | None) -> str:
    """`clean_text`, boilerplate removed, repeated sentences collapsed: the body the pipeline reads."""
    if not text:
        return ""  # what the three steps give for no text, without running them
    return collapse_repeats(strip_boilerplate(clean_text(text)))
