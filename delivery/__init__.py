"""Reliable delivery: the transactional outbox and the sender that drains it to chat platforms."""
