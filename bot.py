#!/usr/bin/env python3
"""Wirewatch command line. Wiring only: each command lives in `cli/`."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import DBAPIError

from cli.ask_cmd import ask
from cli.db_cmd import db_app
from cli.feeds_cmd import feeds_app
from cli.run_cmd import run
from cli.scan_cmd import scan
from config.settings import ConfigurationError
from storage.db import describe_database_error

app = typer.Typer(
    name="wirewatch",
    help="Wirewatch: newsroom alerts from news feeds, for Slack, Discord and the console.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("run")(run)
app.command("scan")(scan)
app.command("ask")(ask)
app.add_typer(feeds_app, name="feeds")
app.add_typer(db_app, name="db")


def main() -> None:
    try:
        app()
    except ConfigurationError as error:
        # One clear line naming the variable; a traceback would bury it.
        print(error, file=sys.stderr)
        sys.exit(2)
    except DBAPIError as error:
        # The store cannot be opened (missing directory, server down, wrong credentials): say which.
        print(describe_database_error(error), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
