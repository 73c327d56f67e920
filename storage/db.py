"""Engine and session factory for SQLite (default) and PostgreSQL, plus migrations at start.

One async engine per process. SQLite runs in WAL mode with a busy timeout so the poller, the delivery
worker and `/news` readers do not trip over each other's locks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from config.settings import ConfigurationError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same in every Wirewatch process sharing one PostgreSQL.
MIGRATION_LOCK_KEY = 0x5749524557415443  # "WIREWATC"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_SECONDS = 5


def async_url(url: str) -> str:
    """The async driver URL for a DATABASE_URL as users write it."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+asyncpg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_memory_sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def _sqlite_pragmas(
    dbapi_connection: Any, _record: Any, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(
    url: str, *, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any
) -> AsyncEngine:
    """An async engine for DATABASE_URL; in-memory SQLite keeps one shared connection.

    `sqlite_busy_timeout_ms`: how long a write waits for another process's lock before failing (tests
    shorten it)."""
    target = async_url(url)
    parsed = make_url(target)
    if parsed.get_backend_name() == "sqlite" and not is_memory_sqlite(url):
        folder = Path(parsed.database or "").expanduser().resolve().parent
        if not folder.is_dir():
            # SQLite would only say "unable to open database file"; name the real problem.
            raise ConfigurationError(f"configuration error: DATABASE_URL: folder {folder} does not exist")
    if is_memory_sqlite(url):
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    elif make_url(target).get_backend_name() == "postgresql":
        # A restarted server leaves dead connections in the pool: each is tested before use and replaced.
        kwargs.setdefault("pool_pre_ping", True)
        # An unreachable server must fail a connection attempt in seconds, so the loops back off and retry
        # instead of hanging on the operating system's TCP timeout.
        kwargs.setdefault("connect_args", {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS})
    engine = create_async_engine(target, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(
            engine.sync_engine,
            "connect",
            lambda connection, record: _sqlite_pragmas(connection, record, sqlite_busy_timeout_ms),
        )
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config  # on first use: ~150 ms of imports a scan that only reads does not pay

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade_on(connection: Connection, revision: str = "head") -> None:
    if connection.dialect.name == "postgresql":
        # Several workers may start together: one migrates, the others wait here and then find nothing to do.
        # A transaction-level lock: PostgreSQL releases it when this transaction commits (or rolls back), so a
        # waiter never gets in before the migrated schema is committed, and a failed start cannot leave the
        # lock held on a pooled connection. (A session lock released before the commit let waiters in early.)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply Alembic migrations on this engine (`bot.py db upgrade`, and every start), in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_on, revision)


@dataclass(frozen=True, slots=True)
class MigrationState:
    current: str | None  # the store's Alembic revision; None: never migrated (empty or not Wirewatch's)
    head: str  # the newest revision this code ships

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def known(self) -> bool:
        """False when the store was migrated by a newer Wirewatch than this one."""
        return self.current is None or self.current in _shipped_revisions()


def _shipped_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def _read_migration_state(connection: Connection) -> MigrationState:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None, "storage/migrations ships at least one revision"
    return MigrationState(MigrationContext.configure(connection).get_current_revision(), head)


async def migration_state(engine: AsyncEngine) -> MigrationState:
    """Where the store is against the shipped migrations; reads only (`bot.py doctor`)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_read_migration_state)


async def create_throwaway_schema(engine: AsyncEngine) -> None:
    """The models' tables on a store that lives as long as one command (`bot.py scan` in memory): no
    migration history and no full-text index, neither of which a throwaway store is asked for, and none of
    Alembic's start-up cost."""
    from storage.models import Base

    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


@asynccontextmanager
async def open_store(
    url: str, *, migrate: bool = True, throwaway: bool = False, **kwargs: Any
) -> AsyncIterator[AsyncEngine]:
    """Engine for the duration of a command: migrated (or, `throwaway`, given the models' tables), then
    disposed."""
    engine = create_engine(url, **kwargs)
    try:
        if throwaway:
            await create_throwaway_schema(engine)
        elif migrate:
            await upgrade_database(engine)
        yield engine
    finally:
        await engine.dispose()


def describe_database_error(error: DBAPIError) -> str:
    """One line for an operator: the driver's own first line of why the store could not be used."""
    reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    return f"database error: the store cannot be used: {reason} (check DATABASE_URL, or --db for scan)"
