"""The app manifest a newsroom pastes into Slack asks for exactly what the code uses."""

from __future__ import annotations

import re
from pathlib import Path

from handlers.slack import BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH

MANIFEST = Path(__file__).resolve().parent.parent / "slack" / "manifest.yml"


def bot_scopes(text: str) -> list[str]:
    """The `oauth_config.scopes.bot` list, read without a YAML dependency (the file's layout is ours)."""
    block = text.split("    bot:\n", 1)[1]
    scopes = []
    for line in block.splitlines():
        match = re.match(r"^      - ([a-z:.]+)", line)
        if not match:
            break
        scopes.append(match.group(1))
    return scopes


def test_manifest_scopes_match_the_scopes_the_oauth_flow_requests() -> None:
    assert tuple(bot_scopes(MANIFEST.read_text())) == BOT_SCOPES


def test_manifest_routes_command_and_interactivity_to_the_events_endpoint() -> None:
    text = MANIFEST.read_text()
    assert "- command: /news" in text
    urls = re.findall(r"(?:url|request_url): (\S+)", text)
    assert len(urls) == 2 and all(url.endswith(EVENTS_PATH) for url in urls)
    assert re.search(rf"- https://\S+{REDIRECT_PATH}\n", text)
    assert "is_enabled: true" in text
