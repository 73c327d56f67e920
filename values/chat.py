"""Who typed a `/news` command and where: what the command layer, the adapters and storage share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """Who typed the command. The adapter decides `is_editor` from the platform's roles."""

    user_id: str
    is_editor: bool = False
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """Where the command was typed: mutes and subscriptions are per channel."""

    platform: str  # "console", "slack", "discord"
    external_id: str
    team_id: str | None = None
