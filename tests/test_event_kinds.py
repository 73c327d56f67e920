"""Kinds of news event (`stories.grouping.event_kinds`): what a report says happened, in either language, as
the same-story model compares it. Two reports of one town and day that tell other kinds of event are told
apart by it; a rewrite or translation told with other words for the same kind of event is not."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

from stories.grouping.event_kinds import EVENT_KINDS_FILE, event_kinds, kind_index
from stories.grouping.features import FEATURES, StoryView, compare, make_view
from stories.grouping.terms import bridged_terms, title_terms
from stories.model import KeyFigure

MONDAY = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def kinds_of(title: str, language: str) -> frozenset[str]:
    return event_kinds(title_terms(title, language))


def view(
    title: str, lead: str, language: str, hours: float = 0, figures: tuple[KeyFigure, ...] = ()
) -> StoryView:
    return make_view(title=title, lead=lead, language=language, time=MONDAY + timedelta(hours=hours),
                     link=f"https://wire.example/{language}/x", guid=None, names=frozenset({"cucut"}),
                     figures=figures, days=frozenset(), updating=False, topics=("beat",))  # fmt: skip


def test_one_kind_of_event_in_other_words_and_either_language() -> None:
    seizure = {"seizure", "fuel"}
    assert seizure <= kinds_of("Colombian police seize smuggled gasoline in Cucuta", "en")
    assert seizure <= kinds_of("La Policía incauta gasolina de contrabando en Cúcuta", "es")
    assert seizure <= kinds_of("Decomisan combustible venezolano en una bodega de Cúcuta", "es")
    assert "opening" in kinds_of("Colombia and Venezuela reopen the Tienditas bridge", "en")
    assert "opening" in kinds_of("Habilitan el paso peatonal por el puente de Tienditas", "es")
    assert "release" in kinds_of("ELN rebels free police officers held in Arauca", "en")
    assert "release" in kinds_of("El ELN libera a policías secuestrados en Arauca", "es")


def test_a_headline_with_no_event_word_tells_no_kind() -> None:
    assert kinds_of("Cúcuta, a city between two countries", "en") == frozenset()


def test_two_reports_of_one_town_and_day_that_tell_other_kinds_of_event_differ() -> None:
    reopening = view(
        "Simon Bolivar bridge in Cucuta reopens to cars", "Private cars crossed again on Monday.", "en"
    )
    seizure = view(
        "Police seize 640 kilos of cocaine in Cucuta", "Three men were arrested on Monday.", "en", 3
    )
    rewrite = view(
        "Habilitan el paso de carros por el puente Simón Bolívar", "Los carros ya cruzan.", "es", 4
    )
    apart = dict(zip(FEATURES, compare(seizure, reopening).values, strict=True))
    assert apart["event_kinds_differ"] == 1.0
    assert apart["event_kinds_shared"] == 0.0
    pair = compare(rewrite, reopening, explain=True)
    same = dict(zip(FEATURES, pair.values, strict=True))
    assert same["event_kinds_differ"] == 0.0
    assert same["event_kinds_shared"] >= 1.0
    assert pair.notes["event_kinds_shared"].startswith("same kind of event (")
    assert "opening" in pair.notes["event_kinds_shared"]


def test_every_word_of_the_file_says_its_kind() -> None:
    """A word the bridge turns into nothing (a stop word, a word too short) would silently say no kind."""
    index = kind_index()
    with EVENT_KINDS_FILE.open("rb") as handle:
        kinds = tomllib.load(handle)["kinds"]
    silent = [
        (kind, word)
        for kind, words in kinds.items()
        for language in ("en", "es")
        for word in words.get(language, "").split()
        if not any(kind in index.get(term, ()) for term in bridged_terms(word, language, ignore_case=True))
    ]
    assert silent == []


def test_a_note_is_shown_only_for_a_feature_that_is_present() -> None:
    """A feature that is only present or absent has a fixed note ("their figures differ"); an absent one may
    still weigh towards "same story" and must not be explained with the note of its presence."""
    count = (KeyFigure(326.0, "326", "deserters"),)
    first = view("326 Venezuelan soldiers desert to Colombia", "They crossed at Cucuta.", "en", 0, count)
    copy = view("326 Venezuelan troops defect into Colombia", "They crossed near Cucuta.", "en", 2, count)
    notes = compare(copy, first, explain=True).notes
    assert "figures_conflict" not in notes
    assert "figures_missing" not in notes
    other = view("Venezuelan soldiers desert to Colombia", "Dozens crossed at Cucuta.", "en", 2)
    assert compare(other, first, explain=True).notes["figures_missing"] == "no figures to compare"


def test_no_month_or_weekday_says_a_kind_of_event() -> None:
    """Dates are in most leads: "marzo" is bridged to "March", which must not read as a protest march."""
    from stories.figures.vocabulary import MONTH_NUMBERS

    days = "monday tuesday wednesday thursday friday saturday sunday"
    dias = "lunes martes miércoles jueves viernes sábado domingo"
    for word in [*MONTH_NUMBERS, *days.split(), *dias.split()]:
        for language in ("en", "es"):
            assert event_kinds(bridged_terms(word, language, ignore_case=True)) == frozenset(), word


def test_a_spanish_word_says_its_kind_only_through_the_kinds_own_english_words() -> None:
    """The bridge gives "detenido" as "detained person" and "paro" as "stop": Spanish arrests still read as
    arrests, but an English "person" or "stop" is no arrest and no strike."""
    assert "arrest" in kinds_of("Cinco detenidos por contrabando en Cúcuta", "es")
    assert "arrest" not in kinds_of("One person in three lacks health care in Cucuta", "en")
    assert "strike" not in kinds_of("Trucks stop at the Cucuta bridge for customs checks", "en")


def test_a_worker_loads_the_kinds_of_event_at_start_up() -> None:
    """`warm_up` runs before a worker freezes its long-lived objects: the index is built then, not on the
    first entry of the first poll."""
    from stories.grouping import warm_up

    kind_index.cache_clear()
    warm_up()
    assert kind_index.cache_info().currsize == 1
