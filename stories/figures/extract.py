"""`extract_figures`: walks an article's lines and sentences, reads those that can hold a figure, ranks.

Readings are cached by text: wire copies, updates and translations of one story repeat whole lines and
headlines, and an article's reading depends on nothing but its text and language. Cached readings are
immutable `Figure` tuples; callers get new `KeyFigure`s from `ranking.rank`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import repeat
from operator import itemgetter

from stories.cleanup import split_sentences, without_version_heading
from stories.figures.ranking import Found, long_words, rank
from stories.figures.reader import Figure, SentenceReader
from stories.figures.screen import COUNTING_ONE, has_number_word, has_uncovered_digit, may_start_figure
from stories.model import KeyFigure

# Key figures are in the first screens of an article (the reference case's last one is at 2,400
# characters); a 50,000-character feed item is read this far.
MAX_FIGURE_CHARS = 6_000
_MIN_PROSE_WORDS = 8
# Lines and sentences of the last thousand or so entries: about a MB for typical lines, 25 MB if every line
# were a 6,000-character article without breaks.
_CACHE_LINES = 4_096

# A line's reading: how many sentence positions it takes, and (position offset, figure) pairs.
_LineReading = tuple[int, tuple[tuple[int, Figure], ...]]

# A currency abbreviated with a dot before its amount ("Bs. 500", "BsS. 1.800"): sentences are split after
# any dot before a digit, so the split there is undone and the amount keeps its currency. Sentence ends are
# screened by set lookups of their last characters (C-level maps); the regex confirms a whole word.
_LAST_3, _LAST_4 = itemgetter(slice(-3, None)), itemgetter(slice(-4, None))
_DOTTED_ENDS_3 = frozenset({"Bs.", "bs.", "BS."})
_DOTTED_ENDS_4 = frozenset({"BsS.", "Bss.", "bss.", "BSS."})
_DOTTED_PREFIX_END = re.compile(r"(?:^|\W)[Bb][Ss][Ss]?\.$")


def _split(line: str) -> list[str]:
    sentences = split_sentences(line)
    if len(sentences) > 1 and (
        not _DOTTED_ENDS_3.isdisjoint(map(_LAST_3, sentences))
        or not _DOTTED_ENDS_4.isdisjoint(map(_LAST_4, sentences))
    ):
        joined = [sentences[0]]
        for sentence in sentences[1:]:
            if sentence[:1].isdigit() and _DOTTED_PREFIX_END.search(joined[-1][-6:]) is not None:
                joined[-1] = f"{joined[-1]} {sentence}"
            else:
                joined.append(sentence)
        return joined
    return sentences


def _is_prose(line: str) -> bool:
    # A split that stops after enough words: `len(line.split()) >= _MIN_PROSE_WORDS` without splitting it all.
    return (
        line.rstrip("\"') ").endswith((".", "!", "?", "…", ":"))
        and len(line.split(maxsplit=_MIN_PROSE_WORDS - 1)) >= _MIN_PROSE_WORDS
    )


@lru_cache(maxsize=_CACHE_LINES)
def _sentence_figures(sentence: str, language: str | None) -> tuple[Figure, ...]:
    return tuple(SentenceReader(sentence, language).figures())


@lru_cache(maxsize=_CACHE_LINES)
def _line_figures(line: str, language: str | None, number_words: bool) -> _LineReading:
    """The figures of a line that may hold a number: each of its sentences takes one position.

    `number_words` is False when the whole article holds no number word, so no sentence of it does and only
    digits are looked for.
    """
    sentences = _split(line)
    if len(sentences) == 1 and sentences[0] == line:
        # The line is its one sentence, and the caller screened it.
        return 1, tuple(zip(repeat(0), _sentence_figures(line, language)))
    read: list[tuple[int, Figure]] = []
    for offset, sentence in enumerate(sentences):
        if (
            has_uncovered_digit(sentence)
            or (number_words and has_number_word(sentence))
            or sentence.startswith(COUNTING_ONE)
        ):
            read.extend(zip(repeat(offset), _sentence_figures(sentence, language)))
    return len(sentences), tuple(read)


def clear_caches() -> None:
    """Forget every cached reading (benchmarks that compare cold runs call this)."""
    _line_figures.cache_clear()
    _sentence_figures.cache_clear()
    long_words.cache_clear()


def extract_figures(text: str, language: str | None, *, title: str | None = None) -> list[KeyFigure]:
    """Key figures of a cleaned article body, best first; one per value and unit.

    `title`, when given, ranks figures it mentions first and contributes figures the body lacks.
    """
    found: list[Found] = []
    position = 0
    text = text[:MAX_FIGURE_CHARS]
    # Most articles write every number in digits. Letter runs never cross a line break, so one scan of the
    # whole text tells whether any line or sentence can hold a number word; if none can, they are not
    # scanned for one each.
    number_words = has_number_word(text)
    # A sentence opening with "One" may count one ("One child remains missing"): rare enough that a
    # substring test of the text, then of its lines, keeps them apart.
    ones = COUNTING_ONE in text
    for paragraph in text.split("\n\n"):
        for line in paragraph.split("\n"):
            # Most lines hold no number: they take one position, rejected by the screen before any cache
            # lookup (which would hash the whole line).
            if not has_uncovered_digit(line) and not (number_words and has_number_word(line)):
                if not (ones and COUNTING_ONE in line):
                    position += 1
                    continue
                positions, read = _line_figures(line, language, number_words)
                if not read:
                    position += 1  # as screened out: a line without a figure takes one position
                    continue
            else:
                positions, read = _line_figures(line, language, number_words)
            if read:
                prose = _is_prose(line)  # only asked of the few lines that hold a figure
                found.extend((figure, position + offset, prose) for offset, figure in read)
            position += positions
    if title:
        title = without_version_heading(title)
    title_figures = list(_sentence_figures(title, language)) if title and may_start_figure(title) else []
    return rank(found, position, title, title_figures)
