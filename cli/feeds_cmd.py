"""`bot.py feeds list|add|remove|check` (placeholder until the feeds package lands)."""

from __future__ import annotations

import typer

feeds_app = typer.Typer(help="Manage the feeds Wirewatch polls.", no_args_is_help=True)
