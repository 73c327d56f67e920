"""Settings read from the environment and `.env`.

Every field here is documented line by line in `.env.example`; `tests/test_settings.py` fails when the two
drift apart. Secrets are `SecretStr` so they never appear in logs or reprs.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from errors import ConfigurationError as ConfigurationError  # defined with the error tree; raised here

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FEEDS_FILE = PROJECT_ROOT / "feeds" / "sources.toml"
DEFAULT_TOPICS_FILE = PROJECT_ROOT / "stories" / "topics.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # --- storage -------------------------------------------------------------------------------------
    database_url: str = Field("sqlite:///wirewatch.db", alias="DATABASE_URL")

    # --- feeds and polling ---------------------------------------------------------------------------
    feeds_file: Path = Field(DEFAULT_FEEDS_FILE, alias="FEEDS_FILE")
    topics_file: Path = Field(DEFAULT_TOPICS_FILE, alias="TOPICS_FILE")
    poll_interval_seconds: int = Field(300, alias="POLL_INTERVAL_SECONDS", ge=1)
    poll_min_seconds: int = Field(60, alias="POLL_MIN_SECONDS", ge=1)
    poll_max_seconds: int = Field(3600, alias="POLL_MAX_SECONDS", ge=1)
    scheduler_tick_seconds: float = Field(15.0, alias="SCHEDULER_TICK_SECONDS", gt=0)
    alert_max_age_hours: float = Field(6.0, alias="ALERT_MAX_AGE_HOURS", gt=0)
    fetch_connect_timeout_seconds: float = Field(5.0, alias="FETCH_CONNECT_TIMEOUT_SECONDS", gt=0)
    fetch_total_timeout_seconds: float = Field(30.0, alias="FETCH_TOTAL_TIMEOUT_SECONDS", gt=0)
    feed_max_bytes: int = Field(10 * 1024 * 1024, alias="FEED_MAX_BYTES", gt=0)
    fetch_concurrency: int = Field(20, alias="FETCH_CONCURRENCY", ge=1)
    fetch_per_host_concurrency: int = Field(4, alias="FETCH_PER_HOST_CONCURRENCY", ge=1)
    fetch_articles: bool = Field(False, alias="FETCH_ARTICLES")

    # --- workers and leases --------------------------------------------------------------------------
    worker_id: str | None = Field(None, alias="WORKER_ID")
    lease_seconds: int = Field(15, alias="LEASE_SECONDS", ge=5)
    delivery_max_attempts: int = Field(8, alias="DELIVERY_MAX_ATTEMPTS", ge=1)
    delivery_channel_interval_seconds: float = Field(1.0, alias="DELIVERY_CHANNEL_INTERVAL_SECONDS", ge=0)
    delivery_global_per_second: float = Field(20.0, alias="DELIVERY_GLOBAL_PER_SECOND", gt=0)

    # --- observability -------------------------------------------------------------------------------
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_format: str = Field("auto", alias="LOG_FORMAT")
    metrics_port: int | None = Field(None, alias="METRICS_PORT", ge=0, le=65535)

    # --- Slack ---------------------------------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_base_url: str | None = Field(None, alias="SLACK_API_BASE_URL")
    slack_http_port: int = Field(3000, alias="SLACK_HTTP_PORT", ge=0, le=65535)
    slack_alert_channel: str | None = Field(None, alias="SLACK_ALERT_CHANNEL")
    slack_editor_ids: str = Field("", alias="SLACK_EDITOR_IDS")
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, alias="SLACK_CLIENT_SECRET")

    # --- Discord -------------------------------------------------------------------------------------
    discord_token: SecretStr | None = Field(None, alias="DISCORD_TOKEN")
    discord_guild_id: int | None = Field(None, alias="DISCORD_GUILD_ID")
    discord_alert_channel: int | None = Field(None, alias="DISCORD_ALERT_CHANNEL")
    discord_editor_role: str | None = Field(None, alias="DISCORD_EDITOR_ROLE")
    discord_api_base_url: str | None = Field(None, alias="DISCORD_API_BASE_URL")
    discord_gateway_url: str | None = Field(None, alias="DISCORD_GATEWAY_URL")

    # --- console -------------------------------------------------------------------------------------
    console_channel: str = Field("console", alias="CONSOLE_CHANNEL")
    # Console and `bot.py ask` write figure charts (PNG) here and print the path.
    chart_dir: Path = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / "wirewatch-charts", alias="CHART_DIR"
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        fmt = value.lower()
        if fmt not in {"auto", "json", "console"}:
            raise ValueError("must be auto, json or console")
        return fmt

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @model_validator(mode="after")
    def _coherent_polling(self) -> Settings:
        if self.poll_min_seconds > self.poll_max_seconds:
            raise ValueError("POLL_MIN_SECONDS must not exceed POLL_MAX_SECONDS")
        slack_credentials = self.slack_bot_token or self.slack_client_id or self.slack_app_token
        if slack_credentials and self.slack_signing_secret is None:
            # Without it Slack requests cannot be verified; silently falling back to the console would
            # leave a newsroom wondering why the bot never answers.
            raise ValueError("SLACK_SIGNING_SECRET is required when a Slack token or client ID is set")
        return self

    @property
    def slack_enabled(self) -> bool:
        # Single workspace (bot token) or multi-workspace OAuth installs; both need the signing secret.
        installs = self.slack_client_id is not None and self.slack_client_secret is not None
        return self.slack_signing_secret is not None and (self.slack_bot_token is not None or installs)

    @property
    def discord_enabled(self) -> bool:
        return self.discord_token is not None


def _describe(error: ValidationError) -> str:
    """One line naming the variable, instead of pydantic's multi-line report."""
    first = error.errors()[0]
    if not first.get("loc"):
        # A rule across several variables: its message names them.
        return "configuration error: " + first.get("msg", "invalid settings").removeprefix("Value error, ")
    location = first["loc"]
    name = str(location[0]).upper()
    fields = Settings.model_fields
    for field_name, info in fields.items():
        if field_name == location[0] and info.alias:
            name = info.alias
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    return f"configuration error: {name}: {message}"


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise ConfigurationError with one readable line on bad input."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigurationError(_describe(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
