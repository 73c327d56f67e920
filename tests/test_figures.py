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
        ("una veintena", 20),
        ("un millar", 1000),
        ("una decena", 10),
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
            (365_000, "unos 365.000", "Fuerza Armada venezolana", None),
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
        # Oil output in barrels a day, however the outlet writes it, is one unit on both sides of a bridge.
        (
            "en",
            "Venezuela's oil output slipped to 2.1 million bpd in July.",
            (2_100_000, "2.1 million bpd", "Venezuela's oil output", "bpd"),
        ),
        (
            "en",
            "Exports rose to 900,000 barrels a day in June.",
            (900_000, "900,000 barrels a day", "Exports", "bpd"),
        ),
        (
            "es",
            "La producción subió a 900.000 barriles al día en junio.",
            (900_000, "900.000 barriles al día", "producción", "bpd"),
        ),
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
    assert found[365_000].what == "Venezuela's armed forces"  # the force's size, not the deserters' label
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


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("es", "Colombia cerrará fronteras del 7 al 9 de marzo por elecciones."),
        ("es", "La frontera estará cerrada entre el 12 y el 14 de junio, dijo Migración."),
        ("es", "Los hechos ocurrieron a las 10 de la noche del martes 5."),
        ("es", "El paso peatonal se habilitará el lunes 3 y el martes 4."),
        ("es", "Las jornadas de registro serán el 7, 8 y 9 de marzo en Cúcuta."),
        ("en", "The border will be closed from March 7 to 9 for the vote."),
        ("en", "The border will be closed between 7 and 9 March, officials said."),
        ("en", "The bridges stay shut from 7-9 March."),
        ("en", "Talks resume on Tuesday 5th and end on Friday 8."),
        ("en", "Registration runs March 3 through 14 in Cucuta."),
    ],
)
def test_day_numbers_in_date_ranges_and_with_weekdays_are_not_figures(language: str, sentence: str) -> None:
    assert extract_figures(sentence, language) == []


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        ("es", "Del 7 al 9 de marzo cruzaron 3.000 venezolanos.", [(3000, "venezolanos")]),
        ("en", "On Tuesday 5, some 40 soldiers deserted.", [(40, "soldiers")]),
        ("en", "Between 20 and 30 soldiers crossed on March 7.", [(20, "soldiers")]),
    ],
)
def test_counts_next_to_dates_are_still_figures(
    language: str, sentence: str, expected: list[tuple[float, str]]
) -> None:
    assert [(f.value, f.what) for f in extract_figures(sentence, language)] == expected


def _whats(sentence: str, language: str) -> dict[float, str]:
    return {figure.value: figure.what for figure in extract_figures(sentence, language)}


@pytest.mark.parametrize(
    ("language", "sentence", "value", "expected_what"),
    [
        # Amounts listed together share what they are for; a scale word is never the label.
        ("en", "The government spent $3.5 million and €20,000 on aid for 2,500 families.", 20_000, "aid"),
        ("en", "The government spent $3.5 million and €20,000 on aid for 2,500 families.", 3_500_000, "aid"),
        ("es", "El gobierno destinó 3.500 millones de pesos y US$ 2 millones para 1.200 familias.", 2_000_000,
         "para 1.200 familias"),
        ("en", "Donors pledged $40 million and £5 million in food aid.", 5_000_000, "food aid"),
        # What rose, read across its links: "trade across the border", "comercio entre los dos países".
        ("en", "Trade across the border fell 40% in January.", 40, "Trade across the border"),
        ("en", "Business groups expect trade between the two countries to reach $1.2 billion this year.",
         1_200_000_000, "trade between the two countries"),
        ("es", "Los gremios esperan que el comercio entre los dos países llegue a 1.200 millones de dólares "
         "este año.", 1_200_000_000, "comercio entre los dos países"),
        ("en", "Remittances rose 15 percent to $1.2 billion.", 1_200_000_000, "Remittances"),
        ("es", "Las remesas crecieron un 15 % hasta 1.200 millones de dólares.", 1_200_000_000, "remesas"),
        ("en", "The number of Venezuelans in Colombia rose to 2.8 million.", 2_800_000,
         "Venezuelans in Colombia"),
        # A percentage change of the count before it.
        ("en", "In 2018, 1.2 million Venezuelans arrived, up 15 percent.", 15, "rise in Venezuelans"),
        ("en", "Some 300 trucks crossed on Monday, down 20%.", 20, "drop in trucks"),
        # The earlier value of the lead count is not labelled with a time ("day earlier").
        ("en", "Some 411 members of the armed forces have deserted, up from 326 a day earlier.", 326,
         "previous figure"),
        ("en", "The count was 326 a day earlier.", 326, "previous figure"),
        ("es", "Unos 411 militares desertaron, frente a 326 del día anterior.", 326, "cifra anterior"),
        ("es", "El comercio llegará a 1.200 millones de dólares, frente a unos 400 millones de dólares.",
         400_000_000, "cifra anterior"),
    ],
)  # fmt: skip
def test_what_is_a_phrase_that_says_what_is_counted(
    language: str, sentence: str, value: float, expected_what: str
) -> None:
    assert _whats(sentence, language)[value] == expected_what


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Colombia received $1.2 billion this year."),
        ("es", "Colombia recibió 1.200 millones de dólares el año pasado."),
        ("en", "Exports reached $400 million last month."),
        ("es", "Las exportaciones sumaron 400 millones de dólares este mes."),
    ],
)
def test_a_time_is_never_what_a_figure_counts(language: str, sentence: str) -> None:
    times = {"this year", "last year", "last month", "este mes", "año pasado", "este año"}
    for figure in extract_figures(sentence, language):
        assert figure.what not in times
        assert not figure.what.lower().startswith(("year", "month", "año", "mes"))


def test_the_size_of_a_force_and_a_group_of_its_members_read_differently() -> None:
    text = (
        "A total of 326 members of Venezuela's armed forces have deserted. "
        "Venezuela's armed forces number about 365,000 members."
    )
    whats = _whats(text, "en")
    assert whats[326] == "members of Venezuela's armed forces"
    assert whats[365_000] == "Venezuela's armed forces"
    # An informative noun is kept: "inhabitants of Cúcuta".
    assert _whats("Cúcuta has 800,000 inhabitants.", "en") == {800_000: "inhabitants of Cúcuta"}


def _read(sentence: str, language: str) -> list[tuple[float, str, str, str | None]]:
    return [
        (figure.value, figure.text, figure.what, figure.unit)
        for figure in extract_figures(sentence, language)
    ]


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        # A part of a group named before: what it counts is said after the pronoun, in both languages.
        ("en", "Two of them are lieutenants, the ministry said.", [(2, "Two", "lieutenants", None)]),
        ("es", "Dos de ellos son tenientes, dijo el ministerio.", [(2, "Dos", "tenientes", None)]),
        ("en", "Migration Colombia said 11 of them were wanted by Colombian courts.",
         [(11, "11", "wanted by Colombian courts", None)]),
        ("es", "Migración Colombia dijo que 11 de ellos eran buscados por la justicia colombiana.",
         [(11, "11", "buscados por la justicia colombiana", None)]),
        ("en", "Fifteen people were on board, two of whom were children.",
         [(15, "Fifteen", "people", None), (2, "two", "children", None)]),
        ("es", "Quince personas viajaban, dos de las cuales eran niños.",
         [(15, "Quince", "personas", None), (2, "dos", "niños", None)]),
        ("en", "Sixty-four guardsmen crossed the river, three of them officers, officials said.",
         [(64, "Sixty-four", "guardsmen", None), (3, "three", "officers", None)]),
        # Where the part is: the group it belongs to, read from the count before it.
        ("es", "El balance subió a 254 familias damnificadas, 98 de ellas en territorio venezolano.",
         [(254, "254", "familias damnificadas", None),
          (98, "98", "familias damnificadas en territorio venezolano", None)]),
    ],
)  # fmt: skip
def test_a_part_of_a_group_counts_what_is_said_after_of_them(
    language: str, sentence: str, expected: list[tuple[float, str, str, str | None]]
) -> None:
    assert _read(sentence, language) == expected


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        ("es", "Los agentes incautaron dos docenas de granadas.", (24, "dos docenas", "granadas", None)),
        ("en", "Agents seized two dozen of the grenades.", (24, "two dozen", "grenades", None)),
        ("es", "Los agentes incautaron media docena de granadas.", (6, "media docena", "granadas", None)),
        ("en", "Half a dozen soldiers deserted on Monday.", (6, "Half a dozen", "soldiers", None)),
        ("es", "Medio centenar de soldados desertaron.", (50, "Medio centenar", "soldados", None)),
    ],
)
def test_dozens_counted_by_a_number_or_half_are_figures(
    language: str, sentence: str, expected: tuple[float, str, str, str | None]
) -> None:
    assert _one(sentence, language) == expected


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Several hundred protesters gathered at the bridge."),
        ("en", "Usage rose from a few dozen chats per day to a few hundred chats per day."),
    ],
)
def test_a_vague_number_of_hundreds_or_dozens_is_not_a_figure(language: str, sentence: str) -> None:
    assert extract_figures(sentence, language) == []


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        # Guards: a count of dozens stays one, vague plurals stay out.
        ("es", "Los agentes incautaron una docena de granadas.", [(12, "una docena", "granadas", None)]),
        ("en", "Two dozen soldiers crossed the bridge at dawn.", [(24, "Two dozen", "soldiers", None)]),
        ("es", "Decenas de personas cruzaron la frontera.", []),
        ("es", "Cientos de personas cruzaron la frontera.", []),
        ("en", "Hundreds of people crossed the border.", []),
        ("en", "Dozens of people crossed the border.", []),
    ],
)
def test_counted_dozens_and_vague_plurals_keep_their_reading(
    language: str, sentence: str, expected: list[tuple[float, str, str, str | None]]
) -> None:
    assert _read(sentence, language) == expected


@pytest.mark.parametrize(
    ("sentence", "expected_text"),
    [
        ("The men handed over 31 rifles to the Colombian army.", "31"),
        ("The men turned over 31 rifles to the Colombian army.", "31"),
        ("Rebels took over 12 towns in the region.", "12"),
        ("The group agreed to hand over 40 rifles.", "40"),
        # "over" after any other verb, or starting the sentence, is "more than".
        ("The army seized over 31 rifles.", "over 31"),
        ("Over 31 rifles were handed to the army.", "Over 31"),
    ],
)
def test_over_as_a_verb_particle_is_not_a_qualifier(sentence: str, expected_text: str) -> None:
    assert [figure.text for figure in extract_figures(sentence, "en")] == [expected_text]


@pytest.mark.parametrize(
    ("sentence", "expected_text"),
    [
        ("Alrededor del 72 % de los titulares vive en los estados Táchira y Zulia.", "Alrededor del 72 %"),
        ("Cerca del 40 % de los migrantes vive en Cúcuta.", "Cerca del 40 %"),
        ("Más del 40 % de los migrantes vive en Cúcuta.", "Más del 40 %"),
        ("Menos del 10 % de los migrantes tiene pasaporte.", "Menos del 10 %"),
    ],
)
def test_spanish_qualifiers_contracted_with_the_article_are_kept(sentence: str, expected_text: str) -> None:
    assert [figure.text for figure in extract_figures(sentence, "es")] == [expected_text]


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        # Age limits are not counts; the players are.
        ("en", "The coach fielded a young side with six players under 21.", [(6, "six", "players", None)]),
        ("en", "Children under five were vaccinated at the border.", []),
        ("en", "People over 65 were evacuated first.", []),
        ("es", "Los jugadores menores de 18 participaron en el torneo.", []),
        ("es", "Los pacientes mayores de 65 fueron evacuados.", []),
        # Durations written as hyphenated adjectives, in words as in digits.
        ("en", "Truck drivers lifted a four-day blockade over diesel prices.", []),
        ("en", "Protesters lifted a 4-day blockade over diesel prices.", []),
        ("en", "The minister began a two-week tour and signed a three-year deal.", []),
        ("en", "A twenty-five-year-old man was detained.", []),
        ("es", "Los camioneros levantaron un bloqueo de cuatro días.", []),
        # Guards: a limit word before a count, or after a verb, keeps the count.
        ("en", "Over 65 people were evacuated first.", [(65, "Over 65", "people", None)]),
        ("en", "The death toll rose to over 100.", [(100, "over 100", "death toll", None)]),
    ],
)
def test_age_limits_and_hyphenated_durations_are_not_figures(
    language: str, sentence: str, expected: list[tuple[float, str, str, str | None]]
) -> None:
    assert _read(sentence, language) == expected


@pytest.mark.parametrize("raw", ["1.234,5.6", "1,234.5,6", "1.2,3.4"])
def test_a_digit_group_with_two_decimal_marks_is_not_a_number(raw: str) -> None:
    assert parse_digits(raw, None) is None
    assert extract_figures(f"Prices rose {raw} percent in a month, officials said.", "en") == []


@pytest.mark.parametrize(
    ("body", "expected_text"),
    [
        ("El salario mínimo subió a Bs. 500 al mes, según el gobierno.", "Bs. 500"),
        ("El salario mínimo subió a Bs 500 al mes, según el gobierno.", "Bs 500"),
        ("El salario mínimo subió a 500 bolívares al mes, según el gobierno.", "500 bolívares"),
    ],
)
def test_bolivar_amounts_are_ves(body: str, expected_text: str) -> None:
    assert [(figure.value, figure.text, figure.unit) for figure in extract_figures(body, "es")] == [
        (500, expected_text, "VES")
    ]


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        # A count as the subject of its verb: what it counts is what the verb says they did.
        (
            "es",
            "De ellos, 420 lo hicieron por trochas y 96 regresaron a Venezuela por el puente.",
            [(420, "420", "por trochas", None), (96, "96", "regresaron a Venezuela", None)],
        ),
        (
            "en",
            "Most of them, 2,310, used the official crossing, while 415 travelled on to Ecuador by bus.",
            [
                (2310, "2,310", "used the official crossing", None),
                (415, "415", "travelled on to Ecuador", None),
            ],
        ),
        (
            "en",
            "About 500 were children, and 1,120 said they intended to stay in Colombia.",
            [(1120, "1,120", "intended to stay in Colombia", None), (500, "About 500", "children", None)],
        ),
        (
            "es",
            "Unos 500 eran niños y 1.120 manifestaron su intención de quedarse en Colombia.",
            [
                (1120, "1.120", "manifestaron su intención de quedarse", None),
                (500, "Unos 500", "niños", None),
            ],
        ),
        # An -ed word before a noun is an adjective, not the verb.
        ("en", "Police found 15 armed men in the house.", [(15, "15", "armed men in the house", None)]),
        # A number in commas after a name is an age, not a count as subject.
        ("en", "Olsen, 63, graduated from the Naval Academy.", []),
        ("en", "Navalny, 47, died in prison.", []),
    ],
)
def test_a_count_as_subject_counts_what_its_verb_says(
    language: str, sentence: str, expected: list[tuple[float, str, str, str | None]]
) -> None:
    assert _read(sentence, language) == expected


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        # A comparative count: how many more than before.
        (
            "es",
            "El país acoge a 2,9 millones de refugiados, 75.000 más que en junio.",
            [(2_900_000, "2,9 millones", "refugiados", None), (75_000, "75.000", "más que en junio", None)],
        ),
        (
            "en",
            "The country hosts 2.9 million refugees, 75,000 more than in June.",
            [(2_900_000, "2.9 million", "refugees", None), (75_000, "75,000", "more than in June", None)],
        ),
        # An elided count ("with 1,250"): the noun of the comparison it answers.
        (
            "es",
            "Bogotá es la ciudad con más casos, con 1.250, seguida de Medellín, con 830.",
            [(1250, "1.250", "casos", None), (830, "830", "casos", None)],
        ),
        (
            "en",
            "Bogota is the city with the most cases, with 1,250, followed by Medellin, with 830.",
            [(1250, "1,250", "cases", None), (830, "830", "cases", None)],
        ),
        # Without such a comparison a bare count still says nothing.
        ("es", "El equipo ganó el torneo, con 1.250.", []),
    ],
)
def test_comparative_and_elided_counts(
    language: str, sentence: str, expected: list[tuple[float, str, str, str | None]]
) -> None:
    assert _read(sentence, language) == expected


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        # "N de los M X": both are counts; a noun before "de N" is what the part counts.
        (
            "es",
            "Los cuerpos de tres de los cinco pescadores que naufragaron fueron hallados.",
            [(5, "cinco", "pescadores", None), (3, "tres", "cuerpos", None)],
        ),
        (
            "en",
            "The bodies of three of the five fishermen who went missing were found on Sunday.",
            [(5, "five", "fishermen", None), (3, "three", "bodies", None)],
        ),
        (
            "en",
            "Police released two of the seven suspects.",
            [(7, "seven", "suspects", None), (2, "two", "suspects", None)],
        ),
        # Not a partitive: a small number after a definite article inside a sentence refers back (one that
        # opens a sentence restates a count: `test_a_sentence_opening_with_the_count_reads_it`).
        ("es", "Siguen cerrados los siete puentes.", []),
        ("en", "The two countries reopened the border.", []),
    ],
)
def test_partitive_counts_both_the_part_and_the_whole(
    language: str, sentence: str, expected: list[tuple[float, str, str, str | None]]
) -> None:
    assert _read(sentence, language) == expected


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        # A sentence-initial "One" with its noun and what happened to it is a count.
        ("en", "One soldier remains missing.", [(1, "One", "soldier missing", None)]),
        (
            "en",
            "Officials gave no details. One man was killed in the blast.",
            [(1, "One", "man killed", None)],
        ),
        ("en", "One fisherman has been rescued.", [(1, "One", "fisherman rescued", None)]),
        # Elsewhere "one" and "un" are articles or pronouns.
        ("en", "One official said the talks would resume.", []),
        ("en", "One thing is clear.", []),
        ("en", "One employee asked the minister to resign.", []),
        ("en", "One fisherman drowned near the bridge.", []),
        ("en", "One of the soldiers remains missing.", []),
        ("en", "Officials said one soldier remains missing.", []),
        ("es", "Un soldado sigue desaparecido.", []),
    ],
)
def test_sentence_initial_one_is_a_count(
    language: str, sentence: str, expected: list[tuple[float, str, str, str | None]]
) -> None:
    assert _read(sentence, language) == expected


def test_a_compound_adjective_after_the_article_is_no_whole() -> None:
    # "the five-time winners": "five" starts an adjective, not the count a part is taken from.
    sentence = "She won season two of the five-time winners' show."
    assert 5 not in [figure.value for figure in extract_figures(sentence, "en")]


def test_a_spanish_number_word_in_english_text_is_an_english_word() -> None:
    english = extract_figures("The port, once used by smugglers, handled 300 trucks a day.", "en")
    assert [(figure.value, figure.text) for figure in english] == [(300, "300")]
    spanish = extract_figures("Once soldados desertaron el lunes.", "es")
    assert [(figure.value, figure.text) for figure in spanish] == [(11, "Once")]


def _figures(sentence: str, language: str) -> list[tuple[float, str]]:
    return [(round(f.value, 3), f.text) for f in extract_figures(sentence, language)]


@pytest.mark.parametrize(
    ("language", "sentence", "text", "value", "what"),
    [
        (
            "en",
            "One in four displaced families has no shelter, the agency said.",
            "One in four",
            0.25,
            "displaced",
        ),
        ("en", "Officials said 1 in 3 pupils at border schools is Venezuelan.", "1 in 3", 0.333, "pupils"),
        (
            "en",
            "In some towns seven out of 10 households rely on remittances.",
            "seven out of 10",
            0.7,
            "households",
        ),
        ("en", "Nearly one in five migrants sleeps on the street.", "Nearly one in five", 0.2, "migrants"),
        (
            "es",
            "Una de cada cinco escuelas no tiene agua potable, según el informe.",
            "Una de cada cinco",
            0.2,
            "escuelas",
        ),
        ("es", "El estudio halló que 3 de cada 10 hogares pasan hambre.", "3 de cada 10", 0.3, "hogares"),
        (
            "es",
            "Según la ONU, seis de cada diez migrantes trabajan en la informalidad.",
            "seis de cada diez",
            0.6,
            "migrantes",
        ),
    ],
)
def test_a_ratio_is_one_figure_valued_as_its_proportion(
    language: str, sentence: str, text: str, value: float, what: str
) -> None:
    found = extract_figures(sentence, language)
    assert [(round(f.value, 3), f.text) for f in found] == [(value, text)]
    assert what in found[0].what


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Police arrested 12 in 30 raids across the state."),
        ("en", "The party won 209 out of 297 seats."),
        ("en", "Five people were killed in 2024 and 3 in 24 hours this week."),
    ],
)
def test_counts_around_in_or_out_of_are_no_ratio(language: str, sentence: str) -> None:
    assert all(f.value >= 1 for f in extract_figures(sentence, language))


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        (
            "en",
            "Authorities expect between 1,200 and 1,500 buses a week.",
            [(1200, "between 1,200 and 1,500")],
        ),
        (
            "en",
            "The fund needs between $2 million and $3 million this year.",
            [(2_000_000, "between $2 million and $3 million")],
        ),
        (
            "en",
            "The ELN has between two and three thousand fighters in the area.",
            [(2000, "between two and three thousand")],
        ),
        (
            "es",
            "Cada día cruzan entre 40.000 y 45.000 personas por los puentes.",
            [(40_000, "entre 40.000 y 45.000")],
        ),
        ("es", "Las remesas bajaron entre un 10 y un 15 % en el trimestre.", [(10, "entre un 10 y un 15 %")]),
        (
            "es",
            "La obra costará entre 2 y 3 millones de dólares.",
            [(2_000_000, "entre 2 y 3 millones de dólares")],
        ),
    ],
)
def test_a_range_is_one_figure_valued_as_its_lower_bound(
    language: str, sentence: str, expected: list[tuple[float, str]]
) -> None:
    assert _figures(sentence, language) == expected


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Visitors may cross between 6 and 8 p.m. on weekdays."),
        ("en", "Most of the recruits are between 18 and 25 years old."),
        ("es", "El paso cerrará entre el 12 y el 14 de junio."),
        ("en", "Trade fell sharply between 2019 and 2021."),
    ],
)
def test_ranges_of_times_ages_dates_and_years_are_no_figures(language: str, sentence: str) -> None:
    assert extract_figures(sentence, language) == []


@pytest.mark.parametrize(
    ("language", "sentence", "kept"),
    [
        ("en", "The border post opened at 7 p.m. on Friday with 300 trucks waiting.", [(300, "300")]),
        ("en", "Buses must leave the terminal before 6 a.m., and 40 were stopped.", [(40, "40")]),
        ("en", "Families left the shelter before 4, carrying 20 tents.", [(20, "20")]),
        ("es", "El puente abrirá a las 7 de la mañana y pasarán 500 camiones.", [(500, "500")]),
        ("es", "El comercio cierra a las 19:00 y atiende a 2.000 clientes.", [(2000, "2.000")]),
        ("en", "Relatives can call the 155 hotline, where 80 calls came in.", [(80, "80")]),
        ("es", "Las denuncias se reciben en la línea 141 y ya suman 230 casos.", [(230, "230")]),
        (
            "es",
            "Los carros con placa terminada en 5 y 6 tanquean el jueves; hay 900 inscritos.",
            [(900, "900")],
        ),
        ("en", "Only cars with plates ending in 1 or 2 may refuel, and 600 queued.", [(600, "600")]),
        ("es", "La tasa fue de 45 homicidios por cada 100.000 habitantes.", [(45, "45")]),
        ("en", "The state recorded 52 murders per 100,000 people last year.", [(52, "52")]),
    ],
)
def test_times_hotlines_plate_digits_and_rate_bases_are_no_figures(
    language: str, sentence: str, kept: list[tuple[float, str]]
) -> None:
    assert _figures(sentence, language) == kept


@pytest.mark.parametrize(
    ("language", "sentence", "text", "value", "what"),
    [
        ("en", "Half of the displaced families are headed by women.", "Half", 0.5, "displaced families"),
        ("en", "Nearly half of them had no documents.", "Nearly half", 0.5, ""),
        ("en", "Three-quarters of the cargo was rice, officials said.", "Three-quarters", 0.75, "cargo"),
        ("en", "About a third of the budget goes to health care.", "About a third", 0.333, "budget"),
        ("en", "Roughly one-third of the detainees were minors.", "Roughly one-third", 0.333, "detainees"),
        ("es", "Más de la mitad de los desplazados son niños.", "Más de la mitad", 0.5, "desplazados"),
        ("es", "La mitad son mujeres, según la Defensoría.", "La mitad", 0.5, ""),
        ("es", "Dos tercios de los migrantes siguen hacia Perú.", "Dos tercios", 0.667, "migrantes"),
        (
            "es",
            "Casi la tercera parte de los cultivos está en la frontera.",
            "Casi la tercera parte",
            0.333,
            "cultivos",
        ),
    ],
)
def test_a_fraction_is_one_figure_valued_as_its_proportion(
    language: str, sentence: str, text: str, value: float, what: str
) -> None:
    found = extract_figures(sentence, language)
    assert [(round(f.value, 3), f.text) for f in found] == [(value, text)]
    assert what in found[0].what


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "The crossing took half an hour on Monday."),
        ("en", "Guards were attacked for a third time this month."),
        ("en", "Prices rose in the second half of the year."),
        ("en", "Fuel sells for less than half the price in Colombia."),
        ("en", "He said he had only told half the story."),
        ("en", "SoftBank pledged $40 billion, half of which is conditional."),
        ("es", "El bus se averió a la mitad del camino."),
        ("es", "La tormenta llegó en la mitad de la noche."),
        ("en", "The deal was signed a quarter of a century ago."),
    ],
)
def test_fractions_of_a_time_a_way_or_a_price_are_no_figures(language: str, sentence: str) -> None:
    assert all(f.value >= 1 for f in extract_figures(sentence, language))


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        ("es", "Más de medio millón de venezolanos viven en Bogotá.", [(500_000, "Más de medio millón")]),
        ("en", "Some half a million Venezuelans live in Bogota.", [(500_000, "Some half a million")]),
        ("es", "El fondo recibió medio millón de dólares.", [(500_000, "medio millón de dólares")]),
    ],
)
def test_half_a_million_is_five_hundred_thousand(
    language: str, sentence: str, expected: list[tuple[float, str]]
) -> None:
    assert _figures(sentence, language) == expected


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "ACTUALIZA 1-Sube a tres la cifra de militares muertos en Apure",
            "Un soldado herido murió durante la noche en un hospital de Guasdualito.",
            {3.0},
        ),
        (
            "UPDATE 1-Number of Colombians fleeing into Venezuela rises to 364",
            "Peasants crossed the Tarra river to escape fighting in Catatumbo, Zulia state said.",
            {364.0},
        ),
    ],
)
def test_an_agency_version_mark_on_the_title_is_not_a_figure(
    title: str, body: str, expected: set[float]
) -> None:
    # "UPDATE 1-" numbers the agency's version of the item; the story's figures are the others.
    found = extract_figures(body, None, title=title)
    assert {figure.value for figure in found} == expected


def test_spanish_collective_numerals_count_and_their_plurals_do_not() -> None:
    text = (
        "Una veintena de colombianos fueron deportados por Ureña y un millar esperan en Cúcuta. "
        "Decenas de familias cruzaron después; la cuarentena terminó el lunes."
    )
    found = {(figure.text, figure.value) for figure in extract_figures(text, "es")}
    assert found == {("Una veintena", 20.0), ("un millar", 1000.0)}


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("es", "La cifra de muertos subió a nueve, frente a los siete reportados inicialmente.", {9.0, 7.0}),
        ("en", "Police said the toll rose to nine, up from the five reported on Monday.", {9.0, 5.0}),
        # Without a reporting word after it, a small number after an article still refers back.
        ("es", "Los dos países firmaron el acuerdo en Cúcuta.", set()),
    ],
)
def test_the_earlier_count_an_update_recites_is_a_figure(
    language: str, text: str, expected: set[float]
) -> None:
    assert {figure.value for figure in extract_figures(text, language)} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A Spanish headline names the place before what it counts.
        ("Recuperan en Maicao 27 vehículos robados en Venezuela", {27.0}),
        ("Decomisan en La Guajira 18.500 galones de gasolina de contrabando", {18500.0}),
        ("Venezuela entrega a Colombia 23 presos en el puente Simón Bolívar", {23.0}),
        # An identifier follows its noun: no count.
        ("Compran aviones Boeing 737 nuevos para la ruta a Cúcuta", set()),
        ("El Consejo aprobó la Resolución 2231 sobre la frontera", set()),
    ],
)
def test_a_spanish_count_after_the_place_it_happened(text: str, expected: set[float]) -> None:
    assert {figure.value for figure in extract_figures(text, "es")} == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # A teaser's sentence opening with the article and a small number restates the headline's count...
        ("es", "Los cinco soldados fueron entregados a la Cruz Roja en Paraguachón.", {5.0}),
        ("en", "The three fishermen were released at the border on Sunday.", {3.0}),
        ("es", "Los siete puentes siguen cerrados.", {7.0}),
        # ...but not of the pair a border story keeps naming, nor inside the sentence.
        ("es", "Los dos gobiernos firmaron el acuerdo en Cúcuta.", set()),
        ("en", "The two sides met at the bridge.", set()),
        ("es", "Ayer llegaron los tres al puente.", set()),
    ],
)
def test_a_sentence_opening_with_the_count_reads_it(language: str, text: str, expected: set[float]) -> None:
    assert {figure.value for figure in extract_figures(text, language)} == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # A guerrilla front's or an army unit's number names it.
        ("es", "Guerrilleros del frente 33 atacaron una patrulla en Tibú.", set()),
        ("en", "Rebels of Front 10 and the army's Brigade 30 clashed near Arauca.", set()),
        # A capitalised number word after a capitalised word in Spanish is part of a place's name...
        ("es", "La mina estalló en la vereda Campo Dos, en zona rural de Tibú.", set()),
        # ...not in English headlines written in title case, nor in a Spanish headline in capitals.
        ("en", "Rebels Kill Two Soldiers Near Venezuela Border", {2.0}),
        ("es", "DEPORTAN DE DOS EN DOS A LOS PERIODISTAS", {2.0}),
    ],
)
def test_numbers_that_name_a_unit_or_a_place_are_no_figures(
    language: str, text: str, expected: set[float]
) -> None:
    assert {figure.value for figure in extract_figures(text, language)} == expected
