"""Secret storage: the OS keyring when a real one exists, else Fernet-encrypted in the database.

On headless Linux `keyring` offers only its "fail" backend (priority 0), and keyrings.alt's
plaintext file backend must never be chosen silently, so only a backend with priority ≥ 1
that is not a plaintext/null/fail one is accepted. Otherwise secrets are encrypted with a
Fernet key from `PULSE_ENCRYPTION_KEY`, or from a key file created with mode 0600 in the
data directory, and kept in the `secrets` table. Secret values never appear in reprs,
exceptions or logs.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert

from storage.models import Secret

KEYRING_SERVICE = "pulse-console"
KEY_ENV_VAR = "PULSE_ENCRYPTION_KEY"
KEY_FILENAME = "secret.key"
_UNSAFE_BACKEND_HINTS = ("plaintext", "fail", "null", "chainer")


class SecretStoreError(Exception):
    """A secret cannot be stored or read; the message never contains the secret."""


def integration_secret(client_id: int, integration_id: int) -> str:
    """The secret-store name of an integration's token, built from ids only.

    Ids cannot contain a separator, so two clients' names never collide (names like
    `integration:<client>:<name>` did: client `a:gh` + `x` == client `a` + `gh:x`).
    """
    return f"integration/{client_id}/{integration_id}"


def secret_owner(name: str) -> int | None:
    """The client id an integration secret's name carries (None for any other name)."""
    match = _INTEGRATION_SECRET.fullmatch(name)
    return int(match.group(1)) if match else None


_INTEGRATION_SECRET = re.compile(r"integration/(\d+)/\d+")


class SecretStore(Protocol):
    """Where integration tokens live, under `integration_secret(client_id, integration_id)`."""

    kind: str

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


class KeyringSecretStore:
    """Secrets in the OS keyring (macOS Keychain, Windows Credential Locker, Secret Service)."""

    kind = "keyring"

    def __init__(self, backend_name: str) -> None:
        self.backend_name = backend_name

    def __repr__(self) -> str:
        return f"KeyringSecretStore(backend={self.backend_name!r})"

    def get(self, name: str) -> str | None:
        import keyring

        value: str | None = keyring.get_password(KEYRING_SERVICE, name)
        return value

    def set(self, name: str, value: str) -> None:
        import keyring

        keyring.set_password(KEYRING_SERVICE, name, value)

    def delete(self, name: str) -> None:
        import keyring
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(KEYRING_SERVICE, name)


class DatabaseSecretStore:
    """Fernet-encrypted secrets in the `secrets` table."""

    kind = "database"

    def __init__(self, engine: Engine, key: bytes) -> None:
        self._engine = engine
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretStoreError(
                f"{KEY_ENV_VAR} (or the key file) is not a valid Fernet key: "
                "generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            ) from None

    def __repr__(self) -> str:
        return "DatabaseSecretStore(encrypted=True)"

    def get(self, name: str) -> str | None:
        with self._engine.connect() as conn:
            token = conn.execute(select(Secret.ciphertext).where(Secret.name == name)).scalar()
        if token is None:
            return None
        try:
            return self._fernet.decrypt(bytes(token)).decode()
        except InvalidToken:
            raise SecretStoreError(
                f"secret {name!r} cannot be decrypted with the current key "
                f"({KEY_ENV_VAR} or the key file changed); store it again"
            ) from None

    def set(self, name: str, value: str) -> None:
        token = self._fernet.encrypt(value.encode())
        owner = secret_owner(name)
        stmt = insert(Secret).values(name=name, ciphertext=token, client_id=owner)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Secret.name],
            set_={"ciphertext": token, "updated_at": stmt.excluded.updated_at},
            # A row is only ever rewritten by its own client.
            where=Secret.client_id.is_not_distinct_from(owner),
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def delete(self, name: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(Secret).where(Secret.name == name))


def usable_keyring_backend() -> str | None:
    """The name of a real keyring backend, or None when only unsafe/fail ones exist."""
    try:
        import keyring
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    priority = getattr(backend, "priority", 0)
    if priority < 1 or any(hint in name.lower() for hint in _UNSAFE_BACKEND_HINTS):
        return None
    return name


def load_or_create_key(data_dir: Path) -> bytes:
    """`PULSE_ENCRYPTION_KEY`, else the key file in the data dir (created 0600 if missing)."""
    from_env = os.environ.get(KEY_ENV_VAR)
    if from_env:
        return from_env.strip().encode()
    path = data_dir / KEY_FILENAME
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, like the key file
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def open_secret_store(engine: Engine, data_dir: Path, *, allow_keyring: bool = True) -> SecretStore:
    backend = usable_keyring_backend() if allow_keyring else None
    if backend is not None:
        return KeyringSecretStore(backend)
    return DatabaseSecretStore(engine, load_or_create_key(data_dir))
