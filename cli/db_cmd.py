"""`bot.py db upgrade`: apply the Alembic migrations to DATABASE_URL."""

from __future__ import annotations

import asyncio

import typer

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply migrations to DATABASE_URL (also done at every `run`). Safe to run from several processes."""
    from rich.console import Console

    from config.settings import get_settings
    from storage.db import open_store

    settings = get_settings()

    async def _run() -> None:
        async with open_store(settings.database_url):
            pass

    asyncio.run(_run())
    Console(stderr=True).print("database is up to date")
