"""The `bot.py` command line: one module per command group, composed in bot.py.

Each module imports at its top only typer, the standard library and what is light (`errors`, `values`, the
domain model); the rest (settings, SQLAlchemy, the story pipeline, aiohttp, rich) is imported inside the
command that needs it, so `bot.py --help` starts in a blink. cli/ wires: it may import every other layer.
"""
