"""`bot.py ask "/news ..."`: one command against the store (placeholder until the command layer lands)."""

from __future__ import annotations

import typer


def ask(line: str = typer.Argument(..., help='A command line such as "/news venezuela"')) -> None:
    """Answer one /news command line and exit."""
    raise typer.Exit(code=1)
