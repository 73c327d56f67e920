"""The labelled set of `tests/eval/data/`: loading, copies, the dev/test split, and rendering as RSS feeds.

Entries are stored readably as TOML; at eval time they become one RSS 2.0 file per (wave, outlet), replayed
wave by wave so originals are seen before their copies, translations and updates.

The split is by story, never by entry, so no story has members on both sides: files under `data/dev/` are
development data (rules are tuned and the grouping model is trained on them), files under `data/test/` were
written after the split by people who had not read the code and are frozen; the older files directly under
`data/` were split by a hash of the story id (`split_of`), fixed before any result on them was read.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

DATA_DIR = Path(__file__).resolve().parent / "data"
NOT_ENTRIES = {"feeds.toml", "leo2166_judged.toml"}  # data files that hold no labelled entries
BASE_TIME = datetime(2026, 2, 26, 8, 0, tzinfo=UTC)
WAVE_GAP = timedelta(hours=3)  # replay waves are this far apart in published time
SPLITS = ("dev", "test")
TEST_SHARE_PERCENT = 30  # of the stories of the files split by hash


@dataclass(frozen=True, slots=True)
class GoldFigure:
    value: float
    text: str
    what: str


@dataclass(frozen=True, slots=True)
class EvalEntry:
    id: str
    feed: str
    language: str
    wave: int
    story: str
    relevant: bool
    kind: str
    title: str
    summary: str
    figures: tuple[GoldFigure, ...]
    published: datetime
    split: str = "dev"
    feed_guid: str | None = None  # as the agency's feed gives it (an update: the original's plus a version)
    real_link: str | None = None  # real headlines keep their link
    origin: str = ""  # the data file's name

    @property
    def guid(self) -> str:
        return self.feed_guid or f"urn:wirewatch-eval:{self.id}"

    @property
    def link(self) -> str:
        # An agency's services share its site, as real ones do (afp.com/en/..., afp.com/es/...).
        site = self.feed.rsplit("-", 1)[0]
        return self.real_link or f"https://{site}.example/{self.language}/news/{self.id}"


def labels_relate(left: EvalEntry, right: EvalEntry) -> bool:
    """Whether the labels say if two entries are one story: both from one file, or labelled one story. Each
    file is written as a world of its own, and files whose dates overlap tell the same event twice under two
    story names (dev: an ELN attack on the Saravena army base on 12 May 2025 in grouping_h and grouping_ac;
    Venezuela reopening its crossings on 30 July 2024 in grouping_j and grouping_z)."""
    return left.origin == right.origin or left.story == right.story


def split_of(story: str) -> str:
    """dev or test for a story of the files split by hash: stable across runs and machines."""
    digest = hashlib.blake2b(story.encode("utf-8"), digest_size=8).digest()
    return "test" if int.from_bytes(digest, "big") % 100 < TEST_SHARE_PERCENT else "dev"


def load_dataset(data_dir: Path = DATA_DIR, split: str | None = None) -> list[EvalEntry]:
    """Every labelled entry, or those of one split ("dev" or "test")."""
    feeds = tomllib.loads((data_dir / "feeds.toml").read_text(encoding="utf-8"))["feeds"]
    raw: list[dict[str, object]] = []
    paths = [
        *sorted(data_dir.glob("*.toml")),
        *(path for name in SPLITS for path in sorted((data_dir / name).glob("*.toml"))),
    ]
    for path in paths:
        if path.name in NOT_ENTRIES:
            continue
        for item in tomllib.loads(path.read_text(encoding="utf-8")).get("entries", []):
            item["_folder"] = path.parent.name
            item["_origin"] = path.name
            raw.append(item)
    by_id: dict[str, dict[str, object]] = {}
    for item in raw:
        entry_id = str(item["id"])
        if entry_id in by_id:
            raise ValueError(f"eval entry id {entry_id!r} is used twice")
        by_id[entry_id] = item
    entries = [_build(item, by_id, feeds, number) for number, item in enumerate(raw)]
    return [entry for entry in entries if split is None or entry.split == split]


def _build(item: dict[str, object], by_id: dict[str, dict[str, object]], feeds: dict[str, dict[str, str]],
           number: int) -> EvalEntry:  # fmt: skip
    original = by_id[str(item["copy_of"])] if "copy_of" in item else {}
    copied = {
        key: value for key, value in original.items() if key not in ("guid", "link", "_folder", "_origin")
    }
    merged = {**copied, **{key: value for key, value in item.items() if key != "copy_of"}}
    feed = str(merged["feed"])
    story = str(merged.get("story", merged["id"]))
    folder = str(item["_folder"])
    wave = int(merged.get("wave", 1))  # type: ignore[call-overload]
    published = merged.get("published")
    when = (
        datetime.fromisoformat(str(published)).astimezone(UTC)
        if published
        else BASE_TIME + WAVE_GAP * (wave - 1) + timedelta(minutes=3 * number)
    )
    entry = EvalEntry(
        id=str(merged["id"]),
        feed=feed,
        language=feeds[feed]["language"],
        wave=wave,
        story=story,
        relevant=bool(merged.get("relevant", False)),
        kind=str(merged.get("kind", "")),
        title=str(merged["title"]),
        summary=str(merged.get("summary", "")).strip(),
        figures=tuple(
            GoldFigure(float(fig["value"]), str(fig["text"]), str(fig["what"]))
            for fig in merged.get("figures", [])  # type: ignore[attr-defined]
        ),
        published=when,
        split=folder if folder in SPLITS else split_of(story),
        feed_guid=str(merged["guid"]) if merged.get("guid") else None,
        real_link=str(merged["link"]) if merged.get("link") else None,
        origin=str(item["_origin"]),
    )
    if item.get("transform") == "curly":
        entry = replace(entry, title=curly(entry.title), summary=curly(entry.summary))
    if item.get("credit"):
        entry = replace(entry, summary=f"{entry.summary}\n\n{item['credit']}")
    return entry


def curly(text: str) -> str:
    """Typographic quotes and apostrophes, as a second scrape of the same page carries them."""
    text = re.sub(r"(\w)'(\w)", "\\1\u2019\\2", text)
    text = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", text)
    return re.sub(r"'([^']*)'", "\u2018\\1\u2019", text)


def render_feeds(entries: list[EvalEntry], out_dir: Path) -> list[Path]:
    """One RSS 2.0 file per (wave, outlet), returned in replay order (wave, then outlet)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[int, str], list[EvalEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.wave, entry.feed), []).append(entry)
    paths: list[Path] = []
    for (wave, feed), items in sorted(groups.items()):
        path = out_dir / f"wave{wave}-{feed}.xml"
        path.write_text(_rss(feed, items), encoding="utf-8")
        paths.append(path)
    return paths


def _rss(feed: str, items: list[EvalEntry]) -> str:
    rendered = "".join(
        f"""
    <item>
      <title>{escape(entry.title)}</title>
      <link>{escape(entry.link)}</link>
      <guid isPermaLink="false">{escape(entry.guid)}</guid>
      <pubDate>{format_datetime(entry.published, usegmt=True)}</pubDate>
      <description>{escape(entry.summary)}</description>
    </item>"""
        for entry in sorted(items, key=lambda item: item.published)
    )
    language = items[0].language
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
  <channel>
    <title>{escape(feed)} (Wirewatch eval)</title>
    <link>https://{escape(feed)}.example.org/</link>
    <description>Labelled eval feed</description>
    <language>{language}</language>{rendered}
  </channel>
</rss>
"""
