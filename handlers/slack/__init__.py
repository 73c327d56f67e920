"""The Slack adapter: Bolt listeners that parse `/news` and render its replies as Block Kit, the alert poster,
OAuth installs, and the app manifest (`manifest.yml`) a newsroom pastes into Slack. `runtime` wires them."""
