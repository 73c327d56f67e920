"""The console adapter: alerts printed to the terminal and `/news` lines read from stdin (`runtime`), and the
plain-text rendering of alerts and replies (`render`) that `bot.py ask` prints too."""
