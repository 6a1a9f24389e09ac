"""Settings from the environment (and an optional ``.env`` file); the README lists them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://slack.com/api/"


class ConfigError(Exception):
    """A required setting is missing; the message names the variable to set."""


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["text", "json"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(DEFAULT_API_URL, alias="SLACK_API_URL")
    http_port: int | None = Field(None, alias="BOT_HTTP_PORT")
    http_host: str = Field("0.0.0.0", alias="BOT_HTTP_HOST")
    health_port: int | None = Field(None, alias="BOT_HEALTH_PORT", ge=0, le=65535)
    database: str = Field("incidents.db", alias="BOT_DB")  # a SQLite file, or a postgresql:// URL
    runbooks_setting: Path | None = Field(None, alias="BOT_RUNBOOKS")
    stakeholder_channel: str | None = Field(None, alias="BOT_STAKEHOLDER_CHANNEL")
    log_level: LogLevel = Field("INFO", alias="BOT_LOG_LEVEL")
    claim_lease: timedelta = Field(timedelta(seconds=15), alias="BOT_CLAIM_LEASE")
    log_format: LogFormat = Field("text", alias="BOT_LOG_FORMAT")
    pagerduty_routing_key: SecretStr | None = Field(None, alias="PAGERDUTY_ROUTING_KEY")
    pagerduty_events_url: str = Field("https://events.pagerduty.com", alias="PAGERDUTY_EVENTS_URL")
    pagerduty_api_token: SecretStr | None = Field(None, alias="PAGERDUTY_API_TOKEN")
    pagerduty_api_url: str = Field("https://api.pagerduty.com", alias="PAGERDUTY_API_URL")
    statuspage_api_key: SecretStr | None = Field(None, alias="STATUSPAGE_API_KEY")
    statuspage_page_id: str | None = Field(None, alias="STATUSPAGE_PAGE_ID")
    statuspage_api_url: str = Field("https://api.statuspage.io", alias="STATUSPAGE_API_URL")
    prometheus_url: str | None = Field(None, alias="PROMETHEUS_URL")
    hotfix_webhook_url: str | None = Field(None, alias="HOTFIX_WEBHOOK_URL")
    hotfix_webhook_secret: SecretStr | None = Field(None, alias="HOTFIX_WEBHOOK_SECRET")

    @field_validator("claim_lease", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        """``15s``, ``1m``: a duration as runbooks write them."""
        if isinstance(value, str):
            from bot.domain.durations import parse_duration

            try:
                lease = parse_duration(value)
            except ValueError as exc:
                raise ValueError(f"a duration such as 15s or 1m ({exc})") from None
            if lease.total_seconds() < 1:
                raise ValueError("a duration of at least 1s, such as 15s")
            return lease
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    def require_tokens(self) -> None:
        """Fail with one line naming the missing variable, before anything connects."""
        if self.slack_bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set: set it to your app's xoxb-... bot token")
        if self.http_port is None and self.slack_app_token is None:
            raise ConfigError(
                "SLACK_APP_TOKEN is not set: set it to an xapp-... app token for Socket Mode, "
                "or set BOT_HTTP_PORT (and SLACK_SIGNING_SECRET) to serve HTTP"
            )
        if self.http_port is not None and self.slack_signing_secret is None:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to check requests")

    def routing_keys(self, names: set[str], environ: Mapping[str, str]) -> dict[str, str]:
        """The PagerDuty integration keys the runbook's contacts name, by variable, where set
        (``PAGERDUTY_ROUTING_KEY`` may come from ``.env`` too)."""
        keys = {name: environ[name] for name in names if environ.get(name, "").strip()}
        if self.pagerduty_routing_key and self.pagerduty_routing_key.get_secret_value().strip():
            keys["PAGERDUTY_ROUTING_KEY"] = self.pagerduty_routing_key.get_secret_value().strip()
        return keys

    def statuspage_problem(self) -> str | None:
        """Statuspage needs both its key and its page id: name the missing one (None: both or neither)."""
        if bool(self.statuspage_api_key) == bool(self.statuspage_page_id):
            return None
        missing = "STATUSPAGE_PAGE_ID" if self.statuspage_api_key else "STATUSPAGE_API_KEY"
        return f"{missing} is not set: Statuspage needs STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID"

    @property
    def runbooks_path(self) -> Path:
        """BOT_RUNBOOKS; else ./runbooks when there is one; else the shipped defaults."""
        if self.runbooks_setting is not None:
            return self.runbooks_setting
        if Path("runbooks").is_dir():
            return Path("runbooks")
        from bot.runbooks import shipped_runbooks

        return shipped_runbooks()

    @property
    def runbooks_are_shipped(self) -> bool:
        return self.runbooks_setting is None and not Path("runbooks").is_dir()

    @property
    def api_url(self) -> str:
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"


def load_settings(**overrides: Any) -> Settings:
    """The settings, or one ConfigError line per bad variable: its name, what it got, what it takes."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"])
            accepts = error["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
            lines.append(f"{name}={error.get('input')!s}: expected {accepts}")
        raise ConfigError("; ".join(lines)) from None
