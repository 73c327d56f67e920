"""Logs, metrics and health: how an operator sees what Wirewatch is doing."""
