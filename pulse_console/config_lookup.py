"""Where configuration comes from, and a fast look-up of the connection: no pydantic here.

`config.py`'s Settings model is the one validator of the configuration; this module holds
what it needs that costs nothing to import (the file's path, reading the TOML, the URL
rule) and `connection_target`, which finds the database URL and client the way Settings
would (command-line flag, then `PULSE_*` environment, then the file, then the default) for
the light path of `jobs list`. It validates nothing of its own: when a value is missing,
unreadable or breaks a rule it answers None, and the caller falls back to `load_settings`,
which reports the problem in its one line. (A mistake elsewhere in the file, e.g. in
`[retry]`, is therefore not reported by a listing that succeeds; every other command and
the console still refuse it.)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from pulse_console.inputs import check_name

APP_NAME = "pulse-console"
ENV_PREFIX = "PULSE_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV_VAR = "PULSE_CONFIG"
DEFAULT_CLIENT = "default"
URL_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")


class ConfigError(Exception):
    """A configuration problem an operator can fix; `str()` is the one line to print."""


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def check_database_url(value: str | None) -> str | None:
    """The rule for `database_url`: empty means the embedded database (None)."""
    if value is None or value.strip() == "":
        return None
    if not value.startswith(URL_SCHEMES):
        raise ValueError("must start with postgresql+psycopg:// (or postgresql://)")
    return value


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


def resolve_config_path(explicit: Path | None) -> tuple[Path, bool]:
    """The file to read, and whether the operator named it (then it must exist)."""
    if explicit is not None:
        return explicit, True
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env), True
    return default_config_path(), False


@dataclass(frozen=True)
class ConnectionTarget:
    conninfo: str  # a libpq URI (psycopg's), the password included
    client: str


def connection_target(
    config: Path | None, database_url: str | None, client: str | None
) -> ConnectionTarget | None:
    """The external database and client Settings would resolve, or None when only the full
    model can say (embedded database, a file that does not read, a value breaking a rule)."""
    path, required = resolve_config_path(config)
    if required and not path.exists():
        return None
    try:
        data = read_toml(path) if path.exists() else {}
    except ConfigError:
        return None
    # pydantic-settings matches environment names case-insensitively
    env = {name.lower(): value for name, value in os.environ.items()}

    def value(key: str, flag: str | None, default: Any) -> Any:
        if flag is not None:
            return flag
        return env.get((ENV_PREFIX + key).lower(), data.get(key, default))

    url, name = value("database_url", database_url, None), value("client", client, DEFAULT_CLIENT)
    if not isinstance(url, str) or not isinstance(name, str):
        return None
    try:
        checked_url, checked_client = check_database_url(url), check_name("client", name)
    except ValueError:
        return None
    if checked_url is None:
        return None
    return ConnectionTarget(libpq_uri(checked_url), checked_client)


def libpq_uri(url: str) -> str:
    """A SQLAlchemy-style PostgreSQL URL as the URI libpq reads (no driver in the scheme)."""
    for scheme in URL_SCHEMES:
        if url.startswith(scheme):
            return "postgresql://" + url.removeprefix(scheme)
    return url
