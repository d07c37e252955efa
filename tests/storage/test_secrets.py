from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, text

from storage import secrets
from storage.secrets import DatabaseSecretStore, SecretStoreError, load_or_create_key

TOKEN = "atl-tok-4f9c2b7e-very-secret"


def test_database_store_round_trip_and_encrypted_at_rest(engine: Engine) -> None:
    store = DatabaseSecretStore(engine, Fernet.generate_key())
    assert store.get("integration:acme:jira") is None
    store.set("integration:acme:jira", TOKEN)
    store.set("integration:acme:jira", TOKEN + "-rotated")
    assert store.get("integration:acme:jira") == TOKEN + "-rotated"
    with engine.connect() as conn:
        stored = bytes(conn.execute(text("SELECT ciphertext FROM secrets")).scalar_one())
    assert TOKEN.encode() not in stored
    store.delete("integration:acme:jira")
    assert store.get("integration:acme:jira") is None


def test_a_changed_key_gives_a_clear_error_without_the_secret(engine: Engine) -> None:
    DatabaseSecretStore(engine, Fernet.generate_key()).set("s", TOKEN)
    other = DatabaseSecretStore(engine, Fernet.generate_key())
    with pytest.raises(SecretStoreError, match="cannot be decrypted") as info:
        other.get("s")
    assert TOKEN not in str(info.value)


def test_an_invalid_key_is_refused_with_instructions(engine: Engine) -> None:
    with pytest.raises(SecretStoreError, match="not a valid Fernet key"):
        DatabaseSecretStore(engine, b"not-a-key")


def test_reprs_never_show_secrets(engine: Engine) -> None:
    key = Fernet.generate_key()
    store = DatabaseSecretStore(engine, key)
    store.set("s", TOKEN)
    assert TOKEN not in repr(store) and key.decode() not in repr(store)


def test_key_file_is_created_private_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(secrets.KEY_ENV_VAR, raising=False)
    key = load_or_create_key(tmp_path)
    mode = stat.S_IMODE((tmp_path / secrets.KEY_FILENAME).stat().st_mode)
    assert mode == 0o600
    assert load_or_create_key(tmp_path) == key


def test_environment_key_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_key = Fernet.generate_key().decode()
    monkeypatch.setenv(secrets.KEY_ENV_VAR, env_key)
    assert load_or_create_key(tmp_path) == env_key.encode()
    assert not (tmp_path / secrets.KEY_FILENAME).exists()


def test_headless_linux_falls_back_to_the_database(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    assert secrets.usable_keyring_backend() is None
    store = secrets.open_secret_store(engine, tmp_path)
    assert store.kind == "database"


def test_a_plaintext_backend_is_never_chosen_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    class PlaintextKeyring:  # stands in for keyrings.alt.file.PlaintextKeyring
        priority = 5

    monkeypatch.setattr(keyring, "get_keyring", lambda: PlaintextKeyring())
    assert secrets.usable_keyring_backend() is None
