"""The console adapter: alerts printed to stdout, `/news …` lines read from stdin. Used when no chat token
is configured, for demos, and for trying the bot out on one machine.

The console operator is the person running the bot, so they act as an editor by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import logging
import sys
import threading
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import Settings
from handlers.console.chart_file import save_chart
from handlers.console.render import render_alert, render_edit, render_reply
from handlers.news.channel import subscribe_alert_channel
from handlers.news.topics import TopicCatalog, catalog_or_file
from handlers.news.views import NewsAnswerer
from stories.model import Alert, PostedMessage
from values.chat import Caller, ChannelRef
from values.clock import utc_now

log = logging.getLogger(__name__)

PLATFORM = "console"


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class ConsoleOutput:
    """One writer for alerts and replies, so their lines never interleave."""

    def __init__(self, stream: TextIO, *, color: bool | None = None) -> None:
        self.stream = stream
        self.color = _is_tty(stream) if color is None else color
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text)
            self.stream.flush()


class ConsolePoster:
    """A `delivery.ports.ChatPoster` that prints; messages are numbered, updates name their first alert."""

    platform = PLATFORM

    def __init__(self, output: ConsoleOutput) -> None:
        self._output = output
        self._numbers = itertools.count(1)
        self._posted: dict[str, PostedMessage] = {}

    async def post(
        self, channel: str, alert: Alert, *, thread: PostedMessage | None, idempotency_key: str
    ) -> PostedMessage:
        already = self._posted.get(idempotency_key)
        if already is not None:
            return already
        number = next(self._numbers)
        reply_to = thread.message_id if thread is not None else None
        self._output.write(render_alert(alert, number, reply_to=reply_to, color=self._output.color))
        message = PostedMessage(
            platform=PLATFORM, channel=channel, message_id=str(number), thread_id=reply_to
        )
        self._posted[idempotency_key] = message
        return message

    async def edit(self, message: PostedMessage, alert: Alert) -> None:
        # A terminal cannot change what it printed: one line says what joined the story.
        self._output.write(render_edit(alert))

    async def find_posted(
        self, channel: str, idempotency_key: str, *, thread: PostedMessage | None = None
    ) -> PostedMessage | None:
        return self._posted.get(idempotency_key)


def _read_lines(stream: TextIO, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    # A daemon thread rather than the default executor: a blocked readline() must not hold up exit.
    try:
        for line in iter(stream.readline, ""):
            loop.call_soon_threadsafe(queue.put_nowait, line)
    except (OSError, ValueError) as error:
        log.warning("console input closed: %s", error)
    finally:
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(queue.put_nowait, None)


class ConsoleRuntime:
    """`platform`, `poster`, `start_posting()`, `start_listening()`, `stop()`: see docs/architecture.md."""

    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        news: NewsAnswerer,
        sessions: async_sessionmaker[AsyncSession],
        *,
        catalog: TopicCatalog | None = None,
        stdin: bool = True,
        input_stream: TextIO | None = None,
        output_stream: TextIO | None = None,
        editor: bool = True,
        color: bool | None = None,
    ) -> None:
        self.news = news
        self.sessions = sessions
        self._settings = settings
        self._catalog = catalog
        self.channel = ChannelRef(platform=PLATFORM, external_id=settings.console_channel)
        self.caller = Caller(user_id=f"console:{_user_name()}", is_editor=editor, display_name=_user_name())
        self.output = ConsoleOutput(output_stream or sys.stdout, color=color)
        self.poster = ConsolePoster(self.output)
        self._read_input = stdin
        self._input = input_stream
        self._listener: asyncio.Task[None] | None = None
        self.input_closed = asyncio.Event()

    async def start_posting(self) -> None:
        """Nothing to log in to: printing needs no client."""

    async def start_listening(self) -> None:
        """Subscribe the console channel to the beat, then answer lines typed on stdin."""
        await self.subscribe_to_beat()
        if self._read_input and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="console-listener")

    async def subscribe_to_beat(self) -> None:
        beat = catalog_or_file(self._catalog, self._settings.topics_file).beat.name
        await subscribe_alert_channel(
            self.sessions, self.channel, beat, by=self.caller.user_id, now=utc_now()
        )

    async def answer(self, line: str) -> str:
        """Answer one typed line and print the reply (and where its chart was written); returns what was
        printed."""
        reply = await self.news.handle(line, self.caller, self.channel)
        rendered = render_reply(reply, color=self.output.color)
        self.output.write(rendered)
        if reply.chart is not None:
            # The text is out first: a chart that cannot be drawn or written costs one line, not the answer.
            try:
                path = await asyncio.to_thread(save_chart, reply.chart, self._settings.chart_dir)
                chart_line = f"Chart: {path}\n\n"
            except Exception as error:
                log.exception("chart for %r not written", line[:200])
                chart_line = f"Chart not written: {error}\n\n"
            self.output.write(chart_line)
            rendered += chart_line
        return rendered

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        stream = self._input or sys.stdin
        threading.Thread(
            target=_read_lines, args=(stream, loop, queue), name="console-stdin", daemon=True
        ).start()
        try:
            while (line := await queue.get()) is not None:
                if line.strip():
                    await self.answer(line.strip())
        finally:
            self.input_closed.set()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "operator"


def build_console_runtime(
    settings: Settings,
    news: NewsAnswerer,
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: TopicCatalog | None = None,
    stdin: bool = True,
    input_stream: TextIO | None = None,
    output_stream: TextIO | None = None,
    editor: bool = True,
    color: bool | None = None,
) -> ConsoleRuntime:
    return ConsoleRuntime(
        settings,
        news,
        sessions,
        catalog=catalog,
        stdin=stdin,
        input_stream=input_stream,
        output_stream=output_stream,
        editor=editor,
        color=color,
    )
