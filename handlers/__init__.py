"""The `/news` command layer (platform-neutral) and the adapters that render it: console, Slack, Discord."""
