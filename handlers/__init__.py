"""Chat-facing code, by job: `news/` is the platform-neutral `/news` command layer; `slack/`, `discord/` and
`console/` are the adapters, which only translate a platform's input into a command line and render the
`NewsReply` (and alerts) back. Adapters import the command layer, never each other; nothing here imports
`cli/` or `runtime/` (import-linter checks both in `make test`)."""
