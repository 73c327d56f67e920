"""Story grouping by the same-story model (`stories.grouping`), end to end through `bot.py scan --json`: the
four kinds of copy that the hand-weighted score missed (another outlet's rewrite, the agency's translation
both ways, an agency UPDATE under a versioned guid, a story with no figures told by two outlets), a rewrite
off the beat, and two different stories of one day and place (or man) that must stay apart, on the beat and
off it. The copy is fictional, written for these tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from stories.folding import fold_text
from stories.grouping.bridge import bridge_available
from stories.grouping.features import (
    FEATURES,
    StoryView,
    agency_of,
    compare,
    date_mentions,
    guid_base,
    make_view,
)
from stories.grouping.model import load_model
from stories.grouping.terms import title_terms

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MONDAY = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    slug: str
    title: str
    teaser: str
    published: datetime
    guid: str | None = None


def write_feed(directory: Path, site: str, language: str, items: list[Item], name: str | None = None) -> Path:
    """An agency's RSS feed: items link to its site (its services in other languages share the site)."""
    rendered = "".join(
        f"<item><title>{escape(item.title)}</title><link>https://{site}.example/{language}/{item.slug}</link>"
        f'<guid isPermaLink="false">{escape(item.guid or f"{site}-{language}-{item.slug}")}</guid>'
        f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>"
        f"<description>{escape(item.teaser)}</description></item>"
        for item in items
    )
    path = directory / f"{name or f'{site}-{language}'}.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{site}</title><link>https://{site}.example/</link><description>news</description>"
        f"<language>{language}</language>{rendered}</channel></rss>",
        encoding="utf-8",
    )
    return path


def scan(directory: Path, *feeds: Path) -> dict[str, dict[str, object]]:
    """Rows of `bot.py scan --json` keyed by the item's slug (the last part of its link)."""
    command = [sys.executable, str(PROJECT_ROOT / "bot.py"), "scan", "--json", *map(str, feeds)]
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return {str(row["link"]).rsplit("/", 1)[1]: row for row in rows}


# Another outlet's rewrite, hours later, in other words: on the beat, and off it, where reporters search what
# the bot saw (one story per event, not one per outlet); off the beat the pair shares no figure and few
# words, so only the lookup by names and rare title words finds it.
REWRITES = {
    "on the beat": (
        Item(
            "tibu-fuel",
            "Colombian troops seize 9,200 gallons of Venezuelan fuel near Tibu",
            "Colombian soldiers seized 9,200 gallons of smuggled Venezuelan gasoline hidden in tanker trucks "
            "on a dirt road outside Tibu, in Norte de Santander, the army said on Monday.",
            MONDAY,
        ),
        Item(
            "contraband-gasoline",
            "Army finds tanker trucks of contraband gasoline on back road in Catatumbo",
            "Soldiers stopped tanker trucks carrying thousands of gallons of Venezuelan gasoline smuggled "
            "across the border on a rural road near Tibu, Norte de Santander, the Colombian army said.",
            MONDAY + timedelta(hours=4),
        ),
    ),
    "off the beat": (
        Item(
            "minister",
            "Colombian president names retired general Pedro Sanchez as defence minister",
            "President Gustavo Petro named retired air force general Pedro Sanchez as defence minister on "
            "Monday, replacing Ivan Velasquez, the presidency said in a statement.",
            MONDAY,
        ),
        Item(
            "sanchez-defence",
            "Petro taps former air force commander Pedro Sanchez for Defence Ministry",
            "Retired general Pedro Sanchez will replace Ivan Velasquez as Colombia's defence minister, "
            "President Gustavo Petro said on Monday.",
            MONDAY + timedelta(hours=4),
        ),
    ),
}


@pytest.mark.parametrize("beat", sorted(REWRITES))
def test_another_outlets_rewrite_hours_later_joins_the_story(tmp_path: Path, beat: str) -> None:
    original, rewritten = REWRITES[beat]
    rows = scan(
        tmp_path,
        write_feed(tmp_path, "wire", "en", [original]),
        write_feed(tmp_path, "borderdesk", "en", [rewritten]),
    )
    first, second = rows[original.slug], rows[rewritten.slug]
    assert first["relevant"] is second["relevant"] is (beat == "on the beat")
    assert second["story_id"] == first["story_id"]
    match = second["match"]
    assert isinstance(match, dict) and match["kind"] == "model" and match["evidence"]
    assert first["match"] is None  # the first report started the story


@pytest.mark.parametrize("first_language", ["en", "es"])
def test_the_agencys_translation_joins_the_story_both_ways(tmp_path: Path, first_language: str) -> None:
    english = Item(
        "arauca-bridge",
        "Colombia and Venezuela reopen José Antonio Páez bridge to trucks in Arauca",
        "Cargo trucks crossed the José Antonio Páez bridge between Arauca and El Amparo on Monday for the "
        "first time in two years, after both governments agreed to reopen it to freight.",
        MONDAY,
    )
    spanish = Item(
        "puente-arauca",
        "Reabren el puente José Antonio Páez al paso de camiones entre Arauca y El Amparo",
        "Los camiones de carga volvieron a cruzar el lunes el puente José Antonio Páez, entre Arauca y El "
        "Amparo, por primera vez en dos años, tras un acuerdo de ambos gobiernos para reabrirlo.",
        MONDAY,
    )
    later = timedelta(hours=2)
    if first_language == "en":
        spanish = Item(spanish.slug, spanish.title, spanish.teaser, MONDAY + later)
    else:
        english = Item(english.slug, english.title, english.teaser, MONDAY + later)
    feeds = [write_feed(tmp_path, "agency", "en", [english]), write_feed(tmp_path, "agency", "es", [spanish])]
    if first_language == "es":
        feeds.reverse()
    rows = scan(tmp_path, *feeds)
    assert rows["arauca-bridge"]["story_id"] == rows["puente-arauca"]["story_id"]
    joined = rows["puente-arauca" if first_language == "en" else "arauca-bridge"]["match"]
    assert isinstance(joined, dict) and any("translation" in note for note in joined["evidence"])


def test_an_agency_update_under_a_versioned_guid_is_the_storys_update(tmp_path: Path) -> None:
    guid = "urn:newsml:wire.example:20260504:nWW4512X"
    first = Item(
        "arrests",
        "Colombian police arrest 18 in raid on smuggling ring at Paraguachon",
        "Police arrested 18 people suspected of smuggling Venezuelan cattle through the Paraguachon crossing "
        "in La Guajira, the national police said on Monday.",
        MONDAY,
        guid,
    )
    update = Item(
        "arrests-update",
        "UPDATE 1-Arrests in Paraguachon smuggling raid rise to 27",
        "The number of people arrested in a police raid on a cattle smuggling ring at the Paraguachon border "
        "crossing rose to 27, up from 18 reported earlier, police said on Tuesday.",
        MONDAY + timedelta(hours=20),
        f"{guid}:2",
    )
    rows = scan(tmp_path, write_feed(tmp_path, "wire", "en", [first, update]))
    assert rows["arrests-update"]["story_id"] == rows["arrests"]["story_id"]
    assert rows["arrests-update"]["match"] == {
        "kind": "exact",
        "score": 1.0,
        "evidence": ["same agency guid (another version)"],
    }
    changes = rows["arrests-update"]["update"]
    assert isinstance(changes, dict) and any("18" in c and "27" in c for c in changes["changes"])


def test_a_story_with_no_figures_told_by_two_outlets_is_one_story(tmp_path: Path) -> None:
    agency = write_feed(tmp_path, "agency", "es", [Item(
        "toque-ureña",
        "Decretan toque de queda nocturno en Ureña tras ataque a un puesto de la Guardia Nacional",
        "Las autoridades del Táchira decretaron un toque de queda nocturno en Ureña, fronteriza con Cúcuta, "
        "después de que hombres armados atacaran un puesto de la Guardia Nacional Bolivariana.",
        MONDAY,
    )])  # fmt: skip
    local = write_feed(tmp_path, "diario", "es", [Item(
        "urena-noche",
        "Ureña amanece bajo toque de queda después del ataque al puesto militar",
        "Comercios cerrados y calles vacías en Ureña, Táchira, donde rige un toque de queda nocturno tras el "
        "ataque armado contra un puesto de la Guardia Nacional junto a la frontera con Colombia.",
        MONDAY + timedelta(hours=5),
    )])  # fmt: skip
    rows = scan(tmp_path, agency, local)
    assert rows["urena-noche"]["story_id"] == rows["toque-ureña"]["story_id"]
    assert not rows["urena-noche"]["figures"]


# Two different stories of one day that share a place or a man: on the beat, and off it, where every entry is
# now looked up by names too.
APART = {
    "one town on the beat": (
        Item(
            "cucuta-bridge",
            "Simon Bolivar bridge in Cucuta reopens to cars after repairs",
            "Private cars crossed the Simon Bolivar bridge between Cucuta and San Antonio del Tachira again "
            "on Monday after three weeks of repairs to its deck, Colombian migration officials said.",
            MONDAY,
        ),
        Item(
            "cucuta-cocaine",
            "Colombian police seize 640 kilos of cocaine in Cucuta warehouse",
            "Police seized 640 kilos of cocaine bound for Venezuela from a warehouse in Cucuta, near the "
            "Simon Bolivar bridge, and arrested three men, officials said on Monday.",
            MONDAY + timedelta(hours=3),
        ),
    ),
    "one man off the beat": (
        REWRITES["off the beat"][0],
        Item(
            "summit",
            "Petro flies to Brasilia for Amazon summit with Lula",
            "Gustavo Petro left Bogota on Monday for a summit of Amazon countries hosted by Luiz Inacio Lula "
            "da Silva in Brasilia, where deforestation targets are on the agenda.",
            MONDAY + timedelta(hours=3),
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(APART))
def test_two_stories_of_one_day_and_place_or_man_stay_apart(tmp_path: Path, case: str) -> None:
    first, second = APART[case]
    rows = scan(tmp_path, write_feed(tmp_path, "wire", "en", [first, second]))
    assert rows[first.slug]["story_id"] != rows[second.slug]["story_id"]


def test_a_new_event_dated_from_the_storys_first_stays_apart(tmp_path: Path) -> None:
    """Hours later, the agency's other-language service reports two more defections at the same border and
    dates them from the first five: the same kind of event, not a translation of it."""
    first = Item(
        "deserters-villa",
        "Five Venezuelan soldiers cross into Colombia and ask for protection",
        "Five Venezuelan National Guard soldiers crossed the Tachira river near Villa del Rosario and handed "
        "themselves to Colombian police, saying they had not been paid for months.",
        MONDAY,
    )
    second = Item(
        "desertores-cucuta",
        "Otros dos guardias venezolanos desertan y cruzan a Colombia por Cúcuta",
        "Dos guardias nacionales venezolanos pidieron protección a la policía colombiana en Cúcuta, horas "
        "después de que otros cinco cruzaran el río Táchira por Villa del Rosario.",
        MONDAY + timedelta(hours=7),
    )
    rows = scan(
        tmp_path, write_feed(tmp_path, "wire", "en", [first]), write_feed(tmp_path, "wire", "es", [second])
    )
    assert rows[first.slug]["story_id"] != rows[second.slug]["story_id"]


def test_guid_base_strips_only_an_agencys_version_suffix() -> None:
    assert (
        guid_base("urn:newsml:reuters.com:20260714:nL1N3XY0AB:2")
        == "urn:newsml:reuters.com:20260714:nL1N3XY0AB"
    )
    assert guid_base("https://www.afp.com/en/news/abc123?v=2") == "https://www.afp.com/en/news/abc123"
    assert guid_base("ap-7f3e2a-2") == guid_base("ap-7f3e2a-1") == "ap-7f3e2a"
    # Another story's guid, not a version of this one:
    assert guid_base("tag:wire.example,2026:story-7") != guid_base("tag:wire.example,2026:story-8")
    assert guid_base("https://example.org/news/12") != guid_base("https://example.org/news/13")


def test_agency_is_the_site_its_services_share() -> None:
    assert (
        agency_of("https://www.afp.com/es/noticias/x") == agency_of("https://www.afp.com/en/news/y") == "afp"
    )
    assert agency_of("https://www.bbc.co.uk/news/z") == "bbc"
    assert agency_of(None) is None


def test_dates_named_in_english_and_spanish() -> None:
    assert date_mentions(fold_text("Colombia cerrará la frontera del 13 al 15 de marzo")) == {
        (3, 13),
        (3, 15),
    }
    assert date_mentions(fold_text("Colombia to close its border March 13-15")) == {(3, 13), (3, 15)}
    assert date_mentions(fold_text("in March 2026, 40 crossed")) == frozenset()


def test_a_report_dating_its_event_from_another_one_in_english_and_spanish() -> None:
    def dated(title: str, lead: str, language: str) -> float:
        def view(title: str, lead: str, language: str) -> StoryView:
            return make_view(title=title, lead=lead, language=language, time=MONDAY, link=None, guid=None,
                             names=frozenset(), figures=(), days=frozenset(), updating=False,
                             topics=("beat",))  # fmt: skip

        new = view(title, lead, language)
        earlier = view("Five soldiers desert", "Five soldiers crossed the river.", "en")
        return compare(new, earlier).values[FEATURES.index("dated_from_another_event")]

    for title, lead, language in (
        ("Two more desert", "They crossed a day after five others did.", "en"),
        ("Second attack", "A grenade hit the post hours after the first blast.", "en"),
        ("Otra deserción", "Dos guardias cruzaron un día después de que otros cinco lo hicieran.", "es"),
        ("Otro decomiso", "La víspera, la Guardia había incautado 20.000 litros.", "es"),
        ("Nueva entrega", "Al día siguiente se entregaron otros tres.", "es"),
        ("Rancher freed", "He was handed over on the same day that the ELN freed two guardsmen.", "en"),
        ("Liberan a ganadero", "Fue entregado el mismo día en que el ELN soltó a dos guardias.", "es"),
    ):
        assert dated(title, lead, language) == 1.0, lead
    for title, lead, language in (
        ("Curfew in Urena", "Residents must stay home at night after gangs battled.", "en"),
        ("Toque de queda", "Rige después de que hombres armados atacaran un puesto.", "es"),
        ("Five soldiers desert", "They crossed the river on Monday.", "en"),
    ):
        assert dated(title, lead, language) == 0.0, lead


def test_the_bridge_makes_a_translation_share_words_with_its_original() -> None:
    assert bridge_available()
    english = set(title_terms("Venezuelan deserters cross the border bridge", "en"))
    spanish = set(title_terms("Desertores venezolanos cruzan el puente fronterizo", "es"))
    assert {"desert", "border", "bridg"} <= english & spanish
    # Names are kept as written, not translated: "Boca de Grita" is a place, not a "mouth of shout".
    assert "grita" in set(title_terms("Guardias abandonan su puesto en Boca de Grita", "es"))


def test_the_shipped_model_matches_the_features_and_explains_itself() -> None:
    model = load_model()
    assert model.features == FEATURES
    assert 0.5 <= model.threshold < 1.0

    def view(title: str, lead: str, language: str, hours: float) -> object:
        return make_view(title=title, lead=lead, language=language, time=MONDAY + timedelta(hours=hours),
                         link=f"https://agency.example/{language}/x", guid=None, names=frozenset({"cucut"}),
                         figures=(), days=frozenset(), updating=False,
                         topics=("beat", "crossings"))  # fmt: skip

    original = view(
        "Venezuelan deserters cross into Cucuta", "Dozens of Venezuelan soldiers deserted.", "en", 0
    )
    translation = view("Desertores venezolanos cruzan a Cúcuta", "Decenas de soldados desertaron.", "es", 1)
    unrelated = view("Peso gains as oil rises", "Markets rallied in Bogota on Monday.", "en", 30)
    same = compare(translation, original, explain=True)  # type: ignore[arg-type]
    other = compare(unrelated, original)  # type: ignore[arg-type]
    assert model.probability(same.values) > model.probability(other.values)
    assert model.evidence(same)  # the notes of the features that pushed towards "same story"


def test_the_next_edition_of_a_daily_count_is_another_story(tmp_path: Path) -> None:
    monday = Item(
        "crossings-monday",
        "Some 31,400 people cross the Simon Bolivar bridge into Cucuta on Monday",
        "Migration Colombia counted 31,400 people crossing the Simon Bolivar bridge from San Antonio del "
        "Tachira into Cucuta on Monday, most of them to shop or work.",
        MONDAY + timedelta(hours=10),
    )
    tuesday = Item(
        "crossings-tuesday",
        "About 29,800 people cross the Simon Bolivar bridge into Cucuta on Tuesday",
        "Migration Colombia counted 29,800 people crossing the Simon Bolivar bridge from San Antonio del "
        "Tachira into Cucuta on Tuesday, most of them to shop or work.",
        MONDAY + timedelta(hours=34),
    )
    rows = scan(tmp_path, write_feed(tmp_path, "wire", "en", [monday, tuesday]))
    assert rows["crossings-tuesday"]["story_id"] != rows["crossings-monday"]["story_id"]


def test_other_days_and_no_figure_in_common_rule_out_a_pair_unless_a_count_moved() -> None:
    from stories.grouping.features import RULED_OUT_NEXT_EDITION, RULED_OUT_OTHER_DAY
    from stories.model import KeyFigure

    def view(day: int, hours: float, count: float, *, updating: bool = False) -> object:
        return make_view(title="People cross the bridge into Cucuta", lead="Migration counted them.",
                         language="en", time=MONDAY + timedelta(hours=hours), link="https://wire.example/x",
                         guid=None, names=frozenset({"cucut"}), days=frozenset({day}), updating=updating,
                         figures=(KeyFigure(count, str(count), "people"),), topics=("beat",))  # fmt: skip

    monday = view(0, 0, 31_400)
    assert compare(view(1, 30, 29_800), monday).ruled_out == RULED_OUT_NEXT_EDITION  # type: ignore[arg-type]
    assert compare(view(1, 3, 29_800), monday).ruled_out == RULED_OUT_OTHER_DAY  # type: ignore[arg-type]
    # An update names a later day too, but says its count moved ("up from"): the model decides.
    rising = view(1, 30, 35_000, updating=True)
    assert compare(rising, monday).ruled_out is None  # type: ignore[arg-type]
    # The bot stops at the rule: the same verdict, without the features the model would have needed.
    for new in (view(1, 30, 29_800), view(1, 3, 29_800), rising):
        full = compare(new, monday)  # type: ignore[arg-type]
        quick = compare(new, monday, stop_if_ruled_out=True)  # type: ignore[arg-type]
        assert quick.ruled_out == full.ruled_out
        assert quick.values == ([] if full.ruled_out else full.values)


def test_an_agency_update_is_found_by_its_guid_off_the_beat_too(tmp_path: Path) -> None:
    guid = "urn:newsml:wire.example:20260504:nWW7781Q"
    first = Item(
        "oil",
        "Venezuela's oil exports rise to 910,000 barrels a day in April",
        "Venezuela's crude exports rose to 910,000 barrels per day in April, shipping data showed on Monday.",
        MONDAY,
        guid,
    )
    update = Item(
        "oil-update",
        "UPDATE 1-Venezuela oil exports revised up to 935,000 bpd",
        "Revised shipping data put Venezuela's April crude exports at 935,000 barrels per day, up from the "
        "910,000 first reported.",
        MONDAY + timedelta(hours=30),
        f"{guid}:2",
    )
    rows = scan(tmp_path, write_feed(tmp_path, "wire", "en", [first, update]))
    assert rows["oil"]["relevant"] is False
    assert rows["oil-update"]["story_id"] == rows["oil"]["story_id"]
    assert rows["oil-update"]["match"]["kind"] == "exact"  # type: ignore[index]


def test_the_same_short_guid_at_another_outlet_is_no_version_of_it(tmp_path: Path) -> None:
    first = Item("bridge", "Simon Bolivar bridge reopens to cars in Cucuta", "Cars crossed again on Monday.",
                 MONDAY, "10045872")  # fmt: skip
    other = Item("quake", "Earthquake shakes Caracas, no damage reported", "A 4.1 tremor woke residents.",
                 MONDAY + timedelta(hours=2), "10045872")  # fmt: skip
    rows = scan(
        tmp_path, write_feed(tmp_path, "wire", "en", [first]), write_feed(tmp_path, "local", "en", [other])
    )
    assert rows["quake"]["story_id"] != rows["bridge"]["story_id"]


@pytest.mark.parametrize(
    ("old_lead", "new_lead", "restated", "near"),
    [
        # A bound the other count satisfies restates it when both may count one thing ("members of the armed
        # forces", "soldiers")...
        ("A total of 326 members of Venezuela's armed forces have deserted.",
         "More than 300 soldiers have deserted to Colombia.", 1.0, 1.0),
        # ...never when they count different things: 25 buses do not restate "at least 20 deserters".
        ("At least 20 deserters arrived in Cucuta on Monday.",
         "The mayors signed a deal to run a bus line with 25 vehicles.", 0.0, 0.0),
        # Two counts within reach of a revision are near, unless they count different things.
        ("Officials counted 32,000 people fleeing to Cucuta.",
         "Officials now count 36,000 displaced in Cucuta.", 0.0, 1.0),
        ("Officials said 20 soldiers crossed into Cucuta on Monday.",
         "Officials counted 25 trucks stuck at the bridge.", 0.0, 0.0),
    ],
)  # fmt: skip
def test_figures_restate_or_near_each_other_only_when_they_may_count_one_thing(
    old_lead: str, new_lead: str, restated: float, near: float
) -> None:
    from stories.figures.extract import extract_figures

    def view(lead: str, hours: float) -> StoryView:
        return make_view(title="Cucuta", lead=lead, language="en", time=MONDAY + timedelta(hours=hours),
                         link="https://wire.example/x", guid=None, names=frozenset({"cucut"}),
                         figures=tuple(extract_figures(lead, "en")), days=frozenset(), updating=False,
                         topics=("beat",))  # fmt: skip

    values = compare(view(new_lead, 2), view(old_lead, 0)).values
    assert values[FEATURES.index("figures_vague")] == restated
    assert values[FEATURES.index("figures_near")] == near
