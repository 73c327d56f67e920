"""What `/news help` says, and the examples shown under replies that could not be answered."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandHelp:
    name: str
    usage: str
    what: str
    example: str
    editor_only: bool = False


COMMANDS: tuple[CommandHelp, ...] = (
    CommandHelp(
        "search",
        "/news <words>",
        'search stored stories: "phrases", -exclude, since:7d, source:afp, lang:es, topic:{topic}',
        '/news "puente Simón Bolívar" since:7d lang:es',
    ),
    CommandHelp(
        "latest", "/news latest [topic] [n]", "the newest stories on the beat", "/news latest {topic} 5"
    ),
    CommandHelp(
        "story",
        "/news story <number>",
        "one story: every source, its figure history and updates",
        "/news story 42",
    ),
    CommandHelp(
        "figures",
        "/news figures <words>",
        "the key figures of matching stories over time",
        "/news figures deserters",
    ),
    CommandHelp("digest", "/news digest [24h]", "the period's stories grouped by topic", "/news digest 12h"),
    CommandHelp(
        "topics", "/news topics", "the topics, and which are muted or subscribed here", "/news topics"
    ),
    CommandHelp(
        "mute",
        "/news mute <topic> [for 2h | until 18:00]",
        "stop alerts on a topic in this channel (times are UTC)",
        "/news mute {topic} for 2h",
        editor_only=True,
    ),
    CommandHelp("unmute", "/news unmute <topic>", "alerts on a topic again", "/news unmute {topic}", True),
    CommandHelp(
        "subscribe",
        "/news subscribe <topic>",
        "send this topic's alerts to this channel",
        "/news subscribe {topic}",
        editor_only=True,
    ),
    CommandHelp(
        "unsubscribe",
        "/news unsubscribe <topic>",
        "stop sending this topic's alerts here",
        "/news unsubscribe {topic}",
        editor_only=True,
    ),
    CommandHelp(
        "language",
        "/news language en|es|any",
        "the language alerts here are written in, when a story has a report in it (default any)",
        "/news language es",
        editor_only=True,
    ),
    CommandHelp("feeds", "/news feeds", "feed health: last success, last error, next poll", "/news feeds"),
    CommandHelp("help", "/news help", "this list", "/news help"),
)

COMMAND_NAMES: tuple[str, ...] = tuple(c.name for c in COMMANDS)
EDITOR_ONLY: frozenset[str] = frozenset(c.name for c in COMMANDS if c.editor_only)


def command_help(name: str) -> CommandHelp:
    for command in COMMANDS:
        if command.name == name:
            return command
    raise KeyError(name)


def example_for(name: str, topic: str) -> str:
    """The example of a command, with `topic` standing in for a topic name."""
    return command_help(name).example.format(topic=topic)


def help_lines(topic: str) -> tuple[str, ...]:
    lines = []
    for command in COMMANDS:
        editor = " (editors)" if command.editor_only else ""
        lines.append(f"{command.usage}: {command.what.format(topic=topic)}{editor}")
    return tuple(lines)


def help_examples(topic: str) -> tuple[str, ...]:
    return tuple(example.format(topic=topic) for example in _EXAMPLES)


_EXAMPLES = (
    "/news venezuela",
    "/news deserters since:7d",
    '/news "puente Simón Bolívar" lang:es',
    "/news latest {topic} 5",
    "/news mute {topic} for 2h",
)
