"""`bot.py run`: start Wirewatch in one role (see runtime/roles.py) until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio

import typer

from errors import ConfigurationError
from runtime.roles import Role


def run(
    role: str = typer.Option(
        "all",
        help="all | poller (poll feeds) | worker (poll + deliver) | gateway (answer /news + deliver)",
    ),
    for_seconds: float | None = typer.Option(
        None, "--for-seconds", min=0.1, help="Stop gracefully after this many seconds (demo, tests)."
    ),
    no_stdin: bool = typer.Option(
        False, "--no-stdin", help="Console adapter: do not read /news lines from stdin."
    ),
) -> None:
    """Run Wirewatch: poll feeds, build stories, deliver alerts, answer /news."""
    try:
        chosen = Role(role.lower())
    except ValueError:
        raise ConfigurationError(
            f"configuration error: --role: must be one of {', '.join(r.value for r in Role)}, got {role!r}"
        ) from None
    # Imported here so `bot.py --help` and a refused option do not load settings or the whole pipeline.
    from config.settings import get_settings
    from observability.logs import configure_logging
    from runtime.process import WirewatchProcess, run_until_signalled

    settings = get_settings()

    configure_logging(settings.log_level, settings.log_format)
    process = WirewatchProcess(settings, chosen, stdin=not no_stdin)
    asyncio.run(run_until_signalled(process, for_seconds))
