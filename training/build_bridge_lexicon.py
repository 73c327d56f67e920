"""`make bridge-lexicon`: the Spanish → English word lexicon of the cross-language bridge
(`stories/grouping/data/es_en_lexicon.tsv.gz`), made with Apertium's English–Spanish pair.

Apertium translates whole texts at about 700 headlines/s here and mangles proper names ("Boca de Grita" →
"Mouth of Shout"); the bot needs only to compare words across languages, so each Spanish word form is
translated once, here, and the bot looks words up in a table (microseconds, no system package at run time).
The words: wordfreq's most frequent Spanish forms plus every word of the bundled real Spanish headlines.
Each word is sent as its own sentence ("word .") so Apertium's transfer rules cannot move words across lines.
(Tried and not kept: adding English words translated English → Spanish as further senses, "crossed" for
"cruzado" beside Apertium's "crusaded": same dev grouping recall, 0.446 vs 0.447.)

Needs `apertium-eng-spa` (Debian) and `wordfreq` (PyPI), neither of which the bot needs: the Makefile target
installs wordfreq into a throwaway virtualenv.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

from wordfreq import top_n_list

from config.corpus import corpus_dir

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "stories" / "grouping" / "data" / "es_en_lexicon.tsv.gz"
CORPUS = corpus_dir() / "feeds-real" / "leo2166-news-scraper"
TOP_WORDS = 80_000

_WORD = re.compile(r"[a-záéíóúñü]{3,}")


def spanish_words() -> list[str]:
    words = [word for word in top_n_list("es", TOP_WORDS) if _WORD.fullmatch(word)]
    seen = set(words)
    for path in sorted(CORPUS.glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")).get("news", []):
            for word in _WORD.findall(str(item.get("title") or "").lower()):
                if word not in seen:
                    seen.add(word)
                    words.append(word)
    return words


def translate(words: list[str], pair: str = "spa-eng") -> list[str]:
    text = "".join(f"{word} .\n" for word in words)
    done = subprocess.run(["apertium", "-u", pair], input=text, capture_output=True, text=True, check=True)
    lines = done.stdout.split("\n")
    if len(lines) < len(words):
        raise SystemExit(f"apertium returned {len(lines)} lines for {len(words)} words")
    return [line.rstrip(" .").strip().lower() for line in lines[: len(words)]]


def main() -> int:
    words = spanish_words()
    senses: dict[str, list[str]] = {}
    for start in range(0, len(words), 5000):
        chunk = words[start : start + 5000]
        for word, english in zip(chunk, translate(chunk), strict=True):
            if english and english != word and not english.startswith(("#", "@")):
                senses.setdefault(word, []).append(english)
    rows = {word: found[0] for word, found in senses.items()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{word}\t{english}\n" for word, english in sorted(rows.items()))
    header = (
        "# Spanish word form -> English (Apertium apertium-eng-spa 0.8.1, word by word); see "
        "training/build_bridge_lexicon.py\n"
    )
    with gzip.GzipFile(OUT, "wb", mtime=0) as handle:
        handle.write((header + body).encode("utf-8"))
    print(f"{len(rows)} of {len(words)} Spanish word forms translated -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
