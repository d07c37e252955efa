"""Settings: config.toml, then PULSE_* environment variables, then CLI flags.

One pydantic-settings model is the only validator of the configuration (`config_lookup.py`
holds the file's path, TOML reading and the URL rule it uses, and the look-up of the
connection that the light `jobs list` makes before falling back here). `load_settings` turns
every failure (unreadable file, bad TOML, wrong type, unknown key) into a `ConfigError` whose
message names the file or environment variable, the key, and what was wrong, so the CLI can
print one line instead of a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pulse_console.config_lookup import (
    APP_NAME,
    CONFIG_ENV_VAR,
    DEFAULT_CLIENT,
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    ConfigError,
    check_database_url,
    default_config_path,
    default_data_dir,
    read_toml,
    resolve_config_path,
)
from pulse_console.inputs import check_name

__all__ = [
    "APP_NAME",
    "CONFIG_ENV_VAR",
    "ConfigError",
    "Settings",
    "default_config_path",
    "default_data_dir",
    "load_settings",
    "mask_url",
    "resolve_config_path",
]


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


class MetricsConfig(_Section):
    """Metrics defaults; a `metrics.*` row in the database's `settings` table (client rows
    over global ones) overrides them (`pulse_console.metrics.settings`)."""

    # Which DORA benchmark rows rate the figures (metrics/dora_benchmarks.toml).
    benchmark_year: int = Field(2023, ge=2014, le=2100)


class PoolSettings(_Section):
    """The worker pool (engine/pool.py): how often a worker ticks and beats, and when a
    worker that stopped beating has its runs taken over by another."""

    tick_seconds: float = Field(5.0, gt=0, le=3600)
    stall_seconds: float = Field(30.0, gt=0, le=24 * 3600)
    concurrency: int = Field(1, ge=1, le=256)
    # per-source caps across the pool, e.g. {github = 2}: at most that many runs of the
    # source at once, whatever the number of workers (an account's rate limit)
    source_limits: dict[str, int] = Field(default_factory=dict)


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
    client: str = DEFAULT_CLIENT
    orchestrator: OrchestratorSettings = Field(default_factory=OrchestratorSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    pool: PoolSettings = Field(default_factory=PoolSettings)
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
        return check_database_url(value)

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
        if "integrations" in data:
            # Integrations live in the database (with their tokens in the secret store), so
            # the console, the CLI and every worker see the same ones; a file copy would
            # silently differ.
            raise ConfigError(
                f"config error: {path}: integrations: [[integrations]] tables are not read"
                " from config; add each with `pulse-console integration add`, then delete them"
            )
        super().__init__(settings_cls, data)


def mask_url(url: str) -> str:
    """Hide the password of a database URL (`user:***@host`)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


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
