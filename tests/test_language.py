"""Language detection: ISO 639-1 codes, the hint for short or unclear text."""

from __future__ import annotations

import re

import pytest

from stories.language import _words, detect_language, normalise_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Colombia says 326 Venezuelan army deserters crossed the border since Saturday", "en"),
        ("Migración Colombia destaca normalidad del flujo migratorio en la frontera con Venezuela", "es"),
        ("Desplazados del Catatumbo cruzan a Venezuela huyendo de los combates", "es"),
        ("Brasil reforça a Operação Acolhida em Roraima com a chegada de venezuelanos", "pt"),
    ],
)
def test_detects_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_short_text_falls_back_to_the_hint() -> None:
    assert detect_language("Cúcuta", hint="es-CO") == "es"
    assert detect_language("Cúcuta") is None


def test_text_outweighs_a_wrong_hint() -> None:
    assert detect_language("Las autoridades informaron que el puente seguirá cerrado", hint="en") == "es"


def test_reads_only_a_prefix() -> None:
    english = (
        "The border crossing reopened on Monday morning after officials from both countries met there. " * 2
    )
    text = english + "Los camiones cruzaron el puente y los conductores esperaron en la frontera. " * 50
    assert detect_language(text) == "en"


@pytest.mark.parametrize(("code", "expected"), [("es-CO", "es"), ("EN_us", "en"), ("", None), (None, None),
                                                ("spanish", None)])  # fmt: skip
def test_normalise_language(code: str | None, expected: str | None) -> None:
    assert normalise_language(code) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Function words settle these without lingua...
        ("The army said that the soldiers were taken to the border by the police", "en"),
        ("Los soldados fueron llevados a la frontera por la policía, según dijo el Ejército", "es"),
        # ...names full of another language's function words must not fool the vote.
        ("Ursula von der Leyen convoca reunión de urgencia ante escalada de conflicto en Irán", "es"),
        # Too few function words: lingua decides.
        ("Desplazados cruzan hacia Venezuela huyendo de combates", "es"),
        ("Hundreds of deserters reach Colombian border town", "en"),
    ],
)
def test_function_word_vote_and_lingua_agree_with_the_text(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_unclear_vote_defers_to_lingua() -> None:
    from stories.language import _vote

    assert _vote("Desplazados cruzan hacia Venezuela") is None
    assert _vote("The soldiers said that the army was at the border") == "en"


def test_hint_settles_a_headline_the_detector_wavers_on() -> None:
    headline = "Trump nomina a Kevin Warsh para presidente de la Fed"
    assert detect_language(headline, hint="es") == "es"
    # A hint never overrides text that is clearly in another language.
    assert detect_language("Venezuelan deserters reach the Colombian border town", hint="es") == "en"


@pytest.mark.parametrize(
    "text",
    ["¿qué pasó? «nada», según él", "µg ½ ² ß x_y 3.5 ١٢", "ureña… 5 € — fin", "i̇stanbul 💔 a\u2060b", ""],
)
def test_word_split_matches_the_regex_it_replaces(text: str) -> None:
    assert _words(text) == re.findall(r"[^\W\d_]+", text)
