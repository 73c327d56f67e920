"""Summaries: the cleaned lead, at most 300 characters, in the article's own words, never boilerplate."""

from __future__ import annotations

from stories.summarize import MAX_SUMMARY_CHARS, summarize
from tests.conftest import CORPUS

REFERENCE = CORPUS / "reference" / "000_5eee94eb242c2621.txt"
TITLE = "Colombia says 326 Venezuelan army deserters since Saturday"


def test_reference_summary_is_the_lead_sentence_without_boilerplate() -> None:
    summary = summarize(REFERENCE.read_text(encoding="utf-8"), TITLE)
    assert summary.startswith("A total of 326 members of Venezuela's armed forces have deserted")
    assert len(summary) <= MAX_SUMMARY_CHARS
    assert "Connect with us" not in summary
    assert "World" not in summary.split()[:2]


def test_sentences_are_added_while_they_fit() -> None:
    body = " ".join(f"Sentence number {index} about the border crossing at Cúcuta." for index in range(20))
    summary = summarize(body, "")
    assert len(summary) <= MAX_SUMMARY_CHARS
    assert summary.endswith("Cúcuta.")
    assert summary.count("Sentence number") > 1
    assert len(summary) + len(" Sentence number 10 about the border crossing at Cúcuta.") > MAX_SUMMARY_CHARS


def test_a_long_first_sentence_is_cut_on_a_word_with_an_ellipsis() -> None:
    body = "La ayuda humanitaria " + "llegó a Cúcuta y " * 40 + "fin."
    summary = summarize(body, "")
    assert len(summary) <= MAX_SUMMARY_CHARS
    assert summary.endswith("…")
    assert summary.startswith("La ayuda humanitaria llegó")


def test_spanish_text_stays_spanish_and_the_headline_is_not_repeated() -> None:
    title = "Desertan 326 militares venezolanos"
    body = (
        f"{title}\n\nUn total de 326 miembros de la Fuerza Armada desertaron hacia Colombia desde el sábado."
    )
    assert summarize(body, title) == (
        "Un total de 326 miembros de la Fuerza Armada desertaron hacia Colombia desde el sábado."
    )


def test_teaser_without_prose_falls_back_to_the_title() -> None:
    assert summarize("Share this article\n\nConnect with us", "Border reopens") == "Border reopens"


def test_a_long_paragraph_gives_the_sentences_that_fit_and_skips_the_headline() -> None:
    title = "The bridge reopened to trucks on Monday morning"
    sentences = [
        f"Sentence number {n} tells one more fact about the crossing at the bridge." for n in range(30)
    ]
    body = f"{title}.\n" + " ".join(sentences)
    summary = summarize(body, title, clean=False)
    assert summary == " ".join(sentences[:4])
    assert len(summary) <= MAX_SUMMARY_CHARS
