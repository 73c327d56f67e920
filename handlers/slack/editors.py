"""Who may steer alerts in Slack: workspace admins/owners, plus the people named in SLACK_EDITOR_IDS.

SLACK_EDITOR_IDS holds user IDs (U…/W…) and user group IDs (S…), comma- or space-separated. The command
layer asks only for editor-only commands (`Caller.role_check`), so searches never call Slack for a role.
Answers are cached for a few minutes per workspace and user, so a burst of button clicks costs one
`users.info`. Slack's clear answer ("no such user", a missing scope) reads as "not an editor"; Slack
failing to answer (a timeout, a 5xx, a 429, a body that is not Slack's JSON, Slack unreachable) reads as
UNKNOWN, is logged and is not cached, so the next request asks again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from errors import describe
from handlers.slack.poster import RATE_LIMIT_ERRORS, TRANSIENT_ERRORS
from values.chat import EditorStatus, RoleCheck

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
# Longer than one retried call (the client retries a 5xx or a 429 once), short enough that an editor
# is told "try again" while still at the keyboard rather than after the client's 15 s timeout.
LOOKUP_SECONDS = 6.0


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
    """`await policy.editor_status(client, team_id, user_id)`: YES, NO, or UNKNOWN when Slack failed."""

    def __init__(
        self,
        editors: EditorList,
        *,
        cache_seconds: float = CACHE_SECONDS,
        lookup_seconds: float = LOOKUP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._editors = editors
        self._cache_seconds = cache_seconds
        self._lookup_seconds = lookup_seconds
        self._clock = clock
        self._answers: dict[tuple[str, str], tuple[float, bool]] = {}
        self._groups: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}

    def role_check(self, client: AsyncWebClient, team_id: str, user_id: str) -> RoleCheck:
        """The lazy check a `Caller` carries: nothing is asked of Slack until the command layer calls it."""

        async def check() -> EditorStatus:
            return await self.editor_status(client, team_id, user_id)

        return check

    async def editor_status(self, client: AsyncWebClient, team_id: str, user_id: str) -> EditorStatus:
        if user_id in self._editors.user_ids:
            return EditorStatus.YES
        key = (team_id, user_id)
        cached = self._answers.get(key)
        if cached is not None and self._clock() - cached[0] < self._cache_seconds:
            return _status(cached[1])
        try:
            async with asyncio.timeout(self._lookup_seconds):
                answer = await self._is_admin(client, user_id) or await self._in_editor_group(
                    client, team_id, user_id
                )
        except TimeoutError:
            log.warning("editor lookup for %s took over %.1fs; role unknown", user_id, self._lookup_seconds)
            return EditorStatus.UNKNOWN
        except _LookupFailed:
            return EditorStatus.UNKNOWN  # not cached: Slack failing now says nothing about the user's role
        self._answers[key] = (self._clock(), answer)
        return _status(answer)

    async def _is_admin(self, client: AsyncWebClient, user_id: str) -> bool:
        try:
            response = await client.users_info(user=user_id)
        except Exception as error:
            if _clear_refusal(error):
                log.warning("users.info refused for %s: %s; not an editor", user_id, _code(error))
                return False
            log.warning("users.info failed for %s: %s; role unknown", user_id, describe(error))
            raise _LookupFailed from error
        user = response.get("user") or {}
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    async def _in_editor_group(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool:
        for group in sorted(self._editors.group_ids):
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
        except Exception as error:
            if not _clear_refusal(error):
                log.warning("usergroups.users.list failed for %s: %s; role unknown", group, describe(error))
                raise _LookupFailed from error
            log.warning("usergroups.users.list refused for %s: %s", group, _code(error))
            members = frozenset()
        self._groups[key] = (self._clock(), members)
        return members


class _LookupFailed(Exception):
    """Slack could not be asked; the caller's role is unknown this time, and nothing is cached."""


def _status(is_editor: bool) -> EditorStatus:
    return EditorStatus.YES if is_editor else EditorStatus.NO


def _clear_refusal(error: Exception) -> bool:
    """Slack read the request and answered "no" in its own JSON (`user_not_found`, `missing_scope`...).

    Anything else — a 5xx, a 429, a rate-limit or transient code, a body that is not Slack's JSON (the SDK
    then raises with no readable `error`, sometimes with the raw HTTP response attached) — may read
    differently in a moment, so it is not an answer about the user.
    """
    if not isinstance(error, SlackApiError) or not isinstance(error.response, AsyncSlackResponse):
        return False
    code = _code(error)
    return (
        error.response.status_code == 200
        and isinstance(code, str)
        and code not in RATE_LIMIT_ERRORS | TRANSIENT_ERRORS
    )


def _code(error: Exception) -> object:
    response = getattr(error, "response", None)
    data = getattr(response, "data", None)
    return data.get("error") if isinstance(data, dict) else None
