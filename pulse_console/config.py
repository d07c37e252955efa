"""Settings: config.toml, then PULSE_* environment variables, then CLI flags.

One pydantic-settings model is the only place configuration is read. `load_settings` turns
every failure (unreadable file, bad TOML, wrong type, unknown key) into a `ConfigError` whose
message names the file or environment variable, the key, and what was wrong, so the CLI can
print one line instead of a traceback.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pulse_console.inputs import check_base_url, check_name

APP_NAME = "pulse-console"
ENV_PREFIX = "PULSE_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV_VAR = "PULSE_CONFIG"

IntegrationType = Literal["jira", "github", "azure_devops", "aha"]
SECRET_KEYS = frozenset({"token", "api_token", "password", "secret", "pat"})


class ConfigError(Exception):
    """A configuration problem an operator can fix; `str()` is the one line to print."""


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class OrchestratorSettings(_Section):
    interval_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    enabled: bool = True


class RetrySettings(_Section):
    enabled: bool = True
    interval_minutes: int = Field(15, ge=1, le=24 * 60)
    max_attempts: int = Field(3, ge=0, le=100)


class LoggingSettings(_Section):
    dir: Path | None = None
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    retention_days: int = Field(30, ge=1)
    max_file_mb: int = Field(50, ge=1)


class IntegrationSettings(_Section):
    """One source system. Tokens never live here: they are kept in the secret store."""

    name: str
    type: IntegrationType
    base_url: str
    email: str | None = None
    enabled: bool = True
    projects: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    repositories: list[str] = Field(default_factory=list)
    repository_patterns: list[str] = Field(default_factory=list)
    page_size: int = Field(100, ge=1, le=1000)
    requests_per_minute: int | None = Field(None, ge=1)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_name("integration", value)

    @field_validator("base_url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        return check_base_url(value)


class Settings(BaseSettings):
    """The effective configuration of one Pulse Console process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        validate_default=True,
    )

    # Where the loader found the file; excluded from validation sources on purpose.
    _toml_path: ClassVar[Path | None] = None

    database_url: str | None = Field(
        None, description="postgresql+psycopg://… ; empty = embedded PostgreSQL in data_dir"
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    client: str = "default"
    orchestrator: OrchestratorSettings = Field(default_factory=OrchestratorSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    integrations: list[IntegrationSettings] = Field(default_factory=list)
    keymap: dict[str, str] = Field(
        default_factory=dict, description="console key bindings by id, e.g. logs.follow = 'F'"
    )

    @field_validator("client")
    @classmethod
    def _client_slug(cls, value: str) -> str:
        return check_name("client", value)

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("must start with postgresql+psycopg:// (or postgresql://)")
        return value

    @field_validator("integrations", mode="before")
    @classmethod
    def _no_secrets_in_config(cls, value: Any) -> Any:
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    leaked = SECRET_KEYS.intersection(item)
                    if leaked:
                        key = sorted(leaked)[0]
                        raise ValueError(
                            f"integrations[{index}].{key}: secrets do not belong in config; "
                            "store the token with `pulse-console integration add … --token-stdin`"
                        )
        return value

    @property
    def log_dir(self) -> Path:
        return self.logging.dir or (self.data_dir / "logs")

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence, strongest first: CLI flags (init), environment, the TOML file.
        toml = _TomlSource(settings_cls, cls._toml_path)
        return (init_settings, env_settings, toml)

    def masked(self) -> dict[str, Any]:
        """The effective config as plain data with credentials in URLs masked."""
        data = self.model_dump(mode="json")
        if data.get("database_url"):
            data["database_url"] = mask_url(data["database_url"])
        return data


class _TomlSource(InitSettingsSource):
    """Reads the config file that `load_settings` chose (a missing default file is fine)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        data = read_toml(path) if path is not None and path.exists() else {}
        super().__init__(settings_cls, data)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config error: {path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config error: {path}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"config error: {path}: cannot read: {exc.strerror}") from None


def mask_url(url: str) -> str:
    """Hide the password of a database URL (`user:***@host`)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def resolve_config_path(explicit: Path | None) -> tuple[Path, bool]:
    """The file to read, and whether the operator named it (then it must exist)."""
    if explicit is not None:
        return explicit, True
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env), True
    return default_config_path(), False


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build the effective Settings; raise ConfigError naming the file/variable and key."""
    path, required = resolve_config_path(config)
    if required and not path.exists():
        raise ConfigError(f"config error: {path}: file not found")
    flags = {key: value for key, value in overrides.items() if value is not None}
    Settings._toml_path = path
    try:
        return Settings(**flags)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, flags)) from None
    finally:
        Settings._toml_path = None


def _describe(exc: ValidationError, path: Path, flags: dict[str, Any]) -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc) if loc else "(top level)"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    env_name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc).upper()
    if loc and loc[0] in flags:
        origin = "command line"
    elif env_name in os.environ:
        origin = f"environment variable {env_name}"
    else:
        origin = str(path)
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"config error: {origin}: {key}: {message}{more}"
