"""Clean-up: the existing normalisation contract, boilerplate removal and repeated bodies collapsed."""

from __future__ import annotations

import re

import pytest

from stories.cleanup import clean_article, clean_text, collapse_repeats, split_sentences, strip_boilerplate
from tests.conftest import CORPUS

REFERENCE = CORPUS / "reference" / "000_5eee94eb242c2621.txt"


def test_clean_text_repairs_mojibake_entities_and_typography() -> None:
    assert clean_text("CafÃ© in CÃºcuta") == "Café in Cúcuta"
    assert clean_text("Bogot&amp;aacute; &lt;3") == "Bogotá <3"
    assert clean_text("“Quoted” — it’s\u00a0here\u200b") == '"Quoted" - it\'s here'
    assert clean_text("one\n\n\n\ntwo   three") == "one\n\ntwo three"
    assert clean_text(None) == ""


def test_chrome_lines_are_dropped_but_sentences_mentioning_them_stay() -> None:
    text = (
        "Connect with us\n\nShare on Facebook\n\nSíguenos en Twitter\n\n"
        "The mayor said the newsletter of the council would list the crossings.\n\nPublicidad"
    )
    assert strip_boilerplate(text) == "The mayor said the newsletter of the council would list the crossings."


def test_related_links_and_author_bio_are_cut_after_the_body() -> None:
    body = ("Soldiers crossed the Simón Bolívar bridge into Cúcuta on Saturday, officials said. " * 3).strip()
    tail = "Written By\n\nWith 2,400 staff, the agency covers the world.\n\nYou may also like:\n\nOther"
    text = f"{body}\n\n{tail}"
    assert strip_boilerplate(text) == body.strip()


def test_a_teaser_starting_with_a_marker_is_not_thrown_away() -> None:
    assert (
        strip_boilerplate("Related\n\nShort teaser about Cúcuta.") == "Related\n\nShort teaser about Cúcuta."
    )


def test_repeated_sentences_keep_their_first_copy() -> None:
    text = (
        'He said "no" to the plan in Cúcuta today.\n\nAnother fact here about it.\n\n'
        "He said “no” to the plan in Cúcuta today."
    )
    assert (
        collapse_repeats(clean_text(text))
        == 'He said "no" to the plan in Cúcuta today.\n\nAnother fact here about it.'
    )


def test_reference_page_keeps_one_copy_of_the_body_and_no_boilerplate() -> None:
    cleaned = clean_article(REFERENCE.read_text(encoding="utf-8"))
    assert cleaned.count("A total of 326 members of Venezuela's armed forces") == 1
    assert cleaned.count("1.6 million civilians") == 1
    for boilerplate in ("Connect with us", "You may also like", "Written By", "2,400 staff", "Microsoft"):
        assert boilerplate not in cleaned
    assert cleaned.rstrip().endswith('about 1.6 million civilians in the "colectivos."')


def test_line_breaks_of_every_platform_become_newlines() -> None:
    assert clean_text("one\r\n\r\ntwo\rthree\u2028four") == "one\n\ntwo\nthree\nfour"


def test_clean_text_edge_cases_of_the_fast_paths() -> None:
    assert clean_text("a\u2028b") == "a\nb"  # ASCII only once the line break is replaced: controls dropped
    assert clean_text("a\u2028b\x07c") == "a\nbc"
    assert clean_text("  tab\there  ") == "tab here"
    assert clean_text("one line, already clean.") == "one line, already clean."
    assert clean_text("ﬁn de «año»") == 'fin de "año"'
    assert clean_text("x \n\n \n y") == "x\n\ny"


_SENTENCE_END_BY_DEFINITION = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(¿¡]?[A-ZÁÉÍÓÚÑ0-9])")


@pytest.mark.parametrize(
    "paragraph",
    [
        "One. Two! Three? Four… Five",
        'He said "no." Then left. (Really.) [Yes.] 3 more.',
        ".Starts with a mark. And ends with one.",
        "No end mark at all",
        "  spaced   out.   Next one  ",
        "",
        "a.b. C.d",
        "Dos. ¿Tres? ¡Cuatro! Él sí.",
    ],
)
def test_split_sentences_matches_its_definition(paragraph: str) -> None:
    parts = _SENTENCE_END_BY_DEFINITION.split(paragraph)
    assert split_sentences(paragraph) == [part.strip() for part in parts if part.strip()]
