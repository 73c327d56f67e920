"""The same search cases on SQLite FTS5 and PostgreSQL tsvector (the `engine` fixture runs both)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers.news.query import parse_news_query
from storage.db import session_factory
from storage.models import EntryRow, StoryRow
from storage.search import SearchHit, recent_stories, search_stories
from tests.test_news_fixtures import NOW, add_entry, add_feed, add_story, search_like_text

FILLER = [
    "Markets in Bogotá close higher on oil prices",
    "Caracas metro extends opening hours",
    "Football: Millonarios win the derby",
    "Coffee harvest expected to grow this year",
    "New bridge planned in Medellín",
    "Weather: heavy rain forecast for the Andes",
    "Elections: turnout lower than expected",
    "Cinema festival opens in Cartagena",
    "Port of Barranquilla handles record cargo",
    "Teachers strike over pay",
    "Tourism grows on the Caribbean coast",
    "Central bank keeps rates unchanged",
]


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    factory = session_factory(engine)
    async with factory() as session, session.begin():
        afp = await add_feed(session, "AFP español", language="es")
        reuters = await add_feed(session, "Reuters")
        local = await add_feed(session, "La Opinión Cúcuta", language="es")
        # Enough unrelated documents that bm25's inverse document frequency means something.
        for index, title in enumerate(FILLER):
            await add_story(
                session, reuters, title, published=NOW - timedelta(days=40 + index), relevant=False
            )
        crossing = await add_story(
            session,
            local,
            "Reabren el puente Simón Bolívar en Cúcuta",
            summary="Miles cruzan la frontera a pie",
            published=NOW - timedelta(days=2),
            topics=("venezuela-colombia-border", "trade"),
        )
        await add_entry(
            session,
            afp,
            crossing,
            "Reabierto el puente Simón Bolívar entre Venezuela y Colombia",
            published=NOW - timedelta(days=2, hours=-1),
        )
        await add_entry(
            session,
            reuters,
            crossing,
            "Border bridge reopens between Venezuela and Colombia at Cucuta",
            published=NOW - timedelta(days=2, hours=-2),
        )
        await add_story(
            session,
            reuters,
            "Venezuelan soldiers desert across the border",
            summary="Three hundred deserters reached Colombia",
            published=NOW - timedelta(days=1),
            topics=("venezuela-colombia-border", "security", "deserters"),
        )
        await add_story(
            session,
            reuters,
            "Bolívar puente festival in Caracas",
            summary="A music festival, unrelated to the bridge",
            published=NOW - timedelta(days=3),
            relevant=False,
        )
        await add_story(
            session,
            reuters,
            "Venezuela football team wins",
            summary="Sports news from Venezuela",
            published=NOW - timedelta(hours=5),
            relevant=False,
        )
        await add_story(
            session,
            reuters,
            "Migrants walk the trochas near the border",
            content="Humanitarian groups in Venezuela count more migrants every week",
            published=NOW - timedelta(days=200),
            topics=("venezuela-colombia-border", "migration"),
        )
    return factory


async def _search(factory: async_sessionmaker[AsyncSession], text: str, **kwargs: object) -> list[SearchHit]:
    async with factory() as session:
        return await search_stories(session, parse_news_query(text, NOW), NOW, **kwargs)  # type: ignore[arg-type]


def _titles(hits: list[SearchHit]) -> list[str]:
    return [hit.title for hit in hits]


async def test_accents_and_case_do_not_matter(sessions: async_sessionmaker[AsyncSession]) -> None:
    for spelling in ("cucuta", "CÚCUTA", "Cúcuta"):
        hits = await _search(sessions, spelling)
        assert len(hits) == 1, spelling
        assert "puente" in hits[0].title.lower() or "bridge" in hits[0].title.lower()


async def test_one_result_per_story_with_other_sources_counted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    hits = await _search(sessions, "puente")
    crossing = [h for h in hits if "Simón Bolívar" in h.title]
    assert len(crossing) == 1
    assert crossing[0].other_sources == 2
    assert len({h.story_id for h in hits}) == len(hits)


async def test_quoted_phrase_matches_words_in_order_only(sessions: async_sessionmaker[AsyncSession]) -> None:
    phrase = await _search(sessions, '"puente Simón Bolívar"')
    assert len(phrase) == 1 and "Simón Bolívar" in phrase[0].title
    loose = await _search(sessions, "puente bolivar")
    assert len(loose) == 2  # the festival has both words, not the phrase


async def test_stemming_finds_other_word_forms(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert _titles(await _search(sessions, "deserter")) == ["Venezuelan soldiers desert across the border"]
    assert _titles(await _search(sessions, "reopened")) == [
        "Border bridge reopens between Venezuela and Colombia at Cucuta"
    ]


async def test_exclusion_leaves_stories_out(sessions: async_sessionmaker[AsyncSession]) -> None:
    with_football = _titles(await _search(sessions, "venezuela"))
    without = _titles(await _search(sessions, "venezuela -football"))
    assert "Venezuela football team wins" in with_football
    assert "Venezuela football team wins" not in without
    assert set(without) < set(with_football)


async def test_since_filters_by_publication_time(sessions: async_sessionmaker[AsyncSession]) -> None:
    all_time = await _search(sessions, "migrants")
    assert len(all_time) == 1
    assert await _search(sessions, "migrants since:7d") == []
    dated = await _search(sessions, f"migrants since:{(NOW - timedelta(days=365)):%Y-%m-%d}")
    assert len(dated) == 1


async def test_source_and_language_filters(sessions: async_sessionmaker[AsyncSession]) -> None:
    afp = await _search(sessions, "venezuela source:afp")
    assert [h.source for h in afp] == ["AFP español"]
    spanish = await _search(sessions, "puente lang:es")
    assert {h.language for h in spanish} == {"es"}
    english = await _search(sessions, "bridge lang:en")
    assert {h.language for h in english} == {"en"}
    crossing = [h for h in english if "Cucuta" in h.title]
    assert [h.source for h in crossing] == ["Reuters"]  # the story's English source stands in for it


async def test_topic_filter_includes_sub_topics(sessions: async_sessionmaker[AsyncSession]) -> None:
    security = await _search(sessions, "border", topics=["security", "deserters"])
    assert _titles(security) == ["Venezuelan soldiers desert across the border"]
    assert await _search(sessions, "border", topics=["migration"]) != []
    assert await _search(sessions, "cucuta", topics=["migration"]) == []


async def test_filters_without_words_list_recent_matches(sessions: async_sessionmaker[AsyncSession]) -> None:
    hits = await _search(sessions, "lang:es since:7d")
    assert len(hits) == 1 and hits[0].language == "es"


async def test_title_match_ranks_above_body_match(sessions: async_sessionmaker[AsyncSession]) -> None:
    # Both stories are old; the one with "migrants" in the title must come first.
    async with sessions() as session, session.begin():
        feed = await add_feed(session, "Wire")
        await add_story(
            session,
            feed,
            "Weekly regional roundup",
            content="Officials discussed migrants briefly among many other subjects of the week",
            published=NOW - timedelta(days=199),
        )
    hits = await _search(sessions, "migrants")
    assert _titles(hits)[0] == "Migrants walk the trochas near the border"


async def test_recency_breaks_ties_between_equally_relevant_stories(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        feed = await add_feed(session, "Wire")
        for days in (30, 1, 10):
            await add_story(
                session, feed, f"Paraguachón crossing report {days}", published=NOW - timedelta(days=days)
            )
    hits = await _search(sessions, "paraguachon")
    assert _titles(hits) == [f"Paraguachón crossing report {d}" for d in (1, 10, 30)]


async def test_recent_stories_lists_newest_relevant_first(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        stories = await recent_stories(session, limit=10)
        security = await recent_stories(session, limit=10, topics=["security", "deserters"])
    published = [s.first_seen_at for s in stories]
    assert published == sorted(published, reverse=True)
    assert all(s.relevant for s in stories)
    assert [s.title for s in security] == ["Venezuelan soldiers desert across the border"]


HOSTILE = [
    '"unbalanced',
    "AND OR NOT",
    "C++ near( NEAR/2",
    "title:budget",
    "*",
    "'); DROP TABLE entries; --",
    "\\' OR 1=1 --",
    "a & b | !c <-> d",
    "since:",
    "lang:; DROP",
    "source:%_\\",
    '"" - -- ---',
    "x" * 10_000,
]


async def test_hostile_input_never_reaches_the_engine_as_syntax(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for text in HOSTILE:
        await _search(sessions, text)
    async with sessions() as session:
        assert (await session.execute(select(func.count(EntryRow.id)))).scalar_one() == 19
        assert (await session.execute(select(func.count(StoryRow.id)))).scalar_one() == 17


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=search_like_text())
async def test_any_input_searches_without_error(
    sessions: async_sessionmaker[AsyncSession], text: str
) -> None:
    hits = await _search(sessions, text)
    assert len({h.story_id for h in hits}) == len(hits)


async def test_recent_stories_since_goes_by_publication_not_by_when_stored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        feed = await add_feed(session, "Backlog feed")
        backlog = await add_story(session, feed, "Report of 2019", published=NOW - timedelta(days=2831))
        backlog.first_seen_at = NOW - timedelta(minutes=1)  # stored by the feed's first poll
        undated = await add_story(session, feed, "Undated report", published=NOW - timedelta(hours=3))
        undated.published_at = None
        fresh = await add_story(session, feed, "Fresh report", published=NOW - timedelta(hours=4))
        fresh.first_seen_at = NOW - timedelta(minutes=1)
    async with sessions() as session:
        day = await recent_stories(session, limit=50, since=NOW - timedelta(hours=12))
    assert [s.title for s in day] == ["Undated report", "Fresh report"]  # newest published first


LEAD_EN = "Colombia says 326 members of the armed forces crossed at Paraguachón since Saturday."


async def test_a_hit_shows_a_clean_summary_and_the_figures_of_its_own_language(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        wire = await add_feed(session, "Wire")
        spanish = await add_feed(session, "Cable", language="es")
        story = await add_story(
            session,
            wire,
            "Colombia says 326 Venezuelan troops deserted at Paraguachón",
            # The entry's stored text still carries the site's section label; the story's summary not.
            summary=f"World\n\n{LEAD_EN}",
            published=NOW - timedelta(hours=5),
            figures=[
                {
                    "value": 326,
                    "text": "326",
                    "what": "members of the armed forces",
                    "unit": None,
                    "score": 1.0,
                }
            ],
        )
        story.summary = LEAD_EN
        translation = await add_entry(
            session,
            spanish,
            story,
            "Colombia: 326 militares venezolanos desertaron en Paraguachón",
            summary=(
                "Mundo\n\nUn total de 326 miembros de la Fuerza Armada venezolana cruzaron por Paraguachón "
                "desde el sábado, dijo Migración Colombia."
            ),
            published=NOW - timedelta(hours=4),
        )
        translation.figures = [
            {"value": 326, "text": "326", "what": "miembros de la Fuerza Armada", "unit": None, "score": 1.0}
        ]
    [english] = await _search(sessions, "paraguachon lang:en")
    assert (
        english.summary
        == "Colombia says 326 members of the armed forces crossed at Paraguachón since Saturday."
    )
    assert [f["what"] for f in english.figures] == ["members of the armed forces"]
    [hit] = await _search(sessions, "paraguachon lang:es")
    assert hit.title.startswith("Colombia: 326 militares")
    assert hit.summary.startswith("Un total de 326 miembros") and "Mundo" not in hit.summary
    assert [f["what"] for f in hit.figures] == ["miembros de la Fuerza Armada"]
