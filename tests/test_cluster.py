"""Story matching decisions: fingerprints, same facts across languages, figure changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stories.cluster import (
    SAME_FACTS_SCORE,
    StoryFacts,
    day_mentions,
    facts_match,
    facts_score,
    lead_signals,
    may_update,
    name_keys,
    score_facts,
    within_window,
)
from stories.figure_match import consistent, figure_changes, merge_figures
from stories.fingerprint import (
    band_keys,
    minhash,
    minhash_bytes,
    minhash_from_bytes,
    names,
    similarity,
    text_hash,
)
from stories.model import KeyFigure

LEAD = (
    "A total of 326 members of Venezuela's armed forces have deserted embattled President Nicolas Maduro and "
    "crossed the border into Colombia since Saturday, Bogota's migration service said Tuesday. Most of the "
    "deserting soldiers slipped into Colombia in the same area as the main border crossing blocked by "
    "Venezuela's military, Migration Colombia said."
)
NOW = datetime(2019, 2, 26, 18, tzinfo=UTC)


def fig(value: float, what: str, unit: str | None = None) -> KeyFigure:
    return KeyFigure(value=value, text=str(value), what=what, unit=unit)


REFERENCE_FIGURES = (
    fig(326, "members of Venezuela's armed forces"),
    fig(20, "deserters"),
    fig(50, "countries"),
    fig(365_000, "members of Venezuela's armed forces"),
    fig(1_600_000, "civilians in the colectivos"),
)


def test_text_hash_ignores_case_punctuation_and_quotes() -> None:
    assert text_hash("Title", 'He said "no".') == text_hash("title", "He said “no”")
    assert text_hash("Title", "He said no.") != text_hash("Title", "He said yes.")


def test_republication_with_new_headline_and_credit_line_is_a_near_copy() -> None:
    original = minhash("Colombia says 326 Venezuelan army deserters", LEAD)
    copy = minhash("326 soldiers flee Venezuela", LEAD + " (Reporting by AFP; republished with permission.)")
    other = minhash(
        "Oil output falls", "Venezuela's oil output fell again in January, OPEC data showed. " * 3
    )
    assert similarity(original, copy) >= 0.5
    assert similarity(original, other) < 0.2
    assert set(band_keys(original)) & set(band_keys(copy))
    assert similarity(original, minhash_from_bytes(minhash_bytes(original))) == 1.0


def test_names_are_folded_cut_to_keys_and_skip_sentence_openers() -> None:
    found = names("Most soldiers reached Cúcuta. The mayor of Cucuta met Juan Guaidó in Venezuela's Bogotá.")
    assert {"cucut", "juan", "guaid", "bogot", "venez"} <= found
    assert "most" not in found and "the" not in found
    assert names("The Venezuelan troops.") & names("Troops left Venezuela.") == {"venez"}


STORY_NAMES = names("Maduro said Venezuela and Colombia met in Cucuta. Kruger of Migration Colombia spoke.")


def test_translation_matches_on_figures_and_names() -> None:
    story = StoryFacts(REFERENCE_FIGURES, STORY_NAMES, NOW)
    spanish = [fig(326, "miembros de la Fuerza Armada"), fig(20, "desertores"), fig(365_000, "miembros")]
    spanish_names = names("Según Migración Colombia, Venezuela y Maduro; Kruger habló en Cúcuta.")
    assert facts_match(spanish, spanish_names, NOW + timedelta(hours=2), story)
    assert facts_score(spanish, spanish_names, NOW, story) > facts_score(spanish, frozenset(), NOW, story)


def test_same_topic_different_event_stays_apart() -> None:
    story = StoryFacts(REFERENCE_FIGURES, STORY_NAMES, NOW)
    next_day = [fig(100, "soldiers"), fig(411, "deserters in total"), fig(365_000, "members")]
    assert not facts_match(next_day, STORY_NAMES, NOW + timedelta(days=1), story)
    # Nothing shared: no amount of shared names is enough.
    unrelated = [fig(14, "people injured"), fig(200, "protesters")]
    assert facts_score(unrelated, STORY_NAMES, NOW, story) == 0.0


def test_small_counts_alone_need_names_and_timing() -> None:
    story = StoryFacts(
        (fig(3, "guardsmen"), fig(2, "armoured vehicles")), names("Guard left Simon Bolivar."), NOW
    )
    translation = [fig(3, "guardias"), fig(2, "vehículos")]
    same_names = names("Guardia cruzó el puente Simón Bolívar de Colombia.")
    assert facts_match(translation, same_names, NOW + timedelta(hours=1), story)
    assert not facts_match(translation, frozenset(), NOW + timedelta(days=2), story)


def test_a_later_count_of_the_same_thing_matches_as_an_update() -> None:
    story = StoryFacts((fig(326, "members of the armed forces"), fig(20, "deserters")), STORY_NAMES, NOW)
    update = [fig(411, "members of the armed forces"), fig(20, "deserters")]
    assert facts_match(update, STORY_NAMES, NOW + timedelta(hours=20), story)


def test_a_revised_count_is_a_change_and_unchanged_figures_are_not() -> None:
    revised = (fig(411, "members of Venezuela's armed forces"), *REFERENCE_FIGURES[1:])
    changes = figure_changes(REFERENCE_FIGURES, revised)
    assert [(c.old.value, c.new.value) for c in changes if c.old and c.new] == [(326, 411)]
    merged = merge_figures(REFERENCE_FIGURES, changes)
    assert [f.value for f in merged] == [411, 20, 50, 365_000, 1_600_000]
    assert figure_changes(REFERENCE_FIGURES, REFERENCE_FIGURES) == ()


def test_the_old_value_quoted_for_context_does_not_hide_the_revision() -> None:
    # "411 members ..., up from 326 a day earlier": 326 appears again, but it no longer counts the members.
    revised = (
        fig(411, "members of Venezuela's armed forces"),
        fig(326, "day earlier"),
        *REFERENCE_FIGURES[1:],
    )
    changes = figure_changes(REFERENCE_FIGURES, revised)
    assert [(c.old.value, c.new.value) for c in changes if c.old and c.new] == [(326, 411)]


def test_an_extra_figure_or_an_implausible_jump_is_not_a_change() -> None:
    assert figure_changes(REFERENCE_FIGURES, (*REFERENCE_FIGURES, fig(12, "journalists", None))) == ()
    jump = (fig(20, "deserters"),)
    assert figure_changes(jump, (fig(411, "deserters"), fig(5, "officers"))) == ()


def test_window_is_symmetric() -> None:
    assert within_window(NOW, NOW + timedelta(days=1))
    assert within_window(NOW + timedelta(days=1), NOW)
    assert not within_window(NOW, NOW + timedelta(days=30))


def test_revised_figures_update_a_story_only_while_it_is_fresh() -> None:
    old = (fig(326, "members of the armed forces"), fig(20, "deserters"))
    new = (fig(411, "members of the armed forces"), fig(20, "deserters"))
    assert may_update(NOW + timedelta(hours=6), NOW, old, new)
    assert may_update(NOW + timedelta(hours=42), NOW, old, new)  # a toll still rising two days on
    assert not may_update(NOW + timedelta(days=3, hours=1), NOW, old, new)
    assert may_update(NOW + timedelta(days=3, hours=1), NOW, old, old)  # a late copy is still a copy


def test_one_shared_round_number_is_a_coincidence_one_odd_number_is_not() -> None:
    story = StoryFacts((fig(300, "Venezuelans a day"),), STORY_NAMES, NOW)
    assert not facts_match([fig(300, "soldados")], STORY_NAMES, NOW + timedelta(hours=1), story)
    odd = StoryFacts((fig(11, "bodies"),), STORY_NAMES, NOW)
    assert facts_match([fig(11, "cuerpos")], STORY_NAMES, NOW + timedelta(hours=1), odd)


# --- cross-language and cross-outlet evidence: one figure, names, days, topics --------------------------


def q(value: float, text: str, what: str) -> KeyFigure:
    return KeyFigure(value=value, text=text, what=what)


def test_one_large_figure_with_shared_names_and_day_is_the_same_story() -> None:
    english = "Ecuador will register some 2.3 million people, Minister Ana Lema said Friday in Quito."
    spanish = (
        "Ecuador registrará a unos 2,3 millones de personas, dijo el viernes en Quito la ministra Ana Lema."
    )
    story = StoryFacts(
        (q(2_300_000, "some 2.3 million", "people"),), names(english), NOW, day_mentions(english)
    )
    translation = [q(2_300_000, "unos 2,3 millones", "personas")]
    when = NOW + timedelta(hours=2)
    assert facts_match(translation, names(spanish), when, story, days=day_mentions(spanish))
    # The same figure with nothing else in common is not enough.
    assert not facts_match(translation, frozenset(), NOW + timedelta(days=2), story)


def test_a_round_count_needs_the_same_day_and_places() -> None:
    sunday = "At least 30 Venezuelan guardsmen crossed the Santander bridge into Villa del Rosario on Sunday."
    story = StoryFacts(
        (q(30, "At least 30", "Venezuelan guardsmen"),), names(sunday), NOW, day_mentions(sunday)
    )
    domingo = (
        "Al menos 30 guardias venezolanos cruzaron el puente Santander hacia Villa del Rosario el domingo."
    )
    same = [q(30, "Al menos 30", "guardias venezolanos")]
    assert facts_match(same, names(domingo), NOW + timedelta(hours=1), story, days=day_mentions(domingo))
    # Another 30 guardsmen at the same bridge on another day: another event.
    tuesday = (
        "Another 30 Venezuelan guardsmen crossed the Santander bridge into Villa del Rosario on Tuesday."
    )
    other = [q(30, "30", "Venezuelan guardsmen")]
    assert not facts_match(other, names(tuesday), NOW + timedelta(hours=1), story, days=day_mentions(tuesday))
    # The same value counting another thing ("30 trucks") is no shared figure at all.
    trucks = [q(30, "At least 30", "trucks")]
    assert facts_score(trucks, names(sunday), NOW, story, days=day_mentions(sunday)) == 0.0


def test_names_alone_match_a_translation_without_figures_only_on_the_same_topic() -> None:
    english = (
        "Colombia and Venezuela reopened the Atanasio Girardot bridge between Arauca and El Amparo on Friday."
    )
    spanish = (
        "Colombia y Venezuela reabrieron el viernes el puente Atanasio Girardot entre Arauca y El Amparo."
    )
    story = StoryFacts((), names(english), NOW, day_mentions(english))
    when = NOW + timedelta(hours=1)
    assert facts_match([], names(spanish), when, story, days=day_mentions(spanish))
    assert not facts_match([], names(spanish), when, story, days=day_mentions(spanish), same_topic=False)
    # The countries alone are named by every story of the beat.
    assert not facts_match([], names("Colombia y Venezuela."), when, story)


def test_accents_case_and_english_spanish_names_fold_to_the_same_keys() -> None:
    english = names(
        "A statement by Migration Colombia on the Simon Bolivar bridge near Cucuta, Ivan Duque said."
    )
    spanish = names(
        "Un comunicado de Migración Colombia sobre el puente Simón Bolívar cerca de CÚCUTA, dijo Iván Duque."
    )
    assert {"migra", "simon", "boliv", "ivan", "duque"} <= english & spanish
    assert day_mentions("llegaron el sábado y el Miércoles") == day_mentions("arrived on Saturday, Wednesday")


def test_name_keys_are_per_day_and_skip_the_beats_countries() -> None:
    day_keys = name_keys(frozenset({"cucut", "venez"}), NOW)
    assert len(day_keys) == 1  # "venez" gets no key
    assert set(day_keys) <= set(name_keys(frozenset({"cucut"}), NOW + timedelta(hours=20), 1))
    assert not set(day_keys) & set(name_keys(frozenset({"cucut"}), NOW + timedelta(days=3), 1))


# --- updates: differently worded labels pair, different quantities do not, vaguer figures are no change --


def test_a_revision_pairs_across_differently_worded_labels() -> None:
    old = (q(326, "326", "members of Venezuela's armed forces"), q(20, "at least 20", "deserters"))
    for label in ("Venezuelan military personnel", "troops", "efectivos venezolanos", "soldados"):
        changes = figure_changes(old, (q(411, "411", label),))
        assert [(c.old.value, c.new.value) for c in changes if c.old and c.new] == [(326, 411)], label


def test_different_quantities_do_not_pair_however_close() -> None:
    old = (q(326, "326", "members of the armed forces"),)
    assert figure_changes(old, (q(340, "340", "migrants"),)) == ()
    assert figure_changes(old, (q(340, "340", "trucks"), q(60, "60", "children"))) == ()
    assert figure_changes((q(1_200, "1,200", "families"),), (q(1_350, "1,350", "tons of food"),)) == ()


def test_a_vaguer_or_rounded_figure_consistent_with_the_story_is_no_change() -> None:
    story = (q(326, "326", "members of Venezuela's armed forces"),)
    assert figure_changes(story, (q(300, "More than 300", "members of Venezuela's armed forces"),)) == ()
    assert figure_changes(story, (q(300, "más de 300", "militares venezolanos"),)) == ()
    updated = (q(411, "411", "deserters"),)
    assert figure_changes(updated, (q(400, "about 400", "deserters"),)) == ()
    assert figure_changes(updated, (q(400, "unos 400", "desertores"),)) == ()
    # A precise value that differs is a change; so is a bound the current value breaks.
    assert figure_changes(updated, (q(452, "452", "deserters"),))
    assert figure_changes(updated, (q(500, "more than 500", "deserters"),))
    assert consistent(q(300, "over 300", "x"), q(326, "326", "x"))
    assert not consistent(q(300, "300", "x"), q(326, "326", "x"))
    assert not consistent(q(300, "fewer than 300", "x"), q(326, "326", "x"))


def test_a_raised_bound_is_a_revision_not_the_same_figure() -> None:
    old = (q(326, "At least 326", "members of Venezuela's armed forces"),)
    new = (q(411, "At least 411", "members of Venezuela's armed forces"),)
    assert not consistent(old[0], new[0])
    assert [(c.old.value, c.new.value) for c in figure_changes(old, new) if c.old and c.new] == [(326, 411)]


def test_a_vaguer_rewrite_still_matches_the_story() -> None:
    lead = "Migration Colombia said on Tuesday, citing director Christian Kruger in Cucuta."
    story = StoryFacts((q(1_243, "1,243", "Venezuelan children"),), names(lead), NOW, day_mentions(lead))
    vague = [q(1_200, "More than 1,200", "Venezuelan children")]
    assert facts_match(vague, names(lead), NOW + timedelta(hours=3), story, days=day_mentions(lead))


def test_next_days_count_at_the_same_places_is_not_an_update_without_a_figure_in_common() -> None:
    monday = (
        "Aid groups in Maicao gave shelter to 1,150 Venezuelan families on Monday, Migration Colombia said."
    )
    story = StoryFacts((q(1_150, "1,150", "Venezuelan families"),), names(monday), NOW, day_mentions(monday))
    thursday = (
        "Aid groups in Maicao gave shelter to 1,420 Venezuelan families on Thursday, Migration Colombia said."
    )
    later = [q(1_420, "1,420", "Venezuelan families")]
    when = NOW + timedelta(hours=20)
    assert not facts_match(later, names(thursday), when, story, days=day_mentions(thursday))
    # The update that says what it revises ("up from 1,150") joins, though told another day.
    update = [*later, q(1_150, "1,150", "previous count")]
    assert facts_match(update, names(thursday), when, story, days=day_mentions(thursday))


def test_concepts_file_pairs_words_across_languages_and_tells_things_apart() -> None:
    from stories.figure_match import different_things, figure_facts, same_words

    soldados, troops, camiones = figure_facts(
        [fig(20, "soldados venezolanos"), fig(20, "Venezuelan troops"), fig(20, "camiones de carga")]
    )
    assert same_words(soldados, troops)  # no shared stem: only the armed-forces concept pairs them
    assert not same_words(soldados, camiones)
    assert different_things(troops, camiones)


def test_every_concept_word_belongs_to_one_concept() -> None:
    import tomllib
    from collections import Counter

    from stories.figure_match import CONCEPTS_FILE
    from stories.numerals import fold

    data = tomllib.loads(CONCEPTS_FILE.read_text(encoding="utf-8"))
    words = Counter(fold(word) for listed in data["concepts"].values() for word in listed.split())
    assert [word for word, count in words.items() if count > 1] == []
    assert data["background_names"]


CATATUMBO = (
    "More than 9,400 people have fled clashes between ELN guerrillas and FARC dissidents in the Catatumbo "
    "region since Friday, the Norte de Santander governor's office said on Monday; some families crossed "
    "into Zulia. At least 32 people have been killed. The government sent 1,200 troops to Tibu."
)
CATATUMBO_FIGURES = (
    q(9_400, "More than 9,400", "people"),
    q(32, "At least 32", "people killed"),
    q(1_200, "1,200", "troops"),
)


def test_a_follow_up_saying_its_headline_count_rose_is_an_update_though_no_other_figure_recurs() -> None:
    story = StoryFacts(CATATUMBO_FIGURES, names(CATATUMBO), NOW, day_mentions(CATATUMBO))
    follow_up = (
        "The number of people displaced by fighting between the ELN and FARC dissidents in the Catatumbo "
        "region has risen to more than 12,700, the Norte de Santander government said on Tuesday. Venezuela "
        "set up 4 shelters in Zulia. The death toll stood at 36."
    )
    figures = (
        q(12_700, "more than 12,700", "people displaced"),
        q(4, "4", "shelters"),
        q(36, "36", "death toll"),
    )
    entry = StoryFacts(figures, names(follow_up), NOW + timedelta(hours=20), day_mentions(follow_up), True)
    assert updating(follow_up)
    assert score_facts(entry, story) >= SAME_FACTS_SCORE
    # The same figures in a report that does not say its count moved: the next day's own story.
    daily = StoryFacts(figures, names(follow_up), NOW + timedelta(hours=20), day_mentions(follow_up))
    assert score_facts(daily, story) < SAME_FACTS_SCORE
    # Published within the hour and naming another day: another day's event, cue or not.
    soon = NOW + timedelta(minutes=30)
    same_hour = StoryFacts(figures, names(follow_up), soon, day_mentions(follow_up), True)
    assert score_facts(same_hour, story) < SAME_FACTS_SCORE


def updating(text: str) -> bool:
    return lead_signals(text)[1]


def test_update_cues_are_read_in_both_languages_and_a_plain_count_has_none() -> None:
    assert updating("La cifra de desplazados ya suma 12.700, y ascendió a 36 el número de muertos")
    assert updating("Deserters now total 411, up from 326")
    assert not updating("Some 1,420 Venezuelans crossed the Simon Bolivar bridge on Thursday")


def test_the_next_edition_of_a_daily_report_is_its_own_story_however_alike() -> None:
    monday = (
        "Un total de 38.412 personas cruzaron el lunes por el puente internacional Simón Bolívar, entre "
        "Villa del Rosario y San Antonio del Táchira, según el reporte diario de Migración Colombia."
    )
    tuesday = monday.replace("38.412", "41.067").replace("lunes", "martes")
    story = StoryFacts(
        (q(38_412, "38.412", "personas"), q(31_020, "31.020", "con tarjeta de movilidad")),
        names(monday),
        NOW,
        day_mentions(monday),
    )
    figures = (q(41_067, "41.067", "personas"), q(33_380, "33.380", "con tarjeta de movilidad"))
    next_day = StoryFacts(figures, names(tuesday), NOW + timedelta(hours=24), day_mentions(tuesday))
    assert score_facts(next_day, story) == 0.0
    # The same counts in a report saying they rose is the story's update.
    rising = StoryFacts(figures, names(tuesday), NOW + timedelta(hours=24), day_mentions(tuesday), True)
    assert score_facts(rising, story) >= SAME_FACTS_SCORE


def test_a_revised_small_count_is_weaker_evidence_than_a_revised_large_one() -> None:
    lead = "Venezuelan troops destroyed cocaine laboratories in the Sierra de Perija, Zulia, the FANB said."
    when = NOW + timedelta(hours=20)
    small = StoryFacts((q(3, "three", "cocaine laboratories"),), names(lead), NOW)
    large = StoryFacts((q(326, "326", "cocaine laboratories"),), names(lead), NOW)
    assert score_facts(StoryFacts((q(2, "two", "cocaine laboratories"),), names(lead), when), small) < (
        score_facts(StoryFacts((q(411, "411", "cocaine laboratories"),), names(lead), when), large)
    )


def test_a_shared_proportion_is_weak_evidence_like_a_small_count() -> None:
    from stories.fingerprint import is_distinctive

    assert not is_distinctive(q(0.5, "half", "migrants"))
    assert not is_distinctive(q(1 / 3, "One in three", "migrants"))
    assert is_distinctive(KeyFigure(value=0.5, text="0.5%", what="inflation", unit="%"))
    assert is_distinctive(KeyFigure(value=2.5, text="2.5 tonnes", what="cocaine"))
