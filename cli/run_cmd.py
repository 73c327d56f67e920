"""`bot.py run`: start the bot (placeholder until the runtime lands)."""

from __future__ import annotations

import typer


def run(role: str = typer.Option("all", help="all | poller | worker | gateway")) -> None:
    """Run Wirewatch: poll feeds, build stories, deliver alerts, answer /news."""
    raise typer.Exit(code=1)
