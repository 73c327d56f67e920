"""The `bot.py` command line: one module per command group, composed in bot.py."""
