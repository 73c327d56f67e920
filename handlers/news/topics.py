"""Which topic a `/news` caller meant, and how the catalogue's topics nest.

Every command that takes a topic (`latest`, `topic:` in searches, `mute`, `subscribe`, …) resolves it here,
so a typo gets the same "did you mean" everywhere, and every example it suggests names a real topic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from errors import CommandError
from handlers.news import help_text
from stories.model import Topic

# A shorter start of a topic name (`mi`) is too likely to be a typo to be taken as that topic.
MIN_TOPIC_PREFIX = 3


class TopicCatalog(Protocol):
    """What the command layer needs from `stories.topics.TopicCatalog`."""

    @property
    def beat(self) -> Topic: ...

    @property
    def topics(self) -> tuple[Topic, ...]: ...

    def get(self, name: str) -> Topic | None: ...

    def names(self) -> list[str]: ...

    def suggest(self, name: str) -> str | None: ...


def catalog_or_file(catalog: TopicCatalog | None, topics_file: Path) -> TopicCatalog:
    """The catalog an adapter was given (`runtime/` passes the one it loaded), else TOPICS_FILE's own."""
    if catalog is not None:
        return catalog
    from stories.topics import load_topics  # the detection area's loader; only for an adapter built alone

    return load_topics(topics_file)


def retyped(rest: str, typed: str, meant: str, command: str) -> str:
    """`/news <command> <rest>` with the topic as typed replaced by the one meant."""
    words = rest.split()
    if typed in words:
        words[words.index(typed)] = meant
    else:
        words.insert(0, meant)
    return " ".join(["/news", command, *words])


class TopicResolver:
    """Topic look-ups over one catalogue, shared by every command family."""

    def __init__(self, catalog: TopicCatalog) -> None:
        self.catalog = catalog
        # Examples name a real topic of this catalog, so they work when copied.
        sub_topics = [t.name for t in catalog.topics if t.name != catalog.beat.name]
        self.example_topic = sub_topics[0] if sub_topics else catalog.beat.name

    def example(self, command: str) -> str:
        """The help example of `command`, naming this catalogue's example topic."""
        return help_text.example_for(command, self.example_topic)

    def resolve(self, name: str, *, command: str, example: Callable[[str], str] | None = None) -> Topic:
        """The topic meant: its name, its title, or an unambiguous start of its name or of one of its
        words (`migration` -> `migration-refugees`); else a CommandError with the closest names.

        `example` turns a topic name into the command line to suggest (by default `/news <command> <name>`).
        """
        wanted = name.strip().strip("`'\"").lower()
        if not wanted:
            raise CommandError(
                f"Which topic? Topics: {', '.join(self.catalog.names())}.",
                example=self.example(command),
            )
        topic = self.catalog.get(wanted)
        if topic is None:
            topic = next((t for t in self.catalog.topics if t.title.lower() == wanted), None)
        if topic is not None:
            return topic
        started = self._starting_with(wanted)
        if len(started) == 1 and len(wanted) >= MIN_TOPIC_PREFIX:
            return started[0]
        build = example or (lambda topic_name: f"/news {command} {topic_name}")
        shown = wanted[:60]
        if len(started) > 1:
            names = [t.name for t in started]
            raise CommandError(
                f"`{shown}` could be several topics: {', '.join(names)}. Which one did you mean?",
                example=build(names[0]),
            )
        # A start too short to take as given (`ar`) is still the best guess.
        suggestion = started[0].name if started else self.catalog.suggest(wanted)
        if suggestion and self.catalog.get(suggestion) is not None:
            raise CommandError(
                f"I don't know the topic `{shown}`. Did you mean `{suggestion}`?",
                example=build(suggestion),
            )
        raise CommandError(
            f"I don't know the topic `{shown}`. Topics: {', '.join(self.catalog.names())}.",
            example=build(self.example_topic),
        )

    def _starting_with(self, wanted: str) -> list[Topic]:
        """Topics whose name starts with `wanted`, else those with a word of the name that does."""
        whole = [t for t in self.catalog.topics if t.name.startswith(wanted)]
        if whole:
            return whole
        return [t for t in self.catalog.topics if any(p.startswith(wanted) for p in t.name.split("-"))]

    def family(self, topic: Topic) -> list[str]:
        """The topic and every topic below it (stories carry the most specific topics)."""
        family = [topic.name]
        changed = True
        while changed:
            changed = False
            for candidate in self.catalog.topics:
                if candidate.parent in family and candidate.name not in family:
                    family.append(candidate.name)
                    changed = True
        return family

    def ancestors(self, topic: Topic) -> list[str]:
        """The topic's name and those of the topics above it, nearest first."""
        names, current = [topic.name], topic
        while current.parent and current.parent not in names:
            names.append(current.parent)
            parent = self.catalog.get(current.parent)
            if parent is None:
                break
            current = parent
        return names

    def most_specific(self, names: Sequence[str]) -> str:
        """The deepest known topic among a story's topics (the beat when it has no other)."""
        known = [topic for topic in map(self.catalog.get, names) if topic is not None]
        deepest = max(known, key=lambda topic: len(self.ancestors(topic)), default=None)
        return deepest.name if deepest is not None else self.catalog.beat.name
