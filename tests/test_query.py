"""The /news search language: what each piece means, and that no input makes the parser raise."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.news.durations import next_clock_time, parse_duration, parse_since
from handlers.news.query import (
    MAX_EXCLUDED_PARTS,
    MAX_POSITIVE_PARTS,
    MAX_WORD_CHARS,
    parse_news_query,
)
from tests.test_news_fixtures import search_like_text

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_words_phrases_and_exclusions() -> None:
    query = parse_news_query('venezuela "puente Simón Bolívar" -football -"copa américa"', NOW)
    assert query.terms == ("venezuela",)
    assert query.phrases == (("puente", "Simón", "Bolívar"),)
    assert query.excluded == (("football",), ("copa", "américa"))
    assert query.has_text and not query.problems


def test_filters_are_read_and_removed_from_the_words() -> None:
    query = parse_news_query("deserters since:7d source:afp lang:ES topic:Migration", NOW)
    assert query.terms == ("deserters",)
    assert query.since == NOW - timedelta(days=7)
    assert (query.source, query.lang, query.topic) == ("afp", "es", "migration")


def test_since_accepts_a_calendar_date() -> None:
    query = parse_news_query("floods since:2019-02-23", NOW)
    assert query.since == datetime(2019, 2, 23, tzinfo=UTC)


def test_unreadable_filters_are_reported_in_plain_words() -> None:
    query = parse_news_query("floods since:yesterday lang:spanish", NOW)
    assert query.since is None and query.lang is None
    assert len(query.problems) == 2
    assert "since:7d" in query.problems[0]
    assert "lang:es" in query.problems[1]


def test_impossible_date_is_a_problem_not_a_crash() -> None:
    assert parse_news_query("x since:2019-02-30", NOW).problems


def test_unbalanced_quote_runs_to_the_end() -> None:
    query = parse_news_query('border "puente simon', NOW)
    assert query.terms == ("border",)
    assert query.phrases == (("puente", "simon"),)


def test_typographic_quotes_make_phrases() -> None:
    assert parse_news_query("“puente Simón Bolívar”", NOW).phrases == (("puente", "Simón", "Bolívar"),)


def test_hyphenated_word_is_a_phrase_and_operators_are_plain_text() -> None:
    query = parse_news_query("Simón-Bolívar AND C++ NEAR(x)", NOW)
    assert ("Simón", "Bolívar") in query.phrases
    assert {"AND", "C", "NEAR", "x"} <= set(query.terms) | {w for p in query.phrases for w in p}


def test_unknown_key_value_is_searched_as_words() -> None:
    assert parse_news_query("title:budget", NOW).phrases == (("title", "budget"),)


def test_exclusions_alone_leave_nothing_to_match() -> None:
    query = parse_news_query("-football -sports", NOW)
    assert not query.has_text and not query.has_filters and len(query.excluded) == 2


def test_junk_is_bounded() -> None:
    query = parse_news_query(" ".join(f"w{i}" for i in range(5000)) + " -x" * 100, NOW)
    assert len(query.terms) + len(query.phrases) <= MAX_POSITIVE_PARTS
    assert len(query.excluded) <= MAX_EXCLUDED_PARTS


def test_describe_shows_the_query_as_understood() -> None:
    text = parse_news_query('venezuela "puente bolívar" -football lang:es', NOW).describe()
    assert text == 'venezuela "puente bolívar" -football lang:es'


def test_durations_and_clock_times() -> None:
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("2 hours") == timedelta(hours=2)
    assert parse_duration("0h") is None and parse_duration("soon") is None
    assert parse_duration("99999w") is None
    assert next_clock_time("18:00", NOW) == NOW.replace(hour=18)
    assert next_clock_time("09:30", NOW) == NOW.replace(hour=9, minute=30) + timedelta(days=1)
    assert next_clock_time("25:00", NOW) is None
    assert parse_since("1w", NOW) == NOW - timedelta(weeks=1)


_ALNUM = re.compile(r"^[^\W_]+$")


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(search_like_text(), st.text(max_size=300)))
def test_any_text_parses_into_plain_words(text: str) -> None:
    query = parse_news_query(text, NOW)
    words = list(query.terms) + [w for p in query.phrases + query.excluded for w in p]
    assert all(_ALNUM.match(w) and len(w) <= MAX_WORD_CHARS for w in words)
    assert len(query.terms) + len(query.phrases) <= MAX_POSITIVE_PARTS
    assert all(p for p in query.problems)
    query.describe()


@settings(max_examples=50, deadline=None)
@given(seed=st.one_of(search_like_text(), st.text()).filter(bool))
def test_ten_kilobytes_of_junk_parse(seed: str) -> None:
    junk = (seed * (10_240 // len(seed) + 1))[:10_240]
    query = parse_news_query(junk, NOW)
    assert len(query.terms) + len(query.phrases) <= MAX_POSITIVE_PARTS
