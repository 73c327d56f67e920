"""Words of an entry as the same-story model compares them: in English (Spanish bridged word by word), stop
words out, stemmed; proper names kept as written in the original (folded, cut to a stem), so "Cúcuta" in a
Spanish lead and "Cucuta" in an English one are one term. Then TF-IDF vectors and character n-grams of those
terms, for cosine similarities that hold across rewording and translation.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache
from itertools import chain
from pathlib import Path

import Stemmer

from stories.folding import fold
from stories.grouping.bridge import to_english
from stories.numerals import NUMBER_WORDS

IDF_FILE = Path(__file__).resolve().parent / "data" / "idf.tsv.gz"
# Every term is cut to this many letters after stemming, names too: "Colombia", "Colombian", "colombiano" ->
# "colomb", "protection" and "protect" -> "protec".
TERM_LETTERS = 6
CHAR_GRAM = 4
MIN_WORD = 3
# A title is in Title Case when most of its longer words are capitalised: its capitals say nothing of names.
TITLE_CASE_SHARE = 0.8

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_SENTENCE_END = re.compile(r"[.!?:;\n\"“”«»¿¡(]")


def _word_list(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_EN = _word_list(
    """a about above after again against all also although am among an and another any are as at be been
    before being below between both but by can could did do does doing down during each either few for from
    further had has have having he her here hers him his how however i if in into is it its itself just
    many may me might more most much must my near neither no nor not now of off on once one only or other
    our out over own per same several she should since so some such than that the their theirs them then
    there these they this those though through to too toward towards under until up upon us very via was
    we were what when where whether which while who whom whose why will with within without would yet you
    your says said say saying told tells according news report reports reported update updated"""
)
STOP_ES = _word_list(
    """a al algo algunas algunos ante antes aquel aquella aquellas aquellos aqui asi aun aunque bajo bien
    cada casi como con contra cual cuales cuando cuyo de del desde donde dos durante e el ella ellas ellos
    en entre era eran es esa esas ese eso esos esta estaba estaban estado estan estar este esto estos fue
    fueron ha habia habian han hasta hay la las le les lo los mas me mientras mismo muy ni no nos o otra
    otras otro otros para pero poco por porque pues que quien quienes se segun ser sera si sido sin sobre
    son su sus tambien tan tanto te tiene tienen toda todas todo todos tras tu un una unas uno unos y ya
    dijo dice dicen informo informa segun actualiza actualizacion noticia"""
)
_STOP = {"en": STOP_EN, "es": STOP_ES}


@cache
def _stemmers() -> dict[str, Stemmer.Stemmer]:
    return {"en": Stemmer.Stemmer("english"), "es": Stemmer.Stemmer("spanish")}


@lru_cache(maxsize=100_000)
def english_term(word: str) -> str:
    return _stemmers()["en"].stemWord(word)[:TERM_LETTERS]


@lru_cache(maxsize=100_000)
def _spanish_terms(word: str) -> tuple[str, ...]:
    """A folded Spanish word as English terms: its lexicon translation, else its Spanish stem (cognates such
    as "migrantes"/"migrants" then still meet: both stem to "migrant")."""
    english = to_english(word)
    if english is None:
        return (_stemmers()["es"].stemWord(word)[:TERM_LETTERS],)
    return tuple(english_term(item) for item in english if len(item) >= MIN_WORD and item not in STOP_EN)


def _title_case(text: str) -> bool:
    words = [word for word in _TOKEN.findall(text) if len(word) >= 4]
    return len(words) >= 3 and sum(word[0].isupper() for word in words) >= TITLE_CASE_SHARE * len(words)


@lru_cache(maxsize=200_000)
def _token_terms(raw: str, language: str | None, name: bool) -> tuple[str, ...]:
    """The terms of one word as written (cached: the same words recur in every entry)."""
    word = fold(raw).replace("’", "'")
    if len(word) < MIN_WORD or word in NUMBER_WORDS:
        return ()
    spanish = language == "es"
    if name:
        found = [word.split("'")[0][:TERM_LETTERS]]
        if spanish and (english := to_english(word)):
            # "Cruz Roja" is also "Red Cross": the translation joins the name, never replaces it.
            found.extend(english_term(item) for item in english if item not in STOP_EN)
        return tuple(found)
    if word in _STOP.get(language or "en", STOP_EN):
        return ()
    if spanish:
        return _spanish_terms(word)
    return (english_term(word.split("'")[0]),)


def bridged_terms(text: str, language: str | None, *, ignore_case: bool = False) -> list[str]:
    """The terms of a text (see the module docstring). `ignore_case`: capitals are no sign of a name (a
    headline in Title Case). A capitalised word is a name inside a sentence, not at its start (unless it is
    all capitals, an acronym)."""
    terms: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        first = True
        for raw in _TOKEN.findall(sentence):
            name = not ignore_case and raw[0].isupper() and (not first or raw.isupper())
            first = False
            terms.extend(_token_terms(raw, language, name))
    return terms


def title_terms(title: str, language: str | None) -> list[str]:
    return bridged_terms(title, language, ignore_case=_title_case(title))


@cache
def idf_table(path: Path = IDF_FILE) -> tuple[dict[str, float], float]:
    """term -> inverse document frequency over the background corpus, and the value for an unseen term."""
    table: dict[str, float] = {}
    documents = 1
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("# documents"):
                    documents = int(line.split()[-1])
                elif "\t" in line:
                    term, count = line.rstrip("\n").split("\t")
                    table[term] = math.log((documents + 1) / (int(count) + 1)) + 1.0
    except OSError:
        pass  # no table: every term weighs the same (plain cosine)
    return table, math.log(documents + 1) + 1.0


def tfidf(terms: Iterable[str]) -> dict[str, float]:
    """L2-normalised TF-IDF vector (sublinear term frequency)."""
    table, unseen = idf_table()
    idf = table.get
    log = math.log
    weights = {
        # most terms occur once, where the sublinear factor 1 + log(1) is 1
        term: idf(term, unseen) if count == 1 else (1.0 + log(count)) * idf(term, unseen)
        for term, count in Counter(terms).items()
    }
    norm = math.sqrt(sum(value * value for value in weights.values()))
    return {term: value / norm for term, value in weights.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    # The keys' intersection is taken in C (most pairs share a handful of terms out of dozens); fsum makes the
    # result independent of the set's order, which varies with the hash seed.
    return math.fsum(a[term] * b[term] for term in a.keys() & b.keys())


@lru_cache(maxsize=100_000)
def _term_grams(term: str) -> tuple[str, ...]:
    padded = f" {term} "
    return tuple(padded[i : i + CHAR_GRAM] for i in range(max(1, len(padded) - CHAR_GRAM + 1)))


def char_grams(terms: Iterable[str]) -> dict[str, None]:
    """The character n-grams of the terms, as the keys of a dict: a dict holding only strings is left alone
    by the cyclic garbage collector, a set never is, and thousands of views keep theirs (a full collection
    went through every one of their grams)."""
    return dict.fromkeys(chain.from_iterable(map(_term_grams, set(terms))))


def set_cosine(a: dict[str, None], b: dict[str, None]) -> float:
    """Cosine of two sets given as dict keys (`char_grams`)."""
    return len(a.keys() & b.keys()) / math.sqrt(len(a) * len(b)) if a and b else 0.0


def distinctive_terms(terms: Iterable[str], limit: int) -> list[str]:
    """The rarest terms (by IDF), for lookup keys: what a rewrite or translation keeps of a headline."""
    table, unseen = idf_table()
    unique = sorted(set(terms), key=lambda term: (-table.get(term, unseen), term))
    return unique[:limit]
