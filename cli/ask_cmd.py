"""`bot.py ask "/news ..."`: answer one command line against the store in DATABASE_URL, print it, exit.

For scripts, cron digests and checking an archive built by `bot.py scan --db`. A reply that only explains
how to fix the command ("did you mean …") still exits 0; only a real failure (no database, a crash)
exits non-zero.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import getpass
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

from values.chat import Caller, ChannelRef

if TYPE_CHECKING:
    from charts.figure_chart import FigureChart
    from handlers.news.views import NewsReply


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def reply_as_json(reply: NewsReply) -> str:
    return json.dumps(_jsonable(dataclasses.asdict(reply)), ensure_ascii=False, indent=2)


def _write_chart(chart: FigureChart) -> None:
    """The PNG in CHART_DIR and its path on stdout; a chart that cannot be written is one line on stderr."""
    from config.settings import load_settings
    from handlers.console.chart_file import save_chart

    try:
        path = save_chart(chart, load_settings().chart_dir)
    except Exception as error:  # the answer is already out; the chart is extra
        print(f"ask: chart not written: {error}", file=sys.stderr)
        return
    print(f"Chart: {path}")


class Platform(enum.StrEnum):
    console = "console"
    slack = "slack"
    discord = "discord"


async def _answer(
    line: str,
    *,
    editor: bool,
    channel: str | None,
    platform: Platform = Platform.console,
    team: str | None = None,
) -> NewsReply:
    from config.settings import load_settings
    from handlers.news.service import NewsService
    from storage.db import open_store, session_factory
    from stories.topics import load_topics

    settings = load_settings()
    catalog = load_topics(settings.topics_file)
    async with open_store(settings.database_url) as engine:
        service = NewsService(session_factory(engine), catalog)
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "shell"
        caller = Caller(user_id=f"shell:{user}", is_editor=editor, display_name=user)
        where = ChannelRef(
            platform=platform.value, external_id=channel or settings.console_channel, team_id=team or None
        )
        return await service.handle(line, caller, where)


def ask(
    line: str = typer.Argument(..., help='A command line such as "/news venezuela since:7d"'),
    editor: bool = typer.Option(False, "--editor", help="Act as an editor (mute, subscribe…)"),
    channel: str | None = typer.Option(
        None,
        "--channel",
        help="Channel id on --platform (default CONSOLE_CHANNEL; required for slack and discord)",
    ),
    platform: Platform = typer.Option(
        Platform.console,
        "--platform",
        case_sensitive=False,
        help="Whose channel --channel names: console, slack (C0123ABC) or discord (the channel's number)",
    ),
    team: str | None = typer.Option(
        None, "--team", help="Slack workspace / Discord server id, recorded when the channel is new"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the reply's view model as JSON"),
) -> None:
    """Answer one /news command line and exit."""
    if platform is not Platform.console and not (channel or "").strip():
        print(f"ask: --platform {platform.value} needs --channel with the channel's id", file=sys.stderr)
        raise typer.Exit(code=2)
    from sqlalchemy.exc import SQLAlchemyError

    from handlers.console.render import render_reply

    try:
        reply = asyncio.run(_answer(line, editor=editor, channel=channel, platform=platform, team=team))
    except (SQLAlchemyError, OSError) as error:
        # One line, not a trace: the usual cause is a wrong DATABASE_URL or a server that is down.
        print(f"ask: cannot use the database in DATABASE_URL: {error}", file=sys.stderr)
        raise typer.Exit(code=1) from None
    if as_json:
        print(reply_as_json(reply))  # the chart's data is in it; no PNG, so stdout stays one JSON document
    else:
        sys.stdout.write(render_reply(reply, color=sys.stdout.isatty()))
        if reply.chart is not None:
            _write_chart(reply.chart)
    if reply.kind == "internal_error":
        raise typer.Exit(code=1)
