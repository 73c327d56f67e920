"""What makes two entries the same story, computed once per entry: a hash of the normalised text, a MinHash
signature with its LSH band keys, keys for the entry's figures, and the names it mentions.

Band and figure keys are signed 64-bit integers so they fit `story_bands.band_key` on both engines; the
store looks them up by index instead of scanning stories.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from stories.folding import ACCENTS, fold
from stories.model import KeyFigure

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

# datasketch's MinHash(num_perm=64, seed=1) as its "affine32" scheme defines it: the permutations are shipped
# (`minhash_permutations.json`, checked against datasketch by tests/test_cluster.py) because importing
# datasketch pulls in scipy, a third of a second of every `bot.py scan` start-up. Signatures stored by
# earlier versions stay comparable: same scheme, same permutations.
PERMUTATIONS_FILE = Path(__file__).resolve().parent / "minhash_permutations.json"
_SHIPPED = json.loads(PERMUTATIONS_FILE.read_text(encoding="utf-8"))
if _SHIPPED["scheme"] != "affine32" or _SHIPPED["num_perm"] != NUM_PERM:
    raise ValueError(f"{PERMUTATIONS_FILE} holds another MinHash scheme than this code computes")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BAND_SALT = np.uint64(0xD6E8FEB86659FD93)
_BAND_START = np.arange(1, BANDS + 1, dtype=np.uint64) * _BAND_SALT
_BAND_SHIFT = np.uint64(29)
# band_keys' constants for 128-bit lanes, one per band, in a Python integer (little-endian: band 0 lowest).
_LANES_BYTES = BANDS * 16
_LOW_64_LANES = int.from_bytes((b"\xff" * 8 + b"\x00" * 8) * BANDS, "little")
_BAND_START_LANES = int.from_bytes(
    np.stack([_BAND_START, np.zeros(BANDS, dtype=np.uint64)], axis=1).astype("<u8").tobytes(), "little"
)
_MIX_INT = int(_MIX)
_BAND_SHIFT_INT = int(_BAND_SHIFT)
_EMPTY_SIGNATURE = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)  # no shingle: every row at its maximum
# The "affine32" scheme written out (MurmurHash3 fmix32, then a*h+b wrapping in uint32): a signature is a
# handful of numpy calls instead of a MinHash object per entry.
_PERM_A = np.asarray(_SHIPPED["a"], dtype=np.uint32)
_PERM_B = np.asarray(_SHIPPED["b"], dtype=np.uint32)
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
# fingerprint's bytes form of the same normalisation (`_normal_byte_words`): each non-ASCII character the fold
# changes, as (its UTF-8, its target's UTF-8); the ASCII table also blanks the four ASCII separators that
# str.split() splits at and bytes.split() does not.
_NON_ASCII_FOLD_BYTES = {
    chr(code): (chr(code).encode(), target.encode()) for code, target in _NON_ASCII_FOLD.items()
}
_ASCII_BYTES = bytes(range(128))
_ASCII_PUNCTUATION_AND_SEPARATORS_TO_SPACE = bytes(
    32 if code in b"\x1c\x1d\x1e\x1f" else byte for code, byte in enumerate(_ASCII_PUNCTUATION_TO_SPACE)
)


def _latin1_fold_table() -> bytes | None:
    """The whole normalisation of Latin-1 text (most news text) as one bytes table: each character's fold,
    then the ASCII one applied to it, whitespace to a space. None if a fold target is not one ASCII character
    (a table maps a byte to one byte)."""
    table = bytearray(_ASCII_PUNCTUATION_AND_SEPARATORS_TO_SPACE[:128])
    for code in range(128, 256):
        target = _NON_ASCII_FOLD.get(code, chr(code))
        if code in _NON_ASCII_FOLD:
            if len(target) != 1 or not target.isascii():
                return None
            table.append(_ASCII_PUNCTUATION_AND_SEPARATORS_TO_SPACE[ord(target)])
        else:
            table.append(32 if target.isspace() else code)
    return bytes(table)


_LATIN1_FOLD = _latin1_fold_table()
# A capitalised word, written to start with its capital (a pattern starting with a character class is
# scanned for quickly; one starting with \b is tried at every position), the \b as a look-behind after it.
_NAME = re.compile(r"[A-ZÁÉÍÓÚÑÜ](?<!\w.)[\w'’-]*\w")
# A name at a sentence start: after an end mark (or the text's start) and opening marks only.
_INITIAL_NAME = re.compile(r"[.!?:\n][ \t\"'(¿¡«]*([A-ZÁÉÍÓÚÑÜ][\w'’-]*\w)")


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


def _normal_byte_words(text: str) -> list[bytes]:
    """The words of `normalise(text)`, UTF-8 encoded: what shingles and the text hash are made of, without
    a round trip through str.

    Text that Latin-1 can hold goes through one bytes table (_LATIN1_FOLD). In other text, the non-ASCII
    characters the fold changes are replaced in the bytes, once per distinct character (an article holds a
    handful), instead of by a regex scan over the whole text. Whitespace the fold leaves becomes a space,
    since bytes.split() splits at ASCII whitespace only. Strict UTF-8, like the encoding of the hashed text
    always was: a lone surrogate fails here as it failed there.
    """
    lowered = text.lower()
    if _LATIN1_FOLD is not None:
        try:
            folded = lowered.encode("latin-1").translate(_LATIN1_FOLD)
        except UnicodeEncodeError:
            pass  # a character beyond Latin-1 ("…", "€", a lone surrogate): below
        else:
            # What the fold leaves beyond ASCII ("ß", "²") is re-encoded as UTF-8.
            return (folded if folded.isascii() else folded.decode("latin-1").encode()).split()
    encoded = lowered.encode()
    if len(encoded) != len(lowered):  # not ASCII
        for char in set(encoded.translate(None, _ASCII_BYTES).decode()):
            replacement = _NON_ASCII_FOLD_BYTES.get(char)
            if replacement is None:
                if not char.isspace():
                    continue
                replacement = (char.encode(), b" ")
            encoded = encoded.replace(*replacement)
    return encoded.translate(_ASCII_PUNCTUATION_AND_SEPARATORS_TO_SPACE).split()


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
    return set(map(b" ".join, zip(encoded, encoded[1:], encoded[2:], strict=False)))


def _shingle_byte_words(title_words: list[bytes], body_words: list[bytes]) -> list[bytes]:
    """`_shingles` of the normalised words, in text order with repeats: a signature is a minimum, which
    repeats do not change, so `fingerprint` skips building the set."""
    words = body_words[:MAX_SHINGLED_WORDS]
    if len(words) < MIN_BODY_WORDS_ALONE:
        words = title_words + words
    if len(words) < SHINGLE_WORDS:
        return [b" ".join(words)] if words else []
    return list(map(b" ".join, zip(words, words[1:], words[2:], strict=False)))


def minhash(title: str, body: str) -> np.ndarray:
    return _minhash(shingles(title, body))


def _minhash(items: Collection[bytes]) -> np.ndarray:
    if not items:
        return _EMPTY_SIGNATURE.copy()
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
    # The 16 bands are mixed at once as 128-bit lanes of one Python integer: a 64x64-bit product fits its
    # lane, masking keeps the low 64 bits (the wrapping), and the bits a right shift brings down from the
    # next lane are masked off. A dozen big-integer operations cost less than the dozen numpy calls on
    # 16-element arrays they replace (each call's overhead dwarfs its work).
    lanes = np.zeros((ROWS, BANDS, 2), dtype="<u8")  # per row: each band's value in a 128-bit lane
    lanes[:, :, 0] = signature.astype(np.uint64).reshape(BANDS, ROWS).T
    packed = lanes.tobytes()
    key = _BAND_START_LANES
    for start in range(0, len(packed), _LANES_BYTES):
        key ^= int.from_bytes(packed[start : start + _LANES_BYTES], "little")
        key = (key * _MIX_INT) & _LOW_64_LANES
        key ^= (key >> _BAND_SHIFT_INT) & _LOW_64_LANES
    keys: list[int] = np.frombuffer(key.to_bytes(_LANES_BYTES, "little"), dtype="<i8")[::2].tolist()
    return keys


def is_distinctive(figure: KeyFigure) -> bool:
    """Money, percentages, decimals and counts from 10 up: rarely shared by chance between two stories. A
    proportion ("half of", "one in three": a plain value below 1) is as common as a small count."""
    if figure.unit is None and figure.value < 1:
        return False
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
    return _names("\n" + text)


def headline_opening_name(title: str) -> frozenset[str]:
    """The name key of a headline's first word when it is capitalised ("Ureña amanece bajo restricción
    nocturna" -> "urena"), which `names` leaves out unless the word recurs inside a sentence: a headline opens
    with its place or actor as often as not, and a rewrite names it inside its own headline. A lookup key
    only: a verb opening a headline ("Decretan") offers a day's few other stories opening with it, which the
    candidates' ranking and the model drop."""
    opening = _NAME.match(title.lstrip(" \t\"'(¿¡«“‘"))
    key = _name_key(opening.group(0)) if opening else None
    return frozenset({key}) if key else frozenset()


def _names(marked: str) -> frozenset[str]:
    """`names` of a text given with a newline before it: that makes the text's start a sentence start for
    _INITIAL_NAME, and is no word character, so it changes no match of _NAME."""
    # Both kinds count only through a word that occurs inside a sentence: the names are the words with more
    # occurrences in all than at a sentence start.
    every = _NAME.findall(marked)
    inside = set(every)
    if inside:
        initial = _INITIAL_NAME.findall(marked)
        for word in set(initial):
            if every.count(word) == initial.count(word):
                inside.discard(word)
    return frozenset({key for key in map(_name_key, inside) if key is not None})


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
    title_words, body_words = _normal_byte_words(title), _normal_byte_words(body)
    signature = _minhash(_shingle_byte_words(title_words, body_words))
    return Fingerprint(
        # _hash_normalised's text: the words with single spaces, and no stray space when either part is empty.
        text_hash=hashlib.sha256(b" ".join(title_words + body_words)).hexdigest(),
        signature=signature,
        bands=tuple(band_keys(signature)),
        figure_keys=figure_keys(figures),
        names=_names(f"\n{title}.\n{lead}"),
    )
