"""`bot.py scan`: dry run of the story pipeline over feeds (placeholder until the pipeline lands)."""

from __future__ import annotations

import typer


def scan(feeds: list[str] = typer.Argument(..., help="Feed URLs or file paths")) -> None:
    """Run the story pipeline over FEEDs and print what Wirewatch would do."""
    raise typer.Exit(code=1)
