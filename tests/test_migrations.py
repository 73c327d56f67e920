"""The Alembic migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base, is_modelled


def _diff(connection) -> list:  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(
        connection,
        opts={"include_object": _include_filter, "compare_type": True},
    )
    return compare_metadata(context, Base.metadata)


def _include_filter(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return is_modelled(name)


async def test_migrated_schema_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(_diff)
    assert differences == []


async def test_upgrade_twice_is_a_no_op(engine: AsyncEngine) -> None:
    from storage.db import upgrade_database

    await upgrade_database(engine)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"feeds", "entries", "stories", "outbox", "channels"} <= tables
