"""`make demo`: bundled sample feeds replayed over loopback HTTP through the real bot."""
