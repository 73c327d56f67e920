"""Key figures in English and Spanish: values, qualifiers, units, what they count, and non-figures."""

from __future__ import annotations

import pytest

from stories.cleanup import clean_article
from stories.figures import extract_figures
from stories.numerals import parse_digits, parse_words
from tests.conftest import CORPUS

REFERENCE = CORPUS / "reference" / "000_5eee94eb242c2621.txt"
REFERENCE_TITLE = "Colombia says 326 Venezuelan army deserters since Saturday"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("365,000", 365_000),
        ("365.000", 365_000),
        ("1.234.567", 1_234_567),
        ("1,234,567", 1_234_567),
        ("1.6", 1.6),
        ("1,6", 1.6),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("12", 12),
    ],
)
def test_digit_grouping_in_both_conventions(raw: str, value: float) -> None:
    assert parse_digits(raw, None) == pytest.approx(value)


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("two dozen", 24),
        ("a dozen", 12),
        ("three hundred and twenty", 320),
        ("veinte", 20),
        ("treinta y dos", 32),
        ("dos mil", 2000),
        ("doscientos cincuenta", 250),
        ("twenty five", 25),
    ],
)
def test_written_out_numbers(words: str, value: float) -> None:
    parsed = parse_words(words.split())
    assert parsed is not None
    assert parsed[0] == value


def _one(text: str, language: str) -> tuple[float, str, str, str | None]:
    figures = extract_figures(text, language)
    assert len(figures) == 1, figures
    figure = figures[0]
    return figure.value, figure.text, figure.what, figure.unit


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        (
            "en",
            "More than 1.6 million Venezuelans have settled in Colombia, officials said.",
            (1_600_000, "More than 1.6 million", "Venezuelans", None),
        ),
        (
            "es",
            "Más de 1,6 millones de venezolanos viven en Colombia, según Migración Colombia.",
            (1_600_000, "Más de 1,6 millones", "venezolanos", None),
        ),
        (
            "es",
            "La Fuerza Armada venezolana cuenta con unos 365.000 miembros.",
            (365_000, "unos 365.000", "miembros de la Fuerza Armada venezolana", None),
        ),
        (
            "en",
            "Two dozen soldiers crossed the bridge at dawn.",
            (24, "Two dozen", "soldiers", None),
        ),
        (
            "es",
            "Al menos veinte militares venezolanos cruzaron el puente.",
            (20, "Al menos veinte", "militares venezolanos", None),
        ),
        (
            "en",
            "The UN appealed for $738 million in humanitarian aid.",
            (738_000_000, "$738 million", "humanitarian aid", "USD"),
        ),
        (
            "es",
            "El gobierno destinó 2.000 millones de pesos a la ayuda humanitaria.",
            (2_000_000_000, "2.000 millones de pesos", "ayuda humanitaria", "COP"),
        ),
        ("en", "Inflation reached 15% this month.", (15, "15%", "Inflation", "%")),
        ("es", "La pobreza subió al 35 por ciento.", (35, "35 por ciento", "pobreza", "%")),
        ("en", "The death toll rose to 45.", (45, "45", "death toll", None)),
        (
            "es",
            "Unas 300 personas cruzaron la frontera por las trochas.",
            (300, "Unas 300", "personas", None),
        ),
    ],
)
def test_figures_with_qualifier_unit_and_what(
    language: str, sentence: str, expected: tuple[float, str, str, str | None]
) -> None:
    value, text, what, unit = _one(sentence, language)
    assert (value, text, what, unit) == (pytest.approx(expected[0]), *expected[1:])


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "The talks were held on February 23, 2019 in Bogota."),
        ("es", "Las conversaciones fueron el 23 de febrero de 2019 en Bogotá."),
        ("en", "The bridge opened at 10:30 a.m. after a meeting at 9 am."),
        ("es", "El puente abrió a las 6 de la mañana."),
        ("en", "A 34-year-old man was detained; he was aged 34."),
        ("es", "Un hombre de 34 años fue detenido."),
        ("en", "It was the third closure and the 2nd protest this week."),
        ("es", "Fue el 5º cierre y el 1er aniversario."),
        ("en", "Passengers of Flight 302 and a Boeing 737 were stranded by COVID-19 rules."),
        ("en", "Juan Pérez (45) spoke to reporters."),
        ("en", "The crossing stayed closed for 48 hours."),
        ("en", "One of them said so, and a man left."),
    ],
)
def test_dates_times_years_ages_ordinals_and_identifiers_are_not_figures(
    language: str, sentence: str
) -> None:
    assert extract_figures(sentence, language) == []


def test_reference_case_yields_the_five_figures_with_what_they_count() -> None:
    body = clean_article(REFERENCE.read_text(encoding="utf-8"))
    figures = extract_figures(body, "en", title=REFERENCE_TITLE)
    found = {figure.value: figure for figure in figures}
    assert sorted(found) == [20, 50, 326, 365_000, 1_600_000]
    assert found[326].what == "members of Venezuela's armed forces"
    assert found[20].text == "at least 20"
    assert found[20].what == "deserters"
    assert found[50].what == "countries"
    assert found[365_000].text == "about 365,000"
    assert found[1_600_000].text == "about 1.6 million"
    assert found[1_600_000].what == "civilians in the colectivos"
    # The headline's number ranks first; figures are ordered by score.
    assert figures[0].value == 326
    assert [f.score for f in figures] == sorted((f.score for f in figures), reverse=True)


def test_the_same_value_twice_is_one_figure_from_the_prose() -> None:
    text = "326 deserters since Saturday\n\nA total of 326 soldiers have deserted, officials said on Tuesday."
    figures = extract_figures(text, "en")
    assert [(f.value, f.what) for f in figures] == [(326, "soldiers")]


@pytest.mark.parametrize(
    ("language", "sentence", "expected_what"),
    [
        ("en", "Some 1,200 trucks a day cross the bridge.", "trucks a day"),
        ("en", "The number of deserters has risen to 411, officials said.", "deserters"),
        ("es", "El comercio binacional alcanzó los 1.200 millones de dólares.", "comercio binacional"),
        ("en", "Another 11,000 have been displaced to Cucuta and Tibu.", "displaced to Cucuta and Tibu"),
        ("en", "About 600 tonnes of food arrived at the bridge.", "food"),
    ],
)
def test_what_is_read_around_the_number(language: str, sentence: str, expected_what: str) -> None:
    figures = extract_figures(sentence, language)
    assert [figure.what for figure in figures] == [expected_what]


def test_measures_and_same_small_values_counting_different_things() -> None:
    text = (
        "Two guardsmen drove two armoured vehicles across; 2 people were injured by the 224-kilometre convoy."
    )
    found = {(figure.value, figure.text, figure.unit) for figure in extract_figures(text, "en")}
    assert (2, "two", None) in found and (2, "2", None) in found
    assert (224, "224-kilometre", "km") in found
