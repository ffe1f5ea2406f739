"""Settings: one typed object read from the environment (and a .env file if present)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dialogs.core.context import Settings as EngineSettings

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Settings(BaseSettings):
    """Every setting the bot reads; `.env.example` lists them all."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str | None = None
    database_url: str = "sqlite:///salescoach.db"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    bot_username: str = "SalesCoachBot"
    knowledge_dirs: Annotated[tuple[Path, ...], NoDecode] = ()
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    log_level: str = "INFO"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """ADMIN_IDS is a comma- or space-separated list of numeric Telegram user ids."""
        if isinstance(value, str):
            return frozenset(int(part) for part in re.split(r"[,\s]+", value) if part)
        return value

    @field_validator("knowledge_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        """KNOWLEDGE_DIRS is a list of directories separated by ':' (or ',')."""
        if isinstance(value, str):
            return tuple(Path(part) for part in re.split(r"[:,]", value) if part)
        return value

    def token_problem(self) -> str | None:
        """Why the token cannot be used, or None if it looks like a bot token."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            return "TELEGRAM_BOT_TOKEN is not set"
        if not TOKEN_PATTERN.match(self.telegram_bot_token.get_secret_value()):
            return "TELEGRAM_BOT_TOKEN is malformed (expected digits, a colon and the secret, as BotFather gives it)"
        return None

    def webhook_problem(self) -> str | None:
        """Why webhook mode cannot start, or None: it needs the public URL and a secret token
        (without one, anyone who finds the URL could post forged updates)."""
        if not self.webhook_url:
            return "WEBHOOK_URL is not set (the public URL Telegram posts updates to)"
        if not self.webhook_url.startswith(("https://", "http://")):
            return "WEBHOOK_URL must start with https:// (or http:// behind a TLS proxy or a local Bot API server)"
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            return "WEBHOOK_SECRET is not set (Telegram sends it with every update, so forged posts are refused)"
        if not SECRET_PATTERN.match(self.webhook_secret.get_secret_value()):
            return "WEBHOOK_SECRET may hold only letters, digits, _ and - (1 to 256 of them)"
        return None

    def engine_settings(self) -> EngineSettings:
        """The part of the settings the transport-free engine needs."""
        return EngineSettings(admin_ids=self.admin_ids, bot_username=self.bot_username)
