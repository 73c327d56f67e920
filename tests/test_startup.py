"""`bot.py` loads no heavy library until a command runs, so `--help` answers at once.

What it costs is measured in `bench/startup_bench.py` (timing lives only in benches); this only checks which
libraries a fresh interpreter has loaded, which does not depend on the machine.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT

# Each is tens to hundreds of milliseconds to import, and only some commands need it.
HEAVY = (
    "aiohttp",
    "alembic",
    "datasketch",
    "discord",
    "feedparser",
    "ftfy",
    "lingua",
    "matplotlib",
    "numpy",
    "pydantic",
    "rich",
    "scipy",
    "slack_bolt",
    "slack_sdk",
    "sqlalchemy",
    "trafilatura",
)
PROBE = """
import sys
import bot
print(" ".join(sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))))
"""


def _loaded_after(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{code}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(result.stdout.split())


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert _loaded_after(PROBE) == set()


def test_the_probe_sees_a_heavy_library_when_one_is_loaded() -> None:
    loaded = _loaded_after(PROBE.replace("import bot", "import bot, cli.scan_cmd, storage.db"))
    assert loaded >= {"sqlalchemy"}


def test_the_store_loads_alembic_only_to_migrate() -> None:
    # A scan into a throwaway in-memory store never migrates: Alembic's imports are not its to pay.
    assert "alembic" not in _loaded_after(PROBE.replace("import bot", "import bot, storage.db"))


def test_the_chat_adapters_load_matplotlib_only_when_a_chart_is_drawn() -> None:
    adapters = (
        "import bot, handlers.slack.listeners, handlers.discord.commands, handlers.console.runtime, "
        "cli.ask_cmd"
    )
    loaded = _loaded_after(PROBE.replace("import bot", adapters))
    assert "matplotlib" not in loaded
