"""Story matching decisions: fingerprints, same facts across languages, figure changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stories.cluster import (
    StoryFacts,
    facts_match,
    facts_score,
    figure_changes,
    may_update,
    merge_figures,
    within_window,
)
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
    assert not may_update(NOW + timedelta(days=3), NOW, old, new)
    assert may_update(NOW + timedelta(days=3), NOW, old, old)  # a late copy is still a copy


def test_one_shared_round_number_is_a_coincidence_one_odd_number_is_not() -> None:
    story = StoryFacts((fig(300, "Venezuelans a day"),), STORY_NAMES, NOW)
    assert not facts_match([fig(300, "soldados")], STORY_NAMES, NOW + timedelta(hours=1), story)
    odd = StoryFacts((fig(11, "bodies"),), STORY_NAMES, NOW)
    assert facts_match([fig(11, "cuerpos")], STORY_NAMES, NOW + timedelta(hours=1), odd)
