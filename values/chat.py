"""Who typed a `/news` command and where: what the command layer, the adapters and storage share."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


class EditorStatus(enum.Enum):
    """Whether the caller may steer alerts. UNKNOWN: the platform could not be asked just now."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


# Asks the chat platform for the caller's role. Called only for editor-only commands, so a search never
# waits on (or fails with) a role lookup; it answers UNKNOWN rather than raising when the platform fails.
RoleCheck = Callable[[], Awaitable[EditorStatus]]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who typed the command.

    `is_editor=True` means the adapter already knows (console `--editor`); otherwise `role_check`, when
    given, asks the platform on demand, and a caller with neither is not an editor.
    """

    user_id: str
    is_editor: bool = False
    display_name: str | None = None
    role_check: RoleCheck | None = field(default=None, compare=False, repr=False)
    editor_rule: str | None = None  # who counts as an editor here, in words, for a refusal

    async def editor_status(self) -> EditorStatus:
        if self.is_editor:
            return EditorStatus.YES
        if self.role_check is None:
            return EditorStatus.NO
        return await self.role_check()


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """Where the command was typed: mutes and subscriptions are per channel."""

    platform: str  # "console", "slack", "discord"
    external_id: str
    team_id: str | None = None
