"""Discord command adapter without the gateway: line rebuilding, the editor check, autocomplete, and
the callbacks called directly with a mock interaction (answer vs. defer + follow-up)."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from config.settings import DEFAULT_TOPICS_FILE
from errors import CommandError
from handlers.discord.commands import (
    NewsCommands,
    admin_group,
    editor_rule,
    editor_status_in_payload,
    news_group,
)
from handlers.discord.lines import latest_line, mute_line, search_line, topic_line
from handlers.news.help_text import COMMAND_NAMES
from handlers.news.views import NewsReply
from stories.topics import TopicCatalog, load_topics
from values.chat import Caller, ChannelRef, EditorStatus


class StandInNews:
    """Same `handle` signature as `handlers.news.service.NewsService`: records each line and answers with it.

    A line whose first word is in `gates` waits for that event, to make an answer slow on purpose.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, Caller, ChannelRef]] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.public: set[str] = set()

    async def handle(self, text: str, caller: Caller, channel: ChannelRef) -> NewsReply:
        self.calls.append((text, caller, channel))
        first = text.split()[0] if text.split() else ""
        if first in self.gates:
            await self.gates[first].wait()
        if first == "broken":
            raise CommandError("That is not a command I know.", example="/news help")
        return NewsReply(kind=first, title=f"answer: {text}", ephemeral=first not in self.public)


@pytest.fixture(scope="module")
def catalog() -> TopicCatalog:
    return load_topics(DEFAULT_TOPICS_FILE)


def mock_interaction(*, manage_channels: bool = False, role_names: tuple[str, ...] = ()) -> MagicMock:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.permissions = discord.Permissions(manage_channels=manage_channels)
    member = MagicMock(spec=discord.Member)
    member.id = 42
    member.display_name = "Reporter"
    member.roles = []
    for name in role_names:
        role = MagicMock(spec=discord.Role)
        role.name = name  # `name=` in the constructor would name the mock, not the role
        member.roles.append(role)
    interaction.user = member
    interaction.channel_id = 1001
    interaction.guild_id = 2002
    interaction.response = AsyncMock()
    interaction.followup = AsyncMock()
    return interaction


def subcommand(group: discord.app_commands.Group, name: str) -> discord.app_commands.Command[Any, Any, Any]:
    command = group.get_command(name)
    assert isinstance(command, discord.app_commands.Command)
    return command


# --- lines the command layer reads ----------------------------------------------------------------------
def test_search_line_is_explicit_and_appends_filters_as_query_language() -> None:
    assert search_line("  cucuta   bridge ", "7d", "es") == "search cucuta bridge since:7d lang:es"
    assert search_line('"puente Simón Bolívar"') == 'search "puente Simón Bolívar"'
    # A query starting with a command's name is still a search.
    assert search_line("latest deserters") == "search latest deserters"


def test_mute_line_reads_bare_durations_as_for() -> None:
    assert mute_line("migration-refugees", "2h") == "mute migration-refugees for 2h"
    assert mute_line("migration-refugees", "until 18:00") == "mute migration-refugees until 18:00"
    assert mute_line("migration-refugees", "for 1d") == "mute migration-refugees for 1d"
    assert mute_line("migration-refugees") == "mute migration-refugees"
    # A topic typed with spaces stays one word, so the duration is not read as part of it.
    assert mute_line(" humanitarian  aid ", "2h") == "mute humanitarian-aid for 2h"
    assert topic_line("subscribe", "humanitarian aid") == "subscribe humanitarian-aid"


def test_latest_line_skips_missing_options() -> None:
    assert latest_line() == "latest"
    assert latest_line("humanitarian-aid", 5) == "latest humanitarian-aid 5"
    assert latest_line(None, 3) == "latest 3"


def test_news_group_has_every_subcommand_and_admin_only_the_editor_actions(catalog: TopicCatalog) -> None:
    commands = NewsCommands(StandInNews(), catalog)
    news = news_group(commands)
    assert sorted(c.name for c in news.commands) == sorted(COMMAND_NAMES)
    assert news.default_permissions is None  # reporters see /news
    admin = admin_group(commands)
    editor_actions = ["language", "mute", "subscribe", "unmute", "unsubscribe"]
    assert sorted(c.name for c in admin.commands) == editor_actions
    assert admin.default_permissions == discord.Permissions(manage_channels=True)


# --- editors --------------------------------------------------------------------------------------------
def test_editor_is_manage_channels_or_the_named_role() -> None:
    yes, no = EditorStatus.YES, EditorStatus.NO
    assert editor_status_in_payload(mock_interaction(manage_channels=True), None) is yes
    assert editor_status_in_payload(mock_interaction(role_names=("Desk Editors",)), "desk editors") is yes
    assert editor_status_in_payload(mock_interaction(role_names=("Reporters",)), "Desk Editors") is no
    assert editor_status_in_payload(mock_interaction(role_names=("Desk Editors",)), None) is no


def test_the_refusal_is_told_who_counts_as_an_editor() -> None:
    assert "Manage Channels or the Desk role" in editor_rule("Desk")
    assert editor_rule(None) == "members with Manage Channels"


async def test_the_callers_role_is_left_to_the_command_layer(catalog: TopicCatalog) -> None:
    news = StandInNews()
    commands = NewsCommands(news, catalog, editor_role="Desk")
    await commands.answer(mock_interaction(role_names=("Desk",)), "mute migration-refugees")
    await commands.answer(mock_interaction(role_names=("Reporters",)), "mute migration-refugees")
    [(_, editor, _), (_, reporter, _)] = news.calls
    assert await editor.editor_status() is EditorStatus.YES
    assert await reporter.editor_status() is EditorStatus.NO
    assert "the Desk role" in (reporter.editor_rule or "")


# --- callbacks, called directly -------------------------------------------------------------------------
async def test_callback_answers_at_once_ephemeral_with_an_embed(catalog: TopicCatalog) -> None:
    news = StandInNews()
    group = news_group(NewsCommands(news, catalog))
    interaction = mock_interaction()
    await subcommand(group, "latest").callback(interaction, topic="migration-refugees", count=3)  # type: ignore[call-arg]
    text, caller, channel = news.calls[0]
    assert text == "latest migration-refugees 3"
    assert (caller.user_id, caller.display_name) == ("42", "Reporter")
    assert channel == ChannelRef("discord", "1001", team_id="2002")
    kwargs = interaction.response.send_message.await_args.kwargs
    assert kwargs["ephemeral"] is True
    assert kwargs["embed"].title == "answer: latest migration-refugees 3"
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
    interaction.response.defer.assert_not_awaited()


async def test_language_subcommand_offers_the_three_choices_and_sends_the_line(catalog: TopicCatalog) -> None:
    news = StandInNews()
    for group in (news_group(NewsCommands(news, catalog)), admin_group(NewsCommands(news, catalog))):
        language = subcommand(group, "language")
        assert [c.value for c in language.parameters[0].choices] == ["en", "es", "any"]
        await language.callback(mock_interaction(), language="es")  # type: ignore[call-arg]
    assert [text for text, _, _ in news.calls] == ["language es", "language es"]


async def test_callback_shares_replies_the_command_layer_marks_public(catalog: TopicCatalog) -> None:
    news = StandInNews()
    news.public.add("digest")
    interaction = mock_interaction()
    await subcommand(news_group(NewsCommands(news, catalog)), "digest").callback(interaction, period="12h")  # type: ignore[call-arg]
    assert news.calls[0][0] == "digest 12h"
    assert interaction.response.send_message.await_args.kwargs["ephemeral"] is False


async def test_slow_answer_is_deferred_then_followed_up(catalog: TopicCatalog) -> None:
    news = StandInNews()
    news.gates["figures"] = gate = asyncio.Event()
    commands = NewsCommands(news, catalog, defer_after=0.01)
    interaction = mock_interaction()
    deferred = asyncio.Event()
    interaction.response.defer.side_effect = lambda **_: deferred.set()
    call = asyncio.create_task(
        subcommand(news_group(commands), "figures").callback(interaction, query="deserters")  # type: ignore[call-arg]
    )
    await asyncio.wait_for(deferred.wait(), timeout=5)
    interaction.followup.send.assert_not_awaited()  # the answer is not ready yet
    gate.set()
    await asyncio.wait_for(call, timeout=5)
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    followup = interaction.followup.send.await_args.kwargs
    assert followup["embed"].title == "answer: figures deserters"
    assert followup["ephemeral"] is True
    interaction.response.send_message.assert_not_awaited()


async def test_command_error_becomes_a_helpful_reply(catalog: TopicCatalog) -> None:
    interaction = mock_interaction()
    commands = NewsCommands(StandInNews(), catalog)
    await commands.answer(interaction, "broken line")
    embed = interaction.response.send_message.await_args.kwargs["embed"]
    assert embed.description == "That is not a command I know."
    assert "/news help" in embed.fields[-1].value


# --- autocomplete ---------------------------------------------------------------------------------------
async def test_topic_autocomplete_filters_then_falls_back_to_the_fuzzy_suggestion(
    catalog: TopicCatalog,
) -> None:
    commands = NewsCommands(StandInNews(), catalog)
    everything = await commands.topic_choices(mock_interaction(), "")
    assert [c.value for c in everything] == catalog.names()
    assert [c.value for c in await commands.topic_choices(mock_interaction(), "AID")] == ["humanitarian-aid"]
    typo = await commands.topic_choices(mock_interaction(), "venezuala")
    assert [c.value for c in typo] == [catalog.suggest("venezuala")]
