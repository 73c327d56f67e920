"""Who may steer alerts in Slack: workspace admins/owners, plus the people named in SLACK_EDITOR_IDS.

SLACK_EDITOR_IDS holds user IDs (U…/W…) and user group IDs (S…), comma- or space-separated. Answers are
cached for a few minutes per workspace and user, so a burst of button clicks costs one `users.info`.
Any failure to ask Slack (an API error, Slack unreachable, a timeout) is logged and read as "not an
editor" for that request only; it is not cached, so the next request asks again.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from errors import describe

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class EditorList:
    user_ids: frozenset[str]
    group_ids: frozenset[str]

    @classmethod
    def parse(cls, raw: str) -> EditorList:
        ids = [part for part in re.split(r"[\s,]+", raw.strip()) if part]
        return cls(
            user_ids=frozenset(i for i in ids if not i.startswith("S")),
            group_ids=frozenset(i for i in ids if i.startswith("S")),
        )


class EditorPolicy:
    """`await policy.is_editor(client, team_id, user_id)`; a Slack failure means "not an editor"."""

    def __init__(
        self,
        editors: EditorList,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._editors = editors
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._answers: dict[tuple[str, str], tuple[float, bool]] = {}
        self._groups: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}

    async def is_editor(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool:
        if user_id in self._editors.user_ids:
            return True
        key = (team_id, user_id)
        cached = self._answers.get(key)
        if cached is not None and self._clock() - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            answer = await self._is_admin(client, user_id) or await self._in_editor_group(
                client, team_id, user_id
            )
        except _LookupFailed:
            return False  # not cached: Slack being unreachable now says nothing about the user's role
        self._answers[key] = (self._clock(), answer)
        return answer

    async def _is_admin(self, client: AsyncWebClient, user_id: str) -> bool:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as error:
            log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            if _momentary(error):
                raise _LookupFailed from error
            return False
        except Exception as error:  # unreachable, timed out, or a response the SDK could not read
            log.warning("users.info failed for %s: %s; treating as not an editor", user_id, describe(error))
            raise _LookupFailed from error
        user = response.get("user") or {}
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    async def _in_editor_group(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool:
        for group in self._editors.group_ids:
            members = await self._group_members(client, team_id, group)
            if user_id in members:
                return True
        return False

    async def _group_members(self, client: AsyncWebClient, team_id: str, group: str) -> frozenset[str]:
        key = (team_id, group)
        cached = self._groups.get(key)
        if cached is not None and self._clock() - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            response = await client.usergroups_users_list(usergroup=group)
            members = frozenset(response.get("users") or [])
        except SlackApiError as error:
            log.warning("usergroups.users.list failed for %s: %s", group, error.response.get("error"))
            if _momentary(error):
                raise _LookupFailed from error
            members = frozenset()
        except Exception as error:  # unreachable, timed out: ask again next time
            log.warning(
                "usergroups.users.list failed for %s: %s; treating as not an editor", group, describe(error)
            )
            raise _LookupFailed from error
        self._groups[key] = (self._clock(), members)
        return members


class _LookupFailed(Exception):
    """Slack could not be asked; the caller is "not an editor" this time, and nothing is cached."""


def _momentary(error: SlackApiError) -> bool:
    """A 5xx or a rate limit: Slack's answer may differ in a moment, so it is not cached."""
    status = error.response.status_code
    return status >= 500 or status == 429


