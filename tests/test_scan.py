"""`bot.py scan`: the reference case end to end, the exact `--json` contract, the table, URLs and errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

from tests.conftest import CORPUS, PROJECT_ROOT

REFERENCE = (CORPUS / "reference" / "000_5eee94eb242c2621.txt").read_text(encoding="utf-8")
TITLE = "Colombia says 326 Venezuelan army deserters since Saturday"
JSON_KEYS = {
    "feed", "id", "guid", "link", "title", "lang", "relevant", "topics", "matched", "story_id",
    "duplicate_of", "update", "match", "near_match", "summary", "figures",
}  # fmt: skip
REFERENCE_WHAT = {
    326: "members of Venezuela's armed forces",
    20: "deserters",
    50: "countries",
    365_000: "Venezuela's armed forces",  # the size of the armed forces, not deserters from them
    1_600_000: "civilians in the colectivos",
}


def render_feed(outlet: str, items: list[tuple[str, str, str]]) -> str:
    """RSS 2.0 with one item per (slug, title, text); paragraphs as <p> in the description, as sites do."""
    rendered = []
    for slug, title, text in items:
        html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in text.split("\n\n"))
        link = f"https://{outlet}.example/{slug}"
        rendered.append(
            f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid>"
            "<pubDate>Tue, 26 Feb 2019 18:00:00 GMT</pubDate>"
            f"<description>{escape(html)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{outlet}</title><link>https://{outlet}.example/</link><description>news</description>"
        + "".join(rendered)
        + "</channel></rss>"
    )


def write_feed(directory: Path, outlet: str, items: list[tuple[str, str, str]]) -> Path:
    path = directory / f"{outlet}.xml"
    path.write_text(render_feed(outlet, items), encoding="utf-8")
    return path


def run_scan(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(PROJECT_ROOT / "bot.py"), "scan", *arguments]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def json_rows(stdout: str) -> list[dict[str, object]]:
    lines = stdout.splitlines()
    return [json.loads(line) for line in lines]  # every stdout line must be a JSON object


def test_reference_case_is_one_story_on_the_beat_with_its_figures(tmp_path: Path) -> None:
    afp = write_feed(tmp_path, "afp", [("deserters", TITLE, REFERENCE)])
    republished = write_feed(tmp_path, "digitaljournal", [("afp-326", TITLE, REFERENCE)])
    revised = REFERENCE.replace("326", "411")
    update = write_feed(tmp_path, "wire", [("update", TITLE.replace("326", "411"), revised)])
    done = run_scan("--json", str(afp), str(republished), str(update), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = json_rows(done.stdout)
    assert len(rows) == 3
    for row in rows:
        assert set(row) == JSON_KEYS
    first, copy, later = rows
    assert first["feed"] == str(afp)
    assert first["id"] == "https://afp.example/deserters"
    assert first["lang"] == "en"
    assert first["relevant"] is True
    assert first["topics"] and first["matched"]
    assert first["duplicate_of"] is None and first["update"] is None
    assert first["story_id"] == copy["story_id"] == later["story_id"]
    assert copy["duplicate_of"] == first["id"]
    assert copy["update"] is None
    assert isinstance(first["summary"], str) and first["summary"].startswith("A total of 326 members")
    assert len(first["summary"]) <= 300
    figures = first["figures"]
    assert isinstance(figures, list)
    assert {figure["value"]: figure["what"] for figure in figures} == REFERENCE_WHAT
    million = next(figure for figure in figures if figure["value"] == 1_600_000)
    assert million["text"] == "about 1.6 million"
    assert '"value": 1600000,' in done.stdout  # a JSON number, not a string or 1.6e6
    assert later["update"] == {
        "of": first["id"],
        "changes": ["members of Venezuela's armed forces: 326 → 411"],
    }


def test_table_output_names_the_story_and_what_would_be_alerted(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "afp", [("deserters", TITLE, REFERENCE)])
    copy = write_feed(tmp_path, "copy", [("deserters", TITLE, REFERENCE)])
    done = run_scan(str(feed), str(copy), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "NEW" in done.stdout and "dup" in done.stdout
    assert "2 entries, 1 stories, 1 alerts would be sent." in done.stdout


def test_unreadable_feed_is_reported_and_the_others_still_scanned(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "afp", [("deserters", TITLE, REFERENCE)])
    done = run_scan("--json", str(tmp_path / "missing.xml"), str(feed), cwd=tmp_path)
    assert done.returncode == 1
    assert "missing.xml" in done.stderr
    assert [row["id"] for row in json_rows(done.stdout)] == ["https://afp.example/deserters"]


async def test_feed_urls_are_fetched(tmp_path: Path) -> None:
    body = render_feed("afp", [("deserters", TITLE, REFERENCE)])

    async def serve(_request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/rss", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(PROJECT_ROOT / "bot.py"), "scan", "--json", f"http://127.0.0.1:{port}/rss",
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    finally:
        await runner.cleanup()
    assert process.returncode == 0, stderr.decode()
    rows = json_rows(stdout.decode())
    assert [row["feed"] for row in rows] == [f"http://127.0.0.1:{port}/rss"]
    assert rows[0]["relevant"] is True


def test_translations_rewrites_and_vaguer_copies_fold_and_other_days_stay_apart(tmp_path: Path) -> None:
    wire = write_feed(
        tmp_path,
        "wire",
        [
            (
                "quota",
                "Colombia caps border mobility cards at 86,500 for Venezuelans in Tachira",
                "Colombia will issue no more than 86,500 border mobility cards this month to Venezuelans "
                "crossing from Tachira, Migration Colombia director Fernando Garcia said on Thursday in "
                "Cucuta.",
            ),
            (
                "guards",
                "Venezuelan guardsmen defect at Puerto Santander",
                "At least 40 Venezuelan National Guard members crossed the Unión bridge into Puerto "
                "Santander on Thursday, Migration Colombia said, citing its director in Cúcuta.",
            ),
        ],
    )
    agencia = write_feed(
        tmp_path,
        "agencia",
        [
            (
                "cupo",
                "Colombia limita a 86.500 las tarjetas de movilidad fronteriza para venezolanos del Táchira",
                "Colombia emitirá como máximo 86.500 tarjetas de movilidad fronteriza este mes a venezolanos "
                "que cruzan desde el Táchira, dijo el jueves en Cúcuta el director de Migración Colombia, "
                "Fernando García.",
            ),
            (
                "guardias",
                "Desertan 40 guardias venezolanos en Puerto Santander",
                "Al menos 40 miembros de la Guardia Nacional venezolana cruzaron el puente Unión hacia "
                "Puerto Santander el jueves, informó Migración Colombia, citando a su director en Cúcuta.",
            ),
        ],
    )
    other = write_feed(
        tmp_path,
        "other",
        [
            (
                "guards-sunday",
                "More Venezuelan guardsmen cross at Puerto Santander",
                "Another 40 Venezuelan National Guard members crossed the Unión bridge into Puerto "
                "Santander on Sunday after clashes, Migration Colombia said, citing its director in Cúcuta.",
            ),
            (
                "quota-vague",
                "Colombia to limit border cards for Venezuelans from Tachira",
                "Colombia will grant about 86,000 border mobility cards this month to Venezuelans crossing "
                "from Tachira, Migration Colombia director Fernando Garcia said Thursday in Cucuta.",
            ),
        ],
    )
    done = run_scan("--json", str(wire), str(agencia), str(other), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {str(row["id"]).rsplit("/", 1)[1]: row for row in json_rows(done.stdout)}
    assert all(row["relevant"] for row in rows.values())
    assert rows["quota"]["story_id"] == rows["cupo"]["story_id"] == rows["quota-vague"]["story_id"]
    assert rows["cupo"]["duplicate_of"] == rows["quota"]["id"]
    assert rows["quota-vague"]["update"] is None  # "about 86,000" is no revision of 86,500
    assert rows["guards"]["story_id"] == rows["guardias"]["story_id"]
    assert rows["guards-sunday"]["story_id"] != rows["guards"]["story_id"]
    assert len({row["story_id"] for row in rows.values()}) == 3


def test_an_item_edited_in_place_is_an_update_in_the_next_scan(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'archive.db'}"
    text = (
        "A total of 1,480 Venezuelan migrants were stranded on the Simón Bolívar bridge into Cúcuta on "
        "Monday, Colombian officials said, after Venezuela closed the border crossing without notice."
    )
    feed = write_feed(
        tmp_path, "desk", [("stranded", "1,480 Venezuelans stranded at the border in Cúcuta", text)]
    )
    first = run_scan("--db", store, "--json", str(feed), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    [row] = json_rows(first.stdout)
    # The outlet edits the item in place: same guid and link, a new count.
    write_feed(
        tmp_path,
        "desk",
        [("stranded", "1,920 Venezuelans stranded at the border in Cúcuta", text.replace("1,480", "1,920"))],
    )
    second = run_scan("--db", store, "--json", str(feed), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    [edited] = json_rows(second.stdout)
    assert edited["id"] == row["id"] and edited["story_id"] == row["story_id"]
    assert edited["update"] == {"of": row["id"], "changes": ["Venezuelan migrants: 1,480 → 1,920"]}
    third = run_scan("--db", store, "--json", str(feed), cwd=tmp_path)
    assert third.returncode == 0 and json_rows(third.stdout) == []


def test_several_files_are_parsed_ahead_and_a_missing_one_is_reported(tmp_path: Path) -> None:
    first = write_feed(tmp_path, "afp", [("deserters", TITLE, REFERENCE)])
    second = write_feed(tmp_path, "digitaljournal", [("afp-326", TITLE, REFERENCE)])
    missing = tmp_path / "gone.xml"
    done = run_scan("--json", str(first), str(missing), str(second), cwd=tmp_path)
    assert done.returncode == 1  # one feed could not be read
    assert "No such file" in " ".join(done.stderr.split())  # rich wraps the warning; the reason is kept
    rows = json_rows(done.stdout)
    assert [row["feed"] for row in rows] == [str(first), str(second)]  # in the order given
    assert rows[0]["story_id"] == rows[1]["story_id"]


def test_a_scan_whose_feeds_all_fail_creates_no_store(tmp_path: Path) -> None:
    store = tmp_path / "archive.db"
    done = run_scan("--db", f"sqlite:///{store}", "--json", str(tmp_path / "missing.xml"), cwd=tmp_path)
    assert done.returncode == 1
    assert not store.exists()  # nothing to keep: no database created or migrated
