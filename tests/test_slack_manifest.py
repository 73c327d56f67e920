"""The app manifest a newsroom pastes into Slack asks for exactly what the code uses."""

from __future__ import annotations

import re

from handlers.slack.runtime import BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH
from tests.fakes.slack_api import MANIFEST, manifest_bot_scopes


def test_manifest_scopes_match_the_scopes_the_oauth_flow_requests() -> None:
    assert tuple(manifest_bot_scopes(MANIFEST.read_text())) == BOT_SCOPES


def test_manifest_routes_command_and_interactivity_to_the_events_endpoint() -> None:
    text = MANIFEST.read_text()
    assert "- command: /news" in text
    urls = re.findall(r"(?:url|request_url): (\S+)", text)
    assert len(urls) == 2 and all(url.endswith(EVENTS_PATH) for url in urls)
    assert re.search(rf"- https://\S+{REDIRECT_PATH}\n", text)
    assert "is_enabled: true" in text


# Which Web API methods need each scope (Slack's method pages); "commands" is the slash command itself.
SCOPE_METHODS: dict[str, tuple[str, ...]] = {
    "commands": ('command("/news")',),
    "chat:write": ("chat.postMessage", "chat.update"),
    "files:write": ("files_upload_v2",),
    "users:read": ("users_info",),
    "usergroups:read": ("usergroups_users_list",),
    "channels:read": ("conversations_info", "conversations.info", "conversations_list", "conversations.list"),
    "groups:read": ("conversations_info", "conversations.info", "conversations_list", "conversations.list"),
    "channels:history": ("conversations.history", "conversations.replies"),
    "groups:history": ("conversations.history", "conversations.replies"),
}


def test_every_scope_the_manifest_asks_for_is_used_by_the_code() -> None:
    """A scope no code path needs is a permission the newsroom grants for nothing (and docs/slack.md
    would be justifying it with a feature that does not exist)."""
    source = "\n".join(path.read_text() for path in sorted(MANIFEST.parent.glob("*.py")))
    for scope in manifest_bot_scopes(MANIFEST.read_text()):
        assert scope in SCOPE_METHODS, f"{scope}: unknown scope, say which method needs it"
        assert any(method in source for method in SCOPE_METHODS[scope]), (
            f"{scope} is asked for but never used"
        )
