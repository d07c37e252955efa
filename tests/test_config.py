from __future__ import annotations

from pathlib import Path

import pytest

from pulse_console.config import ConfigError, load_settings, mask_url


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_match_the_documented_ones(isolated_home: Path) -> None:
    settings = load_settings()
    assert settings.database_url is None and settings.embedded
    assert settings.orchestrator.interval_minutes == 60
    assert (
        settings.retry.enabled,
        settings.retry.interval_minutes,
        settings.retry.max_attempts,
    ) == (
        True,
        15,
        3,
    )
    assert settings.log_dir == settings.data_dir / "logs"


def test_file_then_environment_then_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    config = write(
        tmp_path / "c.toml",
        'client = "from-file"\n[orchestrator]\ninterval_minutes = 30\n[retry]\nmax_attempts = 5\n',
    )
    settings = load_settings(config)
    assert (settings.client, settings.orchestrator.interval_minutes) == ("from-file", 30)

    monkeypatch.setenv("PULSE_CLIENT", "from-env")
    monkeypatch.setenv("PULSE_ORCHESTRATOR__INTERVAL_MINUTES", "45")
    settings = load_settings(config)
    assert (settings.client, settings.orchestrator.interval_minutes) == ("from-env", 45)
    assert settings.retry.max_attempts == 5, "a nested key the env does not set keeps the file's"

    settings = load_settings(config, client="from-flag")
    assert settings.client == "from-flag"


def test_pulse_config_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    monkeypatch.setenv("PULSE_CONFIG", str(write(tmp_path / "x.toml", 'client = "x"\n')))
    assert load_settings().client == "x"


def test_database_url_from_environment(
    monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    monkeypatch.setenv("PULSE_DATABASE_URL", "postgresql+psycopg://u:pw@db:5432/pulse")
    settings = load_settings()
    assert not settings.embedded
    assert "pw" not in str(settings.masked())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[orchestrator\n", "not valid TOML"),
        ('[orchestrator]\ninterval_minutes = "soon"\n', "orchestrator.interval_minutes"),
        ("[retry]\nmax_attempts = -1\n", "retry.max_attempts"),
        ("[orchestrator]\nintervall_minutes = 5\n", "orchestrator.intervall_minutes: unknown key"),
        ('database_url = "mysql://x"\n', "database_url"),
        (
            '[[integrations]]\nname = "j"\ntype = "jira"\n'
            'base_url = "https://x"\ntoken = "s3cr3t"\n',
            "integrations: [[integrations]] tables are not read from config; add each with"
            " `pulse-console integration add`",
        ),
        ("[metrics]\nbenchmark_year = 1999\n", "metrics.benchmark_year"),
    ],
)
def test_a_bad_file_fails_with_one_line_naming_file_and_key(
    tmp_path: Path, isolated_home: Path, text: str, expected: str
) -> None:
    config = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    message = str(info.value)
    assert "\n" not in message
    assert str(config) in message
    assert expected in message
    assert "s3cr3t" not in message


def test_a_bad_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    monkeypatch.setenv("PULSE_RETRY__INTERVAL_MINUTES", "often")
    with pytest.raises(ConfigError, match="environment variable PULSE_RETRY__INTERVAL_MINUTES"):
        load_settings()


def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path, isolated_home: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_the_example_config_is_valid_and_documents_the_defaults(isolated_home: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    settings = load_settings(example)
    assert settings.orchestrator.interval_minutes == 60
    assert settings.retry.interval_minutes == 15
    assert settings.metrics.benchmark_year == 2023
    text = example.read_text()
    for key in ("database_url", "data_dir", "interval_minutes", "max_attempts", "retention_days"):
        assert key in text
    assert "benchmark_year" in text
    assert "\n[[integrations]]" not in text and "\n# [[integrations]]" not in text


def test_mask_url_hides_only_the_password() -> None:
    assert mask_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert mask_url("postgresql://u@h/db") == "postgresql://u@h/db"
