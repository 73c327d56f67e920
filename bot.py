#!/usr/bin/env python3
"""Wirewatch command line. Wiring only: each command lives in `cli/`.

Start-up is kept to typer and the standard library: `cli/` modules import what a command needs (SQLAlchemy,
pydantic, the story pipeline, chat SDKs) when it runs, so `bot.py --help` answers at once
(`bench/startup_bench.py` measures it).
"""

from __future__ import annotations

import sys

import typer

from cli.ask_cmd import ask
from cli.db_cmd import db_app
from cli.doctor_cmd import doctor
from cli.feeds_cmd import feeds_app
from cli.run_cmd import run
from cli.scan_cmd import scan
from errors import ConfigurationError

app = typer.Typer(
    name="wirewatch",
    help="Wirewatch: newsroom alerts from news feeds, for Slack, Discord and the console.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("run")(run)
app.command("scan")(scan)
app.command("ask")(ask)
app.command("doctor")(doctor)
app.add_typer(feeds_app, name="feeds")
app.add_typer(db_app, name="db")


def main() -> None:
    try:
        app()
    except ConfigurationError as error:
        # One clear line naming the variable; a traceback would bury it.
        print(error, file=sys.stderr)
        sys.exit(2)
    except Exception as error:
        if not _is_database_error(error):
            raise
        from storage.db import describe_database_error

        # The store cannot be opened (missing directory, server down, wrong credentials): say which.
        print(describe_database_error(error), file=sys.stderr)  # type: ignore[arg-type]
        sys.exit(2)


def _is_database_error(error: Exception) -> bool:
    """A `sqlalchemy.exc.DBAPIError`; SQLAlchemy is only imported if a command already loaded it."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(error, exc.DBAPIError)


if __name__ == "__main__":
    main()
