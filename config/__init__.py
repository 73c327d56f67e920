"""Configuration: one typed settings object read from the environment and `.env`."""
