"""Process wiring: ingest transaction, worker roles, lifecycle."""
