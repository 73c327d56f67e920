"""Beat detection: English and Spanish positives, every hard-negative class, traps, explanations."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import DEFAULT_TOPICS_FILE
from stories.detect import MIN_CHARS_FOR_LANGUAGE, detect
from stories.model import Entry
from stories.topics import TopicCatalog, TopicsFileError, load_topics

BEAT = "venezuela-colombia-border"


@pytest.fixture(scope="module")
def catalog() -> TopicCatalog:
    return load_topics(DEFAULT_TOPICS_FILE)


def entry(title: str, summary: str = "", language: str | None = None) -> Entry:
    return Entry(entry_id="t", feed_name="test", title=title, summary=summary, language=language)


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Colombia says 326 Venezuelan army deserters since Saturday",
            "326 members of Venezuela's armed forces have deserted and crossed the border into Colombia.",
        ),
        ("Migración Colombia destaca normalidad del flujo migratorio en la frontera con Venezuela", ""),
        (
            "Camiones cruzan el puente Simón Bolívar tras la reapertura",
            "El paso de carga se reanudó el lunes.",
        ),
        ("Trucks line up at Paraguachon", "Drivers waited for hours to be checked by customs."),
        ("Decomisan gasolina de contrabando en Táchira", "Iba a ser llevada por trochas a Colombia."),
        ("Desplazados del Catatumbo llegan a Venezuela", "Huyen de los combates entre grupos armados."),
        (
            "Colombia says ELN commanders shelter in Venezuela",
            "The minister urged Caracas to act against the guerrilla.",
        ),
        # The spec's border departments the lists lacked: Guainía and Vichada face Venezuela across rivers.
        (
            "Colombia decomisa coltán en una bodega de Puerto Inírida",
            "La Policía halló 250 kilos del mineral traído desde Venezuela por el río Guainía.",
        ),
        (
            "Venezuelan ferry resumes service from Puerto Ayacucho",
            "The boats carry traders to Colombia's Vichada department across the Orinoco.",
        ),
        # The towns of the border departments: La Guajira's capital.
        (
            "Familias venezolanas acampan a la entrada de Riohacha",
            "Unas 40 familias llegaron en los últimos días y piden albergue a la alcaldía.",
        ),
        # The people of the border states: "la capital tachirense" places a story as well as "Táchira".
        (
            "Comerciantes colombianos llenan los mercados de la capital tachirense",
            "Los compradores llegaron desde temprano en busca de precios bajos.",
        ),
        # A verb form the border group lacked.
        (
            "Colombian police find fuel smuggled from Venezuela in a warehouse",
            "Officers seized 9,000 gallons in a raid on Monday, Colombia's tax police said.",
        ),
        # Armed violence with no group named, in the border region.
        (
            "Sube a cuatro el número de militares muertos por la mina de Tibú",
            "Otro soldado herido por la mina antipersonal en zona rural falleció en un hospital.",
        ),
        (
            "Two soldiers killed in clashes in Venezuela's Apure state",
            "The army said fighting continued near the river on Sunday.",
        ),
        # Ambushes and kidnappings are armed violence too, and harassing fire in every tense.
        ("Emboscada contra una patrulla militar en Apure", "Dos soldados resultaron heridos al amanecer."),
        ("Secuestran a dos ganaderos en zona rural de Arauca", "Las autoridades no han recibido exigencias."),
        ("Hostigan la alcabala de la Guardia en Apure", "No hubo heridos, según el comando regional."),
        # Places the region's lists lacked: the Gulf of Venezuela whose waters both claim, Colombia's post at
        # Castilletes, Zulia's capital, Apure's El Nula, the Catatumbo's La Gabarra, Cúcuta's La Parada.
        (
            "Venezuelan navy detains Colombian fishermen in the Gulf of Venezuela",
            "Nine boats were escorted to port on Tuesday.",
        ),
        ("Guardsmen seize a lorry of coffee at Castilletes", "Four people were detained."),
        ("Colombianos hacen fila en el consulado de Maracaibo", "Piden renovar sus pasaportes."),
        ("Hostigamiento contra un puesto militar en El Nula", "La tropa respondió al fuego."),
        ("Combates en La Gabarra obligan a cerrar las escuelas", "Los maestros suspendieron las clases."),
        ("Vendedores de La Parada denuncian cobros de bandas venezolanas", "Piden más policía."),
        # Border words: an international bridge of the region, its fuel smugglers, the maritime boundaries.
        ("Comerciantes de Cúcuta piden abrir el puente internacional al tráfico pesado", ""),
        ("Pimpineros de Cúcuta protestan por los controles de la Policía", ""),
        ("Colombia and Venezuela to discuss their maritime boundaries", "Ministers meet next week."),
        ("Miles de peatones cruzan por el Simón Bolívar antes del feriado", ""),
        # Paramilitaries and rebels are armed groups, with both countries named.
        ("Venezuela detains 20 suspected Colombian paramilitaries", "The interior minister gave no names."),
        ("Colombia says rebels have camps inside Venezuela", "The minister showed maps to the press."),
        ("Autodefensas amenazan a comerciantes de Villa del Rosario", "Dejaron panfletos en varios locales."),
        # One side named with a matter of this border: the other borders are the exclusions.
        ("La Guardia venezolana decomisa gasolina de contrabando", "Iba en un camión cisterna."),
        ("La Policía colombiana desmantela una red de contrabando de ganado", "Hay seis capturados."),
        ("Colombia y Venezuela retoman el diálogo sobre el golfo", "Los cancilleres se reunirán en marzo."),
        # People displaced into the Colombian border region; a crossing named by its bridge's name alone.
        ("Cientos de desplazados llegan a los albergues de Tibú", "Las familias duermen en coliseos."),
        ("Así amaneció Tienditas el primer día de paso peatonal", ""),
        ("Ejército cierra trochas en Ragonvalia", "Los pasos eran usados para sacar ganado."),
        # Contraband that "floods" a market is no flood; a border patrol is not the US Border Patrol.
        ("Smuggled Venezuelan rice floods Cúcuta's markets", "Millers say prices fell 12%."),
        ("Landmine kills Colombian soldiers on a Venezuelan border patrol", "The army blamed the ELN."),
    ],
)
def test_on_beat_in_english_and_spanish(catalog: TopicCatalog, title: str, summary: str) -> None:
    result = detect(entry(title, summary), catalog)
    assert result.relevant, result
    assert result.topics[0] == BEAT
    assert result.matched and not result.excluded_by


@pytest.mark.parametrize(
    ("kind", "title", "summary"),
    [
        (
            "venezuela oil",
            "Venezuela's oil exports climb as Chevron ships more crude",
            "PDVSA also sent cargoes to India.",
        ),
        (
            "venezuela elections",
            "Venezuela sets date for regional elections",
            "The opposition has not decided.",
        ),
        (
            "essequibo",
            "Venezuela deploys troops near Guyana border as Essequibo dispute flares",
            "Brazil and Colombia called for calm.",
        ),
        (
            "brazil border",
            "Venezuelan migrants crowd Brazil border town of Pacaraima",
            "Many said they had first tried to settle in Colombia.",
        ),
        (
            "colombia only",
            "Colombian army kills 7 dissidents in Cauca bombing",
            "The FARC dissidents attacked police.",
        ),
        ("us-mexico", "Border Patrol sees fewer Venezuelan and Colombian migrants at US-Mexico border", ""),
        (
            "darien",
            "Venezuelans cross the Darien Gap from Colombia",
            "Panamanian authorities counted fewer migrants.",
        ),
        (
            "football",
            "Colombia beat Venezuela 2-1 in World Cup qualifier",
            "Luis Diaz scored twice; Venezuela's goalkeeper crossed the ball late on.",
        ),
        (
            "business",
            "Latin American stocks rise as Colombia peso gains",
            "Shares rose. Investors bought Venezuela's bonds. Funds saw inflows. Cross-border flows grew.",
        ),
        ("both, no border", "Colombia and Venezuela restore diplomatic ties", "Ministers met in Caracas."),
    ],
)
def test_hard_negatives_stay_out(catalog: TopicCatalog, kind: str, title: str, summary: str) -> None:
    result = detect(entry(title, summary), catalog)
    assert not result.relevant, (kind, result)
    assert result.topics == ()


def test_both_countries_paragraphs_apart_do_not_make_a_border_story(catalog: TopicCatalog) -> None:
    filler = " ".join(f"Sentence number {n} talks about something else." for n in range(5))
    far = entry(
        "Regional round-up", f"Colombia's peso rose. {filler} Venezuela's border with Guyana was calm."
    )
    near = entry("Regional round-up", "Colombia's peso rose. Venezuela's border with Colombia was calm.")
    assert not detect(far, catalog).relevant
    assert detect(near, catalog).relevant


def test_title_counts_with_any_sentence_of_the_body(catalog: TopicCatalog) -> None:
    filler = " ".join(f"Sentence number {n} talks about something else." for n in range(5))
    result = detect(entry("Venezuelan deserters keep arriving", f"{filler} Most reached Colombia."), catalog)
    assert result.relevant


@pytest.mark.parametrize(
    "title",
    [
        "Incendios en la Araucanía obligan a evacuar a 2.000 personas en Colombia",  # not Arauca
        "Una migrante hondureña cruza la frontera con Colombia",  # not Ureña
        "Colombo port draws Indian investment near the border",  # not colombo-venezolana
        "Estadio Atanasio Girardot recibe a venezolanos",  # a stadium, not the bridge
    ],
)
def test_substring_and_name_traps(catalog: TopicCatalog, title: str) -> None:
    result = detect(entry(title), catalog)
    assert not result.relevant, result


def test_accents_and_case_do_not_matter(catalog: TopicCatalog) -> None:
    for place in ("Ureña", "UREÑA", "urena", "Urena"):
        result = detect(entry(f"Cierran comercios en {place}"), catalog)
        assert result.relevant and "Ureña" in result.matched


def test_explains_with_the_terms_as_written_in_the_rules(catalog: TopicCatalog) -> None:
    result = detect(entry("Venezolanos cruzan la FRONTERA hacia Cúcuta"), catalog)
    assert result.relevant
    assert {"venezolan*", "frontera", "Cúcuta"} <= set(result.matched)


def test_exclusion_is_reported(catalog: TopicCatalog) -> None:
    result = detect(
        entry(
            "Venezuelan migrants cross Colombia toward the Darien Gap",
            "Border officials in Necocli counted them.",
        ),
        catalog,
    )
    assert not result.relevant
    assert any(reason.startswith("the Darién") for reason in result.excluded_by)
    assert result.matched  # the evidence that would have fired is still shown


def test_exclusion_yields_to_a_place_on_the_border(catalog: TopicCatalog) -> None:
    result = detect(
        entry(
            "Fans cross the Simón Bolívar bridge for the Vinotinto match",
            "The goalkeeper and striker travelled too.",
        ),
        catalog,
    )
    assert result.relevant


def test_subtopics_only_when_on_the_beat(catalog: TopicCatalog) -> None:
    on = detect(entry("Venezuelan soldiers desert and cross into Colombia at the border"), catalog)
    assert on.topics[0] == BEAT and "military-deserters" in on.topics
    off = detect(entry("Venezuelan soldiers parade in Caracas"), catalog)
    assert off.topics == ()


def test_language_selects_terms(catalog: TopicCatalog) -> None:
    # "border" is an English term: in a Spanish entry it is not evidence...
    text = (
        "Venezuela and Colombia: a long report on what happens at the border, with many more details to come."
    )
    assert len(text) >= MIN_CHARS_FOR_LANGUAGE
    assert detect(entry(text, language="en"), catalog).relevant
    assert not detect(entry(text, language="es"), catalog).relevant


def test_short_headline_uses_every_term(catalog: TopicCatalog) -> None:
    # ...but a bare headline is too short to trust its language guess.
    headline = "Venezuelan refugees in Colombia face xenophobia"
    assert len(headline) < MIN_CHARS_FOR_LANGUAGE
    assert detect(entry(headline, language="es"), catalog).relevant


RURITANIA = """
[beat]
name = "ruritania"
[beat.groups.place]
any = ["Strelsau"]
[beat.groups.flood]
en = ["flood*"]
[[beat.rules]]
name = "floods in the capital"
all = ["place", "flood"]
"""


def ruritania(tmp_path: Path, exclusion: str) -> TopicCatalog:
    """A one-rule topics file (floods in Strelsau) with the given `[[beat.exclude]]` table, loaded."""
    path = tmp_path / "topics.toml"
    path.write_text(f"{RURITANIA}[[beat.exclude]]\n{exclusion}", encoding="utf-8")
    return load_topics(path)


def test_rules_come_from_the_file(tmp_path: Path) -> None:
    catalog = ruritania(tmp_path, 'name = "sport"\nterms = ["football"]\n')
    assert detect(entry("Flooding in Strelsau", language="en"), catalog).relevant
    assert not detect(entry("Strelsau prepares", language="en"), catalog).relevant
    vetoed = detect(entry("Floods hit Strelsau football ground", language="en"), catalog)
    assert not vetoed.relevant and vetoed.excluded_by == ("sport: football",)


def test_subtopic_needs_the_lead_or_several_terms(catalog: TopicCatalog) -> None:
    filler = " ".join(f"Sentence number {n} says something else." for n in range(4))
    lead = "Venezuelan soldiers crossed the border into Colombia on Monday."
    once_late = detect(entry("Soldiers cross into Colombia", f"{lead} {filler} Some asked for aid."), catalog)
    assert once_late.relevant and "humanitarian-aid" not in once_late.topics
    in_title = detect(entry("Aid for soldiers who crossed into Colombia", f"{lead} {filler}"), catalog)
    assert "humanitarian-aid" in in_title.topics
    several = detect(
        entry("Soldiers cross into Colombia", f"{lead} {filler} Food and medicine ran out."), catalog
    )
    assert "humanitarian-aid" in several.topics


@pytest.mark.parametrize(
    ("why", "title", "summary"),
    [
        ("a crossing verb in a border town is not the border",
         "Motociclista muere al cruzar la avenida en Cúcuta",
         "El accidente ocurrió en el cruce de la avenida Libertadores con la calle 10."),
        ("Colombia only on the way to a third country", "Venezuelan migrants in Peru protest new visa rules",
         "Many crossed Colombia and Ecuador to reach Lima."),
        ("a sports transfer", "Venezuelan baseball star signs with Colombian league team",
         "The shortstop crossed over from the Venezuelan league."),
        ("the US border, not ours", "Venezuelan and Colombian migrants stranded in Mexico",
         "They hope to cross the border into the United States."),
    ],
)  # fmt: skip
def test_general_traps_stay_out(catalog: TopicCatalog, why: str, title: str, summary: str) -> None:
    result = detect(entry(title, summary), catalog)
    assert not result.relevant, (why, result)


def test_spanish_el_paso_is_not_the_texas_city(catalog: TopicCatalog) -> None:
    result = detect(
        entry(
            "Venezuela anuncia la reapertura total de la frontera con Colombia",
            "La medida permitirá el paso de vehículos particulares por los puentes del Táchira.",
        ),
        catalog,
    )
    assert result.relevant and not result.excluded_by


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Deportivo Táchira vence a Cúcuta Deportivo en amistoso", ""),
        ("Cúcuta Deportivo ficha a un delantero venezolano", "El club anunció el fichaje el lunes."),
        ("Águilas del Zulia contratan a un lanzador colombiano", ""),
        ("Cúcuta Deportivo y Deportivo Táchira igualan en el clásico fronterizo", ""),
        ("Colombia y Venezuela jugarán un amistoso en Cúcuta", "Será el 5 de junio."),
        ("Deportivo Tachira beat Cucuta Deportivo in a friendly", "Both clubs rested their starters."),
    ],
)
def test_club_names_and_matches_are_sport_not_the_border(
    catalog: TopicCatalog, title: str, summary: str
) -> None:
    result = detect(entry(title, summary), catalog)
    assert not result.relevant, result
    assert result.excluded_by


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Hinchas del Deportivo Táchira quedan varados en el puente Simón Bolívar",
            "La Guardia Nacional cerró el paso por dos horas.",
        ),
        (
            "Cúcuta Deportivo stadium turned into a shelter for Venezuelan migrants",
            "Hundreds of Venezuelans who crossed into Colombia through illegal trails slept there, "
            "officials in Cúcuta said.",
        ),
    ],
)
def test_a_club_named_in_passing_does_not_hide_a_border_story(
    catalog: TopicCatalog, title: str, summary: str
) -> None:
    # With the club names blanked out, a rule still holds: the story has a border signal of its own.
    result = detect(entry(title, summary), catalog)
    assert result.relevant, result


@pytest.mark.parametrize(
    "title",
    [
        "Colombia cerrará fronteras del 7 al 9 de marzo por elecciones",
        "Colombia closes its land borders ahead of the presidential vote",
        "Venezuela reabre sus fronteras tras las elecciones regionales",
    ],
)
def test_a_side_closing_or_reopening_its_border_is_on_the_beat(catalog: TopicCatalog, title: str) -> None:
    result = detect(entry(title), catalog)
    assert result.relevant, result


@pytest.mark.parametrize(
    "title",
    [
        "Colombia cierra la frontera con Ecuador por elecciones",
        "Ecuador cierra su frontera con Colombia",
        "Venezuela cierra la frontera con Brasil en Pacaraima",
        "Colombia closes airports for the vote",
        "Colombia cierra campaña electoral; Petro visita la frontera sur",
        # A demonym is not the side acting: the US closing its border to Venezuelans is not our border.
        "Trump closes the border to Venezuelan migrants",
        "Trump cierra la frontera a los migrantes venezolanos",
    ],
)
def test_other_closures_stay_out(catalog: TopicCatalog, title: str) -> None:
    assert not detect(entry(title), catalog).relevant


def test_mask_exclusion_comes_from_the_file(tmp_path: Path) -> None:
    catalog = ruritania(tmp_path, 'name = "clubs"\nterms = ["Strelsau Floods FC"]\nmask = true\n')
    club = detect(entry("Strelsau Floods FC win the cup", language="en"), catalog)
    assert not club.relevant and club.excluded_by == ("clubs: Strelsau Floods FC",)
    both = detect(entry("Strelsau Floods FC fans help as flooding hits Strelsau", language="en"), catalog)
    assert both.relevant


@pytest.mark.parametrize("odd", ["\x00", "µ", "½", "…", "€"])
def test_characters_that_take_the_slow_folding_paths_change_nothing(catalog: TopicCatalog, odd: str) -> None:
    title = "Colombia says 326 Venezuelan army deserters since Saturday"
    summary = "326 members of Venezuela's armed forces have deserted and crossed the border into Colombia."
    plain = detect(entry(title, summary, language="en"), catalog)
    odd_one = detect(entry(title, f"{summary} {odd} Another sentence {odd}here.", language="en"), catalog)
    assert odd_one == plain


def test_another_border_where_migrants_go_next_does_not_veto_this_one(catalog: TopicCatalog) -> None:
    onward = entry(
        "Venezuelan crossings through Cucuta trails climb to 2,000 a day",
        "Roughly 2,000 Venezuelans a day are entering Colombia through informal crossings known as trochas "
        "near Cucuta, aid workers said. A bus ticket to the Ecuadorian border costs about $85.",
    )
    assert detect(onward, catalog).relevant
    rumichaca = entry(
        "Truckers lift blockade at Colombia's Ecuadorian border",
        "Cargo traffic resumed across the Rumichaca bridge between Ipiales and Tulcan after Ecuadorean "
        "truckers lifted a blockade, Colombia's customs agency said; Venezuelan migrants were stranded.",
    )
    assert not detect(rumichaca, catalog).relevant


@pytest.mark.parametrize(
    ("exclusion", "title", "summary"),
    [
        (
            "natural hazards",
            "Strong earthquake rattles Cúcuta and Venezuela's San Cristóbal",
            "The magnitude 5.9 quake, centered in Norte de Santander, was felt across the border in Táchira "
            "state; no casualties were reported.",
        ),
        (
            "natural hazards",
            "Temporal deja cientos de damnificados en Maracaibo y La Guajira",
            "Las lluvias torrenciales inundaron barrios de Maracaibo y de Maicao, en Colombia.",
        ),
        (
            "sport and festivities in a border town",
            "Ciclista colombiano gana la etapa en San Cristóbal, Táchira",
            "El corredor colombiano se impuso en el esprint de la tercera etapa de la vuelta ciclística.",
        ),
        (
            "sport and festivities in a border town",
            "Thousands attend music festival in Cúcuta with Venezuelan and Colombian bands",
            "The three-day festival at the city's stadium drew fans from both countries.",
        ),
        (
            "nationwide measures for migrants",
            "Colombia opens nationwide registration of Venezuelan migrants for work permits",
            "Migration Colombia said Venezuelans living anywhere in the country can sign up online.",
        ),
        # A closing word alone does not lift these exclusions: a festival's "cierre" is its end, and the end
        # of a registration is not the border closing.
        (
            "sport and festivities in a border town",
            "Concierto de salsa reúne a 20.000 personas en Táchira",
            "Orquestas colombianas tocaron en el cierre del festival de verano.",
        ),
        (
            "sport and festivities in a border town",
            "Colombiano gana el clásico ciclístico del Táchira",
            "El pedalista se impuso en la llegada a La Grita tras escaparse en el ascenso final.",
        ),
        (
            "nationwide measures for migrants",
            "Migración Colombia anuncia el cierre del registro del PPT para venezolanos",
            "Los migrantes podrán inscribirse hasta el viernes en todo el país.",
        ),
        # "Línea limítrofe" is the border itself, not a matter of it.
        (
            "natural hazards",
            "Lluvias dejan damnificados en Táchira",
            "Unas 200 familias resultaron afectadas a ambos lados de la línea limítrofe.",
        ),
        # A border town on the line (Ureña, San Antonio del Táchira) named is not enough to lift them.
        (
            "natural hazards",
            "Aguacero anega barrios de Cúcuta y Ureña",
            "Unas 150 viviendas resultaron afectadas durante la madrugada.",
        ),
        (
            "sport and festivities in a border town",
            "Colombian rider takes the Vuelta al Táchira lead in San Antonio del Táchira",
            "He finished alone after the last climb.",
        ),
        (
            "sport and festivities in a border town",
            "The border city of Cúcuta hosts the national youth games",
            "Some 3,000 athletes are expected from every region.",
        ),
        (
            "nationwide measures for migrants",
            "Colombia amplía el Permiso Especial de Permanencia para migrantes venezolanos",
            "Podrán tramitarlo en cualquier ciudad del país.",
        ),
    ],
)
def test_events_that_only_happen_near_the_border_stay_out(
    catalog: TopicCatalog, exclusion: str, title: str, summary: str
) -> None:
    result = detect(entry(title, summary), catalog)
    assert not result.relevant
    assert any(reason.startswith(f"{exclusion}:") for reason in result.excluded_by)


def test_a_disaster_that_sends_aid_across_a_crossing_stays_on_the_beat(catalog: TopicCatalog) -> None:
    result = detect(
        entry(
            "Colombian aid for flood victims crosses into Zulia through Paraguachón",
            "Twelve trucks with food for families hit by the floods crossed the border at Paraguachón.",
        ),
        catalog,
    )
    assert result.relevant


def test_an_armed_group_in_a_colombian_border_region_is_on_the_beat(catalog: TopicCatalog) -> None:
    result = detect(
        entry(
            "ELN ataca con explosivos la estación de policía de Tibú",
            "La guerrilla atacó la estación en la madrugada; dos policías resultaron heridos en el "
            "Catatumbo.",
        ),
        catalog,
    )
    assert result.relevant
    assert not result.excluded_by


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        # Violence away from the border region stays out, as does crime in it.
        ("Car bomb explodes outside a police station in Cali", "Three officers were wounded in the bombing."),
        (
            "Asaltan una joyería en el centro de Cúcuta",
            "Los ladrones se llevaron relojes y cadenas; la policía busca a tres hombres.",
        ),
        (
            "Asaltan un banco en el centro de Cúcuta",
            "Cuatro hombres armados se llevaron el dinero de las cajas.",
        ),
        # Araucanía is in Chile: the Arauca terms are whole words.
        ("Fighting between police and protesters in Chile's Araucanía", "Two officers were injured."),
    ],
)
def test_violence_away_from_the_border_or_crime_in_it_stays_out(
    catalog: TopicCatalog, title: str, summary: str
) -> None:
    assert not detect(entry(title, summary), catalog).relevant


def test_an_unless_entry_joined_with_plus_needs_every_group(tmp_path: Path) -> None:
    catalog = ruritania(
        tmp_path,
        'name = "sport"\nterms = ["football"]\nunless = ["bridge+closed"]\n'
        '[beat.groups.bridge]\nen = ["bridge"]\n[beat.groups.closed]\nen = ["closed"]\n',
    )
    one_group = [
        "Floods hit Strelsau football ground by the bridge",
        "Strelsau football ground closed by flood",
    ]
    for title in one_group:
        assert not detect(entry(title, language="en"), catalog).relevant, title
    both = detect(entry("Floods leave Strelsau bridge closed to football fans", language="en"), catalog)
    assert both.relevant and not both.excluded_by


def test_a_group_counts_the_terms_of_the_groups_it_names_in_also(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(
        RURITANIA.replace('en = ["flood*"]', 'en = ["flood*"]\nalso = ["storm"]')
        + '[beat.groups.storm]\nen = ["gale"]\n',
        encoding="utf-8",
    )
    catalog = load_topics(path)
    assert detect(entry("Gale hits Strelsau", language="en"), catalog).relevant
    assert detect(entry("Flood hits Strelsau", language="en"), catalog).relevant
    unknown = RURITANIA.replace('en = ["flood*"]', 'en = ["flood*"]\nalso = ["storms"]')
    path.write_text(unknown, encoding="utf-8")
    with pytest.raises(TopicsFileError, match="unknown group 'storms'"):
        load_topics(path)


def test_an_unless_entry_names_known_groups_only(tmp_path: Path) -> None:
    with pytest.raises(TopicsFileError, match="unknown group 'brige'"):
        ruritania(tmp_path, 'name = "sport"\nterms = ["football"]\nunless = ["place+brige"]\n')


def test_the_border_closing_for_a_carnival_stays_on_the_beat(catalog: TopicCatalog) -> None:
    result = detect(
        entry(
            "Venezuela cierra la frontera con Colombia durante el carnaval",
            "El paso por los puentes del Táchira quedará suspendido tres días.",
        ),
        catalog,
    )
    assert result.relevant and not result.excluded_by
