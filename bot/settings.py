"""Settings: one typed object read from the environment (and a .env file if present)."""

from __future__ import annotations

import ipaddress
import re
from gettext import ngettext
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dialogs.core.context import Settings as EngineSettings

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
BOT_USERNAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,28}bot$", re.IGNORECASE)
HOST_NAME_PATTERN = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATABASE_SCHEMES = ("sqlite", "postgresql+psycopg")
DATABASE_EXAMPLES = "sqlite:///salescoach.db or postgresql+psycopg://user:pass@host/db"
SECRET_SETTINGS = frozenset({"telegram_bot_token", "webhook_secret", "database_url"})


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
    xapi_base_url: str = "https://salescoach.example"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_listen: str = "127.0.0.1"
    timezone: str = "Asia/Shanghai"

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        """LOG_LEVEL is one of Python's levels, in any case (info, Info, INFO)."""
        if isinstance(value, str) and value.upper() in LOG_LEVELS:
            return value.upper()
        raise ValueError(f"use one of {', '.join(LOG_LEVELS)}")

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_any_case(cls, value: object) -> object:
        """LOG_FORMAT is text (a line a record, for people) or json (an object a line, for collectors), in any case."""
        return value.lower() if isinstance(value, str) else value

    @field_validator("health_port", mode="before")
    def _optional_port(cls, value: object) -> object:
        """HEALTH_PORT left empty (as .env.example has it) means no health server for polling."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone")
    def _known_timezone(cls, value: str) -> str:
        """TIMEZONE is an IANA timezone name: reps' days, review reminders and quiet hours are in it."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a timezone; use an IANA name such as Asia/Shanghai, Europe/Berlin or UTC") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        """DATABASE_URL names a database the bot ships a driver for."""
        try:
            make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(f"not a database address; use {DATABASE_EXAMPLES}") from None
        scheme = value.partition("://")[0]
        if scheme not in DATABASE_SCHEMES:
            raise ValueError(f"{scheme!r} is not a supported database; use {DATABASE_EXAMPLES}")
        if scheme == "postgresql+psycopg" and find_spec("psycopg") is None:
            raise ValueError("PostgreSQL's driver is not installed; install SalesCoach with it: pip install 'salescoach[postgres]'")
        return value

    @field_validator("telegram_base_url", "xapi_base_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        """The Bot API server and the xAPI activity base are web addresses."""
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value

    @field_validator("webhook_listen", "health_listen")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        """WEBHOOK_LISTEN and HEALTH_LISTEN are addresses a server can listen on."""
        return listen_address(value)

    @field_validator("bot_username")
    @classmethod
    def _bot_username(cls, value: str) -> str:
        """BOT_USERNAME is a bot's username as BotFather gives it (a leading @ is dropped): the
        console's invitation links are https://t.me/<username>?start=…"""
        username = value.removeprefix("@")
        if not BOT_USERNAME_PATTERN.match(username):
            raise ValueError(
                "must be your bot's username from @BotFather: 5 to 32 letters, digits or _, starting with a letter and ending in bot, e.g. SalesCoachBot"
            )
        return username

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """ADMIN_IDS is a comma- or space-separated list of numeric Telegram user ids."""
        if isinstance(value, str):
            parts = [part for part in re.split(r"[,\s]+", value) if part]
            if not all(part.isdigit() for part in parts):
                raise ValueError("must be numeric Telegram user ids separated by commas, e.g. 1234,5678")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("knowledge_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        """KNOWLEDGE_DIRS is a list of directories separated by ':' (or ',')."""
        if isinstance(value, str):
            return tuple(Path(part) for part in re.split(r"[:,]", value) if part)
        return value

    @field_validator("knowledge_dirs")
    @classmethod
    def _existing_dirs(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        """Each KNOWLEDGE_DIRS entry is a folder that is there."""
        missing = [str(path) for path in value if not path.is_dir()]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} {ngettext('is not a folder', 'are not folders', len(missing))}; list folders laid out like knowledge/content (lessons/, quizzes/, scenarios/ …), separated by ':'"
            )
        return value

    def token_problem(self) -> str | None:
        """Why the token cannot be used (a key of knowledge/cli.yaml's lines), or None if it looks like a bot token."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            return "token_missing"
        if not TOKEN_PATTERN.match(self.telegram_bot_token.get_secret_value()):
            return "token_malformed"
        return None

    def webhook_problem(self) -> str | None:
        """Why webhook mode cannot start (a key of knowledge/cli.yaml's lines), or None: it needs the
        public URL and a secret token (without one, anyone who finds the URL could post forged updates)."""
        if not self.webhook_url:
            return "webhook_url_missing"
        if not self.webhook_url.startswith(("https://", "http://")):
            return "webhook_url_scheme"
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            return "webhook_secret_missing"
        if not SECRET_PATTERN.match(self.webhook_secret.get_secret_value()):
            return "webhook_secret_characters"
        return None

    def engine_settings(self) -> EngineSettings:
        """The part of the settings the transport-free engine needs."""
        return EngineSettings(admin_ids=self.admin_ids, bot_username=self.bot_username, xapi_base_url=self.xapi_base_url, timezone=self.timezone)


def listen_address(value: str) -> str:
    """`value` if a server can listen on it: an IP address (0.0.0.0 or :: for every interface) or a
    host name; else ValueError saying what to write."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not HOST_NAME_PATTERN.match(value) or value.replace(".", "").isdigit():
            raise ValueError(
                "must be an IP address or host name to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every network interface)"
            ) from None
    return value
