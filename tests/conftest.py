"""Shared fixtures: databases on both engines, settings isolation, the shared corpus."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from config.corpus import shared_dir
from storage.db import create_engine, upgrade_database

POSTGRES_ENV = "WIREWATCH_TEST_POSTGRES_URL"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = shared_dir()
CORPUS = SHARED / "corpus"


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _libpq(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def create_postgres_database() -> str:
    """A fresh, empty database on the test server; returns its SQLAlchemy URL."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip(f"{POSTGRES_ENV} is not set: no PostgreSQL on this machine (CI always sets it)")
    name = f"ww_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    admin = postgres_admin_url()
    assert admin is not None
    name = make_url(url).database
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'wirewatch.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Runs the test once on SQLite and once on PostgreSQL (skipped with the reason when unavailable)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wirewatch.db'}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine on each backend."""
    eng = create_engine(database_url)
    await upgrade_database(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(sqlite_url)
    await upgrade_database(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's .env or chat tokens by accident, nor leaves charts outside tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHART_DIR", str(tmp_path / "charts"))
    for name in list(os.environ):
        if name.startswith(("SLACK_", "DISCORD_")) or name in {"DATABASE_URL", "FEEDS_FILE", "TOPICS_FILE"}:
            monkeypatch.delenv(name, raising=False)
