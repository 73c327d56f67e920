"""The `/news` and `/newsadmin` application commands: typed options in, the command layer's line out.

This module only converts. Each subcommand rebuilds the text line the command layer reads
(`mute migration-refugees for 2h`, see `handlers.discord.lines`), calls
`NewsService.handle(line, caller, channel)` and renders the `NewsReply` as an embed. Answers are
ephemeral unless the reply says otherwise. An answer not ready within `defer_after` seconds is deferred
("thinking…", well inside Discord's 3-second limit) and sent as a follow-up when it is.

Editors are members with Manage Channels, or with the role named in DISCORD_EDITOR_ROLE. The command layer
asks for the role only for editor actions (mute, unmute, subscribe, unsubscribe, language), through the
caller's `role_check`: the interaction's own permissions and roles answer it when they can; when the
member's roles cannot be read from it (the guild is not cached, or the user came without member data) the
member is fetched from the API, inside the answer's task, so a slow fetch is deferred like any slow answer.
A fetch that fails (timeout, 5xx, 429, a body that is not JSON) makes the role UNKNOWN: the command layer
answers "try again in a moment", and searches never fetch anything. Editor actions exist twice: under
`/news` for everyone to see (non-editors get the command layer's polite refusal), and under `/newsadmin`,
whose `default_permissions` let Discord hide it from members without Manage Channels (Discord ignores
`default_permissions` on subcommands).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import discord
from discord import app_commands

from errors import CommandError, describe
from handlers.discord.attachments import chart_files, with_chart
from handlers.discord.embeds import reply_embed
from handlers.discord.lines import latest_line, mute_line, search_line, simple_line, topic_line
from handlers.news.help_text import COMMAND_NAMES
from handlers.news.views import NewsAnswerer, NewsReply
from values.chat import Caller, ChannelRef, EditorStatus, RoleCheck

PLATFORM = "discord"
DEFER_AFTER_SECONDS = 1.5  # Discord allows 3 s for the first response; leave room for the round trip
# discord.py retries a 5xx for up to ~16 s and waits out 429s; an editor is told "try again" sooner.
ROLE_LOOKUP_SECONDS = 6.0
MAX_CHOICES = 25  # Discord's limit for autocomplete results and choices
CHOICE_LIMIT = 100  # characters in a choice's name and value
DURATION_SUGGESTIONS = ("30m", "1h", "2h", "4h", "8h", "12h", "24h", "7d", "until 18:00")
DIGEST_PERIODS = ("6h", "12h", "24h", "48h", "7d")
SINCE_SUGGESTIONS = ("24h", "3d", "7d", "30d")
LANGUAGES = {"en": "English", "es": "Spanish"}
ALERT_LANGUAGE_CHOICES = [
    *(app_commands.Choice(name=name, value=code) for code, name in LANGUAGES.items()),
    app_commands.Choice(name="Any (the story's first report)", value="any"),
]
EDITOR_RULE = "members with Manage Channels{role}"
SHARED_BELOW = "Done: the answer is posted in the channel."
FAILURE = "Sorry, something went wrong on our side answering that. Please try again in a minute."

log = logging.getLogger(__name__)


class TopicNames(Protocol):
    """What autocomplete needs from `stories.topics.TopicCatalog`."""

    def names(self) -> list[str]: ...

    def suggest(self, name: str) -> str | None: ...


# --- who is asking, where -------------------------------------------------------------------------------
def has_editor_role(member: discord.Member, editor_role: str) -> bool:
    """A role named like DISCORD_EDITOR_ROLE (case-insensitive)."""
    wanted = editor_role.strip().casefold()
    return any(role.name.casefold() == wanted for role in member.roles)


def editor_status_in_payload(
    interaction: discord.Interaction, editor_role: str | None
) -> EditorStatus | None:
    """YES or NO when the interaction itself tells; None when the member's roles must be fetched.

    Manage Channels comes resolved in every guild interaction. Role names do not: the payload carries role
    IDs, which name roles only through a cached guild.
    """
    if interaction.permissions.manage_channels:
        return EditorStatus.YES
    if not editor_role:
        return EditorStatus.NO
    user = interaction.user
    guild_id = interaction.guild_id
    if isinstance(user, discord.Member) and guild_id and interaction.client.get_guild(guild_id) is not None:
        return EditorStatus.YES if has_editor_role(user, editor_role) else EditorStatus.NO
    return None


def editor_rule(editor_role: str | None) -> str:
    """Who counts as an editor here, in words, for the command layer's refusal."""
    return EDITOR_RULE.format(role=f" or the {editor_role} role" if editor_role else "")


def caller_of(
    interaction: discord.Interaction, role_check: RoleCheck | None = None, rule: str | None = None
) -> Caller:
    user = interaction.user
    return Caller(
        user_id=str(user.id),
        display_name=getattr(user, "display_name", None),
        role_check=role_check,
        editor_rule=rule,
    )


def channel_of(interaction: discord.Interaction) -> ChannelRef:
    return ChannelRef(
        platform=PLATFORM,
        external_id=str(interaction.channel_id),
        team_id=str(interaction.guild_id) if interaction.guild_id else None,
    )


# --- answering ------------------------------------------------------------------------------------------
@dataclass(slots=True)
class NewsCommands:
    """Everything the command callbacks share: the command layer, topic names and the editor role."""

    news: NewsAnswerer
    topics: TopicNames
    editor_role: str | None = None
    defer_after: float = DEFER_AFTER_SECONDS
    role_lookup_seconds: float = ROLE_LOOKUP_SECONDS

    async def answer(self, interaction: discord.Interaction, line: str) -> None:
        """Run `line` through the command layer and send the reply, deferring if it takes a while."""
        task = asyncio.ensure_future(self._reply_with_chart(interaction, line))
        done, _ = await asyncio.wait({task}, timeout=self.defer_after)
        if done:
            reply, files = task.result()
            await interaction.response.send_message(
                embed=with_chart(reply_embed(reply), files),
                files=files,
                ephemeral=reply.ephemeral,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply, files = await task
        embed = with_chart(reply_embed(reply), files)
        if reply.ephemeral:
            await interaction.followup.send(
                embed=embed, files=files, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            return
        # The first follow-up would replace the private "thinking…" message and stay private, so that
        # message is settled first and the answer goes to the channel as a second, public message.
        await interaction.edit_original_response(content=SHARED_BELOW)
        await interaction.followup.send(
            embed=embed, files=files, ephemeral=False, allowed_mentions=discord.AllowedMentions.none()
        )

    async def _reply_with_chart(
        self, interaction: discord.Interaction, line: str
    ) -> tuple[NewsReply, list[discord.File]]:
        # The chart is drawn inside the deferred task, so a slow first draw is covered by "thinking…".
        reply = await self._reply(interaction, line)
        return reply, await chart_files(reply)

    async def _reply(self, interaction: discord.Interaction, line: str) -> NewsReply:
        role_check = functools.partial(self.editor_status, interaction)
        caller = caller_of(interaction, role_check, editor_rule(self.editor_role))
        channel = channel_of(interaction)
        try:
            return await self.news.handle(line, caller, channel)
        except CommandError as error:
            examples = (error.example,) if error.example else ()
            return NewsReply(
                kind="error", title="Not understood", text=error.reply, examples=examples, is_error=True
            )

    async def editor_status(self, interaction: discord.Interaction) -> EditorStatus:
        """The caller's role, from the interaction or else fetched; UNKNOWN when Discord could not tell."""
        known = editor_status_in_payload(interaction, self.editor_role)
        if known is not None or not self.editor_role:
            return known if known is not None else EditorStatus.NO
        try:
            async with asyncio.timeout(self.role_lookup_seconds):
                member = await _fetch_member(interaction)
        except discord.NotFound:
            return EditorStatus.NO  # not (any more) a member of this guild
        except Exception as error:  # timed out, 5xx, 429, unreadable body: Discord did not answer
            log.warning(
                "could not fetch member %s of guild %s to read their roles: %s; role unknown",
                interaction.user.id,
                interaction.guild_id,
                describe(error),
            )
            return EditorStatus.UNKNOWN
        return EditorStatus.YES if has_editor_role(member, self.editor_role) else EditorStatus.NO

    async def topic_choices(
        self, _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Topic names containing what was typed, else the fuzzy suggestion ("venezuala" → the beat)."""
        typed = current.strip().lower()
        names = [name for name in self.topics.names() if typed in name.lower()][:MAX_CHOICES]
        if not names and typed:
            suggestion = self.topics.suggest(typed)
            names = [suggestion] if suggestion else []
        return [app_commands.Choice(name=n[:CHOICE_LIMIT], value=n[:CHOICE_LIMIT]) for n in names]


async def _fetch_member(interaction: discord.Interaction) -> discord.Member:
    """The member with roles that name themselves: the guild (with its roles) first, unless cached."""
    client = interaction.client
    guild_id = interaction.guild_id
    if guild_id is None:
        raise ValueError("an editor action outside a guild")
    guild = client.get_guild(guild_id) or await client.fetch_guild(guild_id)
    return await guild.fetch_member(interaction.user.id)


def _suggestions(current: str, values: Sequence[str]) -> list[app_commands.Choice[str]]:
    """Values starting with what was typed, and what was typed itself: durations stay free text."""
    typed = " ".join(current.split())[:CHOICE_LIMIT]
    matches = [v for v in values if v.startswith(typed.lower())]
    if typed and typed not in matches:
        matches.insert(0, typed)
    return [app_commands.Choice(name=v, value=v) for v in matches[:MAX_CHOICES]]


async def duration_choices(_interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return _suggestions(current, DURATION_SUGGESTIONS)


async def since_choices(_interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return _suggestions(current, SINCE_SUGGESTIONS)


# --- the command tree -----------------------------------------------------------------------------------
class NewsCommandTree(app_commands.CommandTree):
    """One error funnel: a crash becomes one polite ephemeral line."""

    def __init__(self, client: discord.Client, commands: NewsCommands) -> None:
        super().__init__(client)
        self.commands = commands
        install_commands(self, commands)

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        log.error("/%s failed", command, exc_info=error)
        text = FAILURE
        try:
            if interaction.response.is_done():
                await interaction.followup.send(
                    text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
            else:
                await interaction.response.send_message(
                    text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
        except discord.HTTPException:
            log.warning("could not tell the user that /%s failed", interaction.data, exc_info=True)


def install_commands(tree: app_commands.CommandTree, commands: NewsCommands) -> None:
    """Add `/news` (every subcommand) and `/newsadmin` (editor actions, hidden from non-editors)."""
    tree.add_command(news_group(commands))
    tree.add_command(admin_group(commands))


def news_group(commands: NewsCommands) -> app_commands.Group:
    group = app_commands.Group(
        name="news", description="Border-beat news: search, latest, digests", guild_only=True
    )

    @group.command(name="search", description="Search stored stories")
    @app_commands.describe(
        query='Words, "quoted phrases", -exclusions; also source:afp topic:humanitarian-aid',
        since="Only stories since then: 7d, 24h or a date like 2019-02-23",
        language="Only stories in this language",
    )
    @app_commands.choices(language=[app_commands.Choice(name=v, value=k) for k, v in LANGUAGES.items()])
    @app_commands.autocomplete(since=since_choices)
    async def search(
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 500],
        since: str | None = None,
        language: str | None = None,
    ) -> None:
        await commands.answer(interaction, search_line(query, since, language))

    @group.command(name="latest", description="The newest stories on the beat")
    @app_commands.describe(topic="Only this topic", count="How many (1–25)")
    @app_commands.autocomplete(topic=commands.topic_choices)
    async def latest(
        interaction: discord.Interaction,
        topic: str | None = None,
        count: app_commands.Range[int, 1, 25] | None = None,
    ) -> None:
        await commands.answer(interaction, latest_line(topic, count))

    @group.command(name="story", description="One story: every source, its figures and updates")
    @app_commands.describe(number="The story number shown under alerts and results")
    async def story(interaction: discord.Interaction, number: app_commands.Range[int, 1]) -> None:
        await commands.answer(interaction, simple_line("story", number))

    @group.command(name="figures", description="Key figures of matching stories over time")
    @app_commands.describe(query="What to look for, e.g. deserters")
    async def figures(interaction: discord.Interaction, query: app_commands.Range[str, 1, 500]) -> None:
        await commands.answer(interaction, simple_line("figures", query))

    @group.command(name="digest", description="The period's stories, grouped by topic")
    @app_commands.describe(period="How far back (default 24h)")
    @app_commands.choices(period=[app_commands.Choice(name=p, value=p) for p in DIGEST_PERIODS])
    async def digest(interaction: discord.Interaction, period: str | None = None) -> None:
        await commands.answer(interaction, simple_line("digest", period))

    @group.command(name="topics", description="Topics, and which are muted or subscribed here")
    async def topics(interaction: discord.Interaction) -> None:
        await commands.answer(interaction, "topics")

    @group.command(name="feeds", description="Feed health: last success, last error, next poll")
    async def feeds(interaction: discord.Interaction) -> None:
        await commands.answer(interaction, "feeds")

    @group.command(name="help", description="What Wirewatch can do, with examples")
    @app_commands.describe(command="Help on one command")
    @app_commands.choices(command=[app_commands.Choice(name=n, value=n) for n in COMMAND_NAMES])
    async def help_(interaction: discord.Interaction, command: str | None = None) -> None:
        await commands.answer(interaction, simple_line("help", command))

    add_editor_commands(group, commands)
    return group


def admin_group(commands: NewsCommands) -> app_commands.Group:
    group = app_commands.Group(
        name="newsadmin",
        description="Editors: mute topics and choose this channel's alerts",
        guild_only=True,
        default_permissions=discord.Permissions(manage_channels=True),
    )
    add_editor_commands(group, commands)
    return group


def add_editor_commands(group: app_commands.Group, commands: NewsCommands) -> None:
    @group.command(name="mute", description="Editors: stop alerts on a topic in this channel")
    @app_commands.describe(
        topic="The topic", duration="For how long (2h, 1d) or until when (until 18:00 UTC)"
    )
    @app_commands.autocomplete(topic=commands.topic_choices, duration=duration_choices)
    async def mute(interaction: discord.Interaction, topic: str, duration: str | None = None) -> None:
        await commands.answer(interaction, mute_line(topic, duration))

    @group.command(name="unmute", description="Editors: alerts on a topic again")
    @app_commands.describe(topic="The topic")
    @app_commands.autocomplete(topic=commands.topic_choices)
    async def unmute(interaction: discord.Interaction, topic: str) -> None:
        await commands.answer(interaction, topic_line("unmute", topic))

    @group.command(name="subscribe", description="Editors: send a topic's alerts to this channel")
    @app_commands.describe(topic="The topic")
    @app_commands.autocomplete(topic=commands.topic_choices)
    async def subscribe(interaction: discord.Interaction, topic: str) -> None:
        await commands.answer(interaction, topic_line("subscribe", topic))

    @group.command(name="unsubscribe", description="Editors: stop sending a topic's alerts here")
    @app_commands.describe(topic="The topic")
    @app_commands.autocomplete(topic=commands.topic_choices)
    async def unsubscribe(interaction: discord.Interaction, topic: str) -> None:
        await commands.answer(interaction, topic_line("unsubscribe", topic))

    @group.command(name="language", description="Editors: the language alerts in this channel are written in")
    @app_commands.describe(language="Alerts read in it when the story has a report in it")
    @app_commands.choices(language=ALERT_LANGUAGE_CHOICES)
    async def language(interaction: discord.Interaction, language: str) -> None:
        await commands.answer(interaction, simple_line("language", language))
