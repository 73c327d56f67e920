"""What makes two entries the same story, computed once per entry: a hash of the normalised text, a MinHash
signature with its LSH band keys, keys for the entry's figures, and the names it mentions.

Band and figure keys are signed 64-bit integers so they fit `story_bands.band_key` on both engines; the
store looks them up by index instead of scanning stories.
"""

from __future__ import annotations

import hashlib
import re
import string
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash

from stories.model import KeyFigure
from stories.numerals import ACCENTS, fold

NUM_PERM = 64
# 16 bands of 4 rows (datasketch's optimum for a 0.5 threshold at 64 permutations is 14x4): a pair with
# Jaccard 0.5 shares at least one band with probability 0.64, at 0.7 with 0.99; candidates are then verified
# on the full signature.
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE_WORDS = 3
MAX_SHINGLED_WORDS = 250
# Bodies shorter than this are shingled with their title, so two teasers with a shared stock description
# are not taken for copies of each other.
MIN_BODY_WORDS_ALONE = 25
# Counts this small ("two soldiers") are too common to tie two stories together.
MIN_DISTINCTIVE_VALUE = 10
NAME_KEY_LETTERS = 5

_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=1)
_SCHEME = _TEMPLATE.scheme
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BAND_SALT = np.uint64(0xD6E8FEB86659FD93)
_BAND_START = np.arange(1, BANDS + 1, dtype=np.uint64) * _BAND_SALT
_BAND_SHIFT = np.uint64(29)
_PERMUTATIONS = _TEMPLATE.permutations
_EMPTY_SIGNATURE = _TEMPLATE.hashvalues.astype(np.uint32)
# datasketch's "affine32" scheme written out (MurmurHash3 fmix32, then a*h+b wrapping in uint32), so a
# signature is a handful of numpy calls instead of a MinHash object per entry; other schemes go through
# datasketch itself.
_AFFINE32 = _SCHEME == "affine32"
_PERM_A = np.asarray(_PERMUTATIONS[0], dtype=np.uint32)
_PERM_B = np.asarray(_PERMUTATIONS[1], dtype=np.uint32)
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
# Punctuation (ASCII and the typographic marks clean_text may leave) becomes a word break.
_PUNCTUATION_MARKS = string.punctuation + "¿¡…«»‹›–—‘’“”„·•°º ª€£¥¢§¶©®™"
_PUNCTUATION_TO_SPACE = str.maketrans(dict.fromkeys(_PUNCTUATION_MARKS, " "))
# normalise() in two passes that give the same text as lower() + accent fold + punctuation-to-space: the rare
# non-ASCII runs through a str table, then ASCII punctuation through a bytes table. A dict-based
# str.translate of a whole article costs tens of microseconds once it holds one accented letter.
_NON_ASCII_FOLD = {
    code: target for code, target in {**ACCENTS, **_PUNCTUATION_TO_SPACE}.items() if code > 0x7F
}
_ASCII_PUNCTUATION_TO_SPACE = bytes.maketrans(
    "".join(mark for mark in _PUNCTUATION_MARKS if mark.isascii()).encode(),
    b" " * sum(mark.isascii() for mark in _PUNCTUATION_MARKS),
)
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_OPENING_MARKS = " \t\"'(¿¡«"
_SENTENCE_ENDS = ".!?:\n"
_NAME = re.compile(r"\b[A-ZÁÉÍÓÚÑÜ][\w'’-]*[\w]")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CAPITALISED_FUNCTION_WORDS = _word_set(
    """the a an in on at of for to by from and but or if as it its he she they we this that these those there
    his her their our mr mrs ms dr president minister gen general
    el la los las un una unos unas en de del y o pero con por para su sus este esta estos estas ese esa
    al se lo le les que como según tras desde
    monday tuesday wednesday thursday friday saturday sunday lunes martes miercoles jueves viernes sabado
    domingo january february march april may june july august september october november december enero
    febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"""
)


def _hash32(data: bytes) -> int:
    return zlib.crc32(data)


def _signed64(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big", signed=True)


def _fold_non_ascii(match: re.Match[str]) -> str:
    return match.group().translate(_NON_ASCII_FOLD)


def normalise(text: str) -> str:
    """Lower case, accents folded, punctuation dropped: the form exact-duplicate hashing compares."""
    lowered = text.lower()
    if not lowered.isascii():
        lowered = _NON_ASCII_RUN.sub(_fold_non_ascii, lowered)
    # ASCII bytes never occur inside a UTF-8 multi-byte sequence, so the bytes table touches only ASCII marks.
    encoded = lowered.encode("utf-8", "surrogatepass").translate(_ASCII_PUNCTUATION_TO_SPACE)
    return " ".join(encoded.decode("utf-8", "surrogatepass").split())


def text_hash(title: str, body: str) -> str:
    return _hash_normalised(normalise(title), normalise(body))


def _hash_normalised(title: str, body: str) -> str:
    return hashlib.sha256(f"{title} {body}".strip().encode()).hexdigest()


def shingles(title: str, body: str) -> set[bytes]:
    return _shingles(normalise(title), normalise(body[: MAX_SHINGLED_WORDS * 12]))


def _shingles(title: str, body: str) -> set[bytes]:
    # The lead is what copies share; a signature over the first words costs the same for a long article.
    words = body.split(None, MAX_SHINGLED_WORDS)[:MAX_SHINGLED_WORDS]
    if len(words) < MIN_BODY_WORDS_ALONE:
        words = title.split() + words
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words).encode()} if words else set()
    # Normalised text has single spaces only, so joining the encoded words is encoding the joined words.
    encoded = " ".join(words).encode().split(b" ")
    return {b" ".join(shingle) for shingle in zip(encoded, encoded[1:], encoded[2:], strict=False)}


def minhash(title: str, body: str) -> np.ndarray:
    return _minhash(shingles(title, body))


def _minhash(items: set[bytes]) -> np.ndarray:
    if not items:
        return _EMPTY_SIGNATURE.copy()
    if not _AFFINE32:
        signature = MinHash(num_perm=NUM_PERM, hashfunc=_hash32, permutations=_PERMUTATIONS, scheme=_SCHEME)
        signature.update_batch(list(items))
        return signature.hashvalues.astype(np.uint32)
    hashed = np.fromiter(map(zlib.crc32, items), dtype=np.uint32, count=len(items))
    shift1, multiply1, shift2, multiply2, shift3 = _FMIX
    hashed ^= hashed >> shift1
    hashed *= multiply1
    hashed ^= hashed >> shift2
    hashed *= multiply2
    hashed ^= hashed >> shift3
    permuted = hashed[:, None] * _PERM_A
    permuted += _PERM_B
    return permuted.min(axis=0)


def minhash_bytes(signature: np.ndarray) -> bytes:
    return signature.astype("<u4").tobytes()


def minhash_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two entries' shingle sets."""
    if len(a) != len(b):
        return 0.0
    return float(np.count_nonzero(a == b)) / len(a)


def band_keys(signature: np.ndarray) -> list[int]:
    """One signed 64-bit key per band: its rows and its position mixed with odd multipliers (wrapping
    arithmetic), so equal bands at the same position, and only those, give equal keys."""
    rows = signature.astype(np.uint64).reshape(BANDS, ROWS).T.copy()
    key = _BAND_START.copy()
    for column in rows:
        key ^= column
        key *= _MIX
        key ^= key >> _BAND_SHIFT
    return key.view(np.int64).tolist()


def is_distinctive(figure: KeyFigure) -> bool:
    """Money, percentages, decimals and counts from 10 up: rarely shared by chance between two stories."""
    return (
        figure.unit is not None
        or figure.value >= MIN_DISTINCTIVE_VALUE
        or not float(figure.value).is_integer()
    )


def figure_value_key(figure: KeyFigure) -> tuple[float, str]:
    value = figure.value
    # A whole float rounds to itself; most counts are whole, and round() to 6 places goes through decimal.
    if value.__class__ is not float or not value.is_integer():
        value = round(value, 6)
    return (value, figure.unit or "")


def figure_band_key(figure: KeyFigure) -> int:
    value, unit = figure_value_key(figure)
    return _signed64(hashlib.blake2b(f"figure:{value!r}:{unit}".encode(), digest_size=8).digest())


def figure_keys(figures: list[KeyFigure]) -> tuple[int, ...]:
    """Lookup keys for the stories sharing this entry's facts: one per figure value (small ones too: a
    translation of "4 soldiers killed" has nothing larger to be found by)."""
    return tuple(sorted({figure_band_key(figure) for figure in figures}))


def names(text: str) -> frozenset[str]:
    """Proper names mentioned, as name keys: capitalised words inside sentences, plus sentence-initial ones
    that also appear inside a sentence. Keys are folded and cut to `NAME_KEY_LETTERS`, so "Cúcuta" and
    "Cucuta", or "Venezuela's" and "Venezuelan", are the same name."""
    found: set[str] = set()
    initial: set[str] = set()
    for match in _NAME.finditer(text):
        word = _name_key(match.group())
        if word is None:
            continue
        # Walking back over opening marks, not slicing the text before every name: leads have dozens.
        start = match.start()
        while start and text[start - 1] in _OPENING_MARKS:
            start -= 1
        at_start = not start or text[start - 1] in _SENTENCE_ENDS
        (initial if at_start else found).add(word)
    return frozenset(found | (initial & found))


@lru_cache(maxsize=50_000)
def _name_key(word: str) -> str | None:
    key = fold(word).removesuffix("'s").removesuffix("’s")
    if len(key) < 3 or key in _CAPITALISED_FUNCTION_WORDS:
        return None
    return key[:NAME_KEY_LETTERS]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    text_hash: str
    signature: np.ndarray
    bands: tuple[int, ...]
    figure_keys: tuple[int, ...]
    names: frozenset[str]


def fingerprint(title: str, body: str, lead: str, figures: list[KeyFigure]) -> Fingerprint:
    normal_title, normal_body = normalise(title), normalise(body)
    signature = _minhash(_shingles(normal_title, normal_body))
    return Fingerprint(
        text_hash=_hash_normalised(normal_title, normal_body),
        signature=signature,
        bands=tuple(band_keys(signature)),
        figure_keys=figure_keys(figures),
        names=names(f"{title}.\n{lead}"),
    )
