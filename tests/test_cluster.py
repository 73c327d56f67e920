"""Story decisions outside the model: fingerprints, windows, name keys, lead signals, figure changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stories.cluster import (
    lead_signals,
    may_update,
    name_keys,
    within_window,
)
from stories.figure_match import consistent, figure_changes, merge_figures
from stories.fingerprint import (
    band_keys,
    headline_opening_name,
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


def test_signatures_are_datasketchs_minhash_without_importing_it() -> None:
    """The shipped permutations are datasketch's own, so the written-out scheme gives its signatures (and the
    signatures stored by earlier versions stay comparable)."""
    import json
    import zlib

    from datasketch import MinHash

    from stories.fingerprint import NUM_PERM, PERMUTATIONS_FILE, shingles

    reference = MinHash(num_perm=NUM_PERM, seed=1)
    shipped = json.loads(PERMUTATIONS_FILE.read_text(encoding="utf-8"))
    assert shipped["scheme"] == reference.scheme
    assert shipped["a"] == reference.permutations[0].tolist()
    assert shipped["b"] == reference.permutations[1].tolist()
    title = "Colombia says 326 Venezuelan army deserters"
    expected = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=zlib.crc32)
    expected.update_batch(list(shingles(title, LEAD)))
    assert minhash(title, LEAD).tolist() == expected.hashvalues.tolist()
    assert minhash("", "").tolist() == MinHash(num_perm=NUM_PERM, seed=1).hashvalues.tolist()


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


def test_a_headlines_opening_name_is_a_key_though_names_leave_sentence_openers_out() -> None:
    # A rewrite names the place inside its headline that the original opens with: the opener must be a key.
    opener = "Ureña amanece bajo restricción nocturna por violencia en las trochas"
    inside = "Decretan toque de queda en Ureña tras tiroteo en la frontera"
    assert "urena" not in names(opener)
    assert headline_opening_name(opener) == {"urena"} <= names(inside)
    assert headline_opening_name("«Maicao» decreta toque de queda") == {"maica"}
    assert not headline_opening_name("El Vaticano confirma la mediación")  # a function word, not a name
    assert not headline_opening_name("326 desertores cruzan") and not headline_opening_name("")


STORY_NAMES = names("Maduro said Venezuela and Colombia met in Cucuta. Kruger of Migration Colombia spoke.")


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


def q(value: float, text: str, what: str) -> KeyFigure:
    return KeyFigure(value=value, text=text, what=what)


def test_accents_case_and_english_spanish_names_fold_to_the_same_keys() -> None:
    english = names(
        "A statement by Migration Colombia on the Simon Bolivar bridge near Cucuta, Ivan Duque said."
    )
    spanish = names(
        "Un comunicado de Migración Colombia sobre el puente Simón Bolívar cerca de CÚCUTA, dijo Iván Duque."
    )
    assert {"migra", "simon", "boliv", "ivan", "duque"} <= english & spanish
    days = lead_signals("llegaron el sábado y el Miércoles")[0]
    assert days == lead_signals("arrived on Saturday, Wednesday")[0] == {2, 5}


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


def test_concepts_file_pairs_words_across_languages_and_tells_things_apart() -> None:
    from stories.figure_match import different_things, figure_facts, same_words

    soldados, troops, camiones = figure_facts(
        [fig(20, "soldados venezolanos"), fig(20, "Venezuelan troops"), fig(20, "camiones de carga")]
    )
    assert same_words(soldados, troops)  # no shared stem: only the armed-forces concept pairs them
    assert not same_words(soldados, camiones)
    assert different_things(troops, camiones)


@pytest.mark.parametrize(
    ("one", "other", "different"),
    [
        # People counted as people, as "members", as a group or by their state may be one count...
        ("personas", "detenidos", False),
        ("people", "soldiers killed", False),
        ("integrantes", "personas", False),
        ("migrants", "people", False),
        ("soldados", "muertos", False),
        # ...but not two groups, two states, or people and things.
        ("soldiers", "migrants", True),
        ("muertos", "heridos", True),
        ("soldados heridos", "muertos", True),
        ("personas", "camiones", True),
    ],
)
def test_people_may_be_counted_as_a_group_or_a_state(one: str, other: str, different: bool) -> None:
    from stories.figure_match import different_things, figure_facts

    a, b = figure_facts([fig(11, one), fig(11, other)])
    assert different_things(a, b) is different
    assert different_things(b, a) is different


def test_an_injured_count_is_not_revised_by_a_death_toll() -> None:
    # One figure each, close in value: only what they count tells a revision (2 -> 3 soldiers dead) from
    # another count (2 soldiers wounded, then 3 dead).
    changes = figure_changes((fig(2, "soldados heridos"),), (fig(3, "muertos"),))
    assert all(not (c.old and c.new) for c in changes)
    revised = figure_changes((fig(2, "soldados"),), (fig(3, "muertos"),))
    assert [(c.old.value, c.new.value) for c in revised if c.old and c.new] == [(2, 3)]


def test_the_people_concepts_name_concepts_of_the_file(tmp_path: Path) -> None:
    from stories.figure_match import CONCEPTS_FILE, _load_concepts

    text = CONCEPTS_FILE.read_text(encoding="utf-8").replace('generic = ["people"', 'generic = ["peple"', 1)
    broken = tmp_path / "concepts.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="peple"):
        _load_concepts(broken)


def test_every_concept_word_belongs_to_one_concept() -> None:
    import tomllib
    from collections import Counter

    from stories.figure_match import CONCEPTS_FILE
    from stories.folding import fold

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


def updating(text: str) -> bool:
    return lead_signals(text)[1]


def test_update_cues_are_read_in_both_languages_and_a_plain_count_has_none() -> None:
    assert updating("La cifra de desplazados ya suma 12.700, y ascendió a 36 el número de muertos")
    assert updating("Deserters now total 411, up from 326")
    assert not updating("Some 1,420 Venezuelans crossed the Simon Bolivar bridge on Thursday")


def test_a_headline_in_the_present_tense_says_the_count_moved() -> None:
    assert updating("Sube a tres la cifra de militares muertos por una mina en Apure")
    assert updating("Suben a 1.340 los desplazados por combates en Arauquita")
    assert updating("Death toll in Arauquita bombing rises to five")
    assert updating("Deaths in Apure clashes rise to 11")
    assert not updating("Dos militares venezolanos mueren por una mina antipersona en Apure")


def test_an_agencys_update_heading_on_the_title_says_the_story_moved() -> None:
    assert updating("UPDATE 1-Venezuela oil exports revised to 935,000 bpd\nRevised data.")
    assert updating("ACTUALIZA 2-Colombia reabre el paso de Paraguachón\nEl paso volvió a abrir.")
    assert updating("ACTUALIZACIÓN: Ataque en Arauca\nUn puesto fue atacado.")
    assert updating("Bridge reopens to cars (updated)\nCars crossed again.")
    # A word, not a heading; and a heading's words in the lead, not on the title.
    assert not updating("Update on border talks expected Friday\nMinisters meet in Cucuta.")
    assert not updating("Ministers meet in Cucuta\nUPDATE 1- follows.")


def test_a_shared_proportion_is_weak_evidence_like_a_small_count() -> None:
    from stories.fingerprint import is_distinctive

    assert not is_distinctive(q(0.5, "half", "migrants"))
    assert not is_distinctive(q(1 / 3, "One in three", "migrants"))
    assert is_distinctive(KeyFigure(value=0.5, text="0.5%", what="inflation", unit="%"))
    assert is_distinctive(KeyFigure(value=2.5, text="2.5 tonnes", what="cocaine"))


def test_an_update_in_the_other_language_is_told_in_the_storys_words() -> None:
    story = (fig(326, "members of Venezuela's armed forces"), fig(20, "deserters"))
    spanish = (fig(411, "miembros de las fuerzas armadas de Venezuela"), fig(20, "desertores"))
    changes = figure_changes(story, spanish)
    assert [change.describe() for change in changes] == ["members of Venezuela's armed forces: 326 → 411"]
    merged = merge_figures(story, changes)
    assert [(f.value, f.what) for f in merged] == [
        (411, "members of Venezuela's armed forces"),
        (20, "deserters"),
    ]
