"""Start-up settings: a wrong or missing value stops the service with a message naming it."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from akta_service import create_app
from akta_service.core.config import ConfigError, Settings, load_settings

GOOD_SECRET = "production-secret-key-that-is-long-enough-0123456789"
GOOD_POSTGRES = "postgresql://akta@db.example/akta"
GOOD_DUKCAPIL = "https://dukcapil.example/api"
GOOD_LIMITS = "redis://redis.example:6379/1"
GOOD_SIGNING = "https://tte.example.go.id"
GOOD_MASTER_KEY = "k2026-prod:" + "A" * 43 + "="
GOOD_SEAL_PIN = "seal-token-pin-2026"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what a test passes counts: no AKTA_* from the shell, no `.env` from the cwd."""
    for name in list(os.environ):
        if name.startswith("AKTA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def settings(tmp_path: Path, **values: Any) -> Settings:
    return load_settings({"AKTA_INSTANCE_PATH": str(tmp_path / "instance"), **values})


def production(tmp_path: Path, **values: Any) -> Settings:
    return settings(
        tmp_path,
        **{
            "AKTA_ENV": "production",
            "AKTA_SECRET_KEY": GOOD_SECRET,
            "AKTA_DATABASE_URL": GOOD_POSTGRES,
            "AKTA_DUKCAPIL_URL": GOOD_DUKCAPIL,
            "AKTA_SIGNING_SERVICE_URL": GOOD_SIGNING,
            "AKTA_PUBLIC_BASE_URL": "https://akta.example.go.id",
            "AKTA_RATELIMIT_STORAGE_URI": GOOD_LIMITS,
            "AKTA_STORAGE_MASTER_KEY": GOOD_MASTER_KEY,
            "AKTA_SEAL_TOKEN_PIN": GOOD_SEAL_PIN,
            **values,
        },
    )


def test_good_production_settings_load(tmp_path: Path) -> None:
    loaded = production(tmp_path)

    assert loaded.is_production
    assert loaded.secret_key == GOOD_SECRET
    assert loaded.database_url == "postgresql+psycopg://akta@db.example/akta"
    assert loaded.region_codes == ("3274",)
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_with_the_seal_token_needs_its_pin(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_SEAL_TOKEN_PIN is required") as caught:
        production(tmp_path, AKTA_SEAL_TOKEN="softhsm", AKTA_SEAL_TOKEN_PIN="")

    assert "production" in str(caught.value)
    loaded = production(tmp_path, AKTA_SEAL_TOKEN="softhsm")
    assert loaded.seal_token_pin == GOOD_SEAL_PIN
    assert GOOD_SEAL_PIN not in repr(loaded)  # never in a log line that prints the settings
    files = production(tmp_path, AKTA_SEAL_TOKEN="software", AKTA_SEAL_TOKEN_PIN="")
    assert files.seal_token == "software"


def test_production_without_secret_key_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_SECRET_KEY") as caught:
        production(tmp_path, AKTA_SECRET_KEY="")

    assert "production" in str(caught.value)
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_with_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_SECRET_KEY must be at least 32"):
        production(tmp_path, AKTA_SECRET_KEY="too-short")


def test_production_without_database_url_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_DATABASE_URL is required"):
        production(tmp_path, AKTA_DATABASE_URL="")


def test_production_refuses_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'akta.sqlite3'}"
    with pytest.raises(ConfigError, match="AKTA_DATABASE_URL must point at PostgreSQL"):
        production(tmp_path, AKTA_DATABASE_URL=url)


@pytest.mark.parametrize("url", ["not a url", "mysql://x/y"])
def test_a_bad_database_url_names_the_variable(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="AKTA_DATABASE_URL"):
        settings(tmp_path, AKTA_DATABASE_URL=url)


def test_migrations_connect_as_the_owner_when_told_and_as_the_service_otherwise(
    tmp_path: Path,
) -> None:
    owner = "postgresql://akta_owner@db.example/akta"

    apart = production(tmp_path, AKTA_MIGRATION_DATABASE_URL=owner)
    same = production(tmp_path)

    assert apart.database_url == "postgresql+psycopg://akta@db.example/akta"
    assert apart.migration_database_url == "postgresql+psycopg://akta_owner@db.example/akta"
    assert same.migration_database_url == same.database_url
    assert "akta_owner" not in repr(apart)


@pytest.mark.parametrize("url", ["not a url", "mysql://x/y", "sqlite:///akta.sqlite3"])
def test_a_bad_migration_database_url_names_its_variable(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="AKTA_MIGRATION_DATABASE_URL"):
        production(tmp_path, AKTA_MIGRATION_DATABASE_URL=url)


def test_the_journal_seal_key_lives_in_the_instance_folder_unless_told(tmp_path: Path) -> None:
    assert settings(tmp_path).journal_seal_key_path == (
        tmp_path / "instance" / "journal-seal-key.pem"
    )
    told = settings(tmp_path, AKTA_JOURNAL_SEAL_KEY=str(tmp_path / "keys" / "seal.pem"))
    assert told.journal_seal_key_path == tmp_path / "keys" / "seal.pem"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AKTA_ENV", "prod"),
        ("AKTA_ENV", "Production"),
        ("AKTA_REGIONS", "32"),
        ("AKTA_REGIONS", "abcd"),
        ("AKTA_REGIONS", "3274,32741"),
        ("AKTA_TIMEZONE", "Mars/Olympus_Mons"),
        ("AKTA_TIMEZONE", "asia/jakarta"),
        ("AKTA_REGNO_PERIOD", "weekly"),
        ("AKTA_REGNO_ON_TIME_CODE", "lu"),
        ("AKTA_REGNO_LATE_CODE", "LTX"),
        ("AKTA_ON_TIME_DAYS", "sixty"),
        ("AKTA_ON_TIME_DAYS", "0"),
        ("AKTA_TRUSTED_PROXY_HOPS", "-1"),
        ("AKTA_TRUSTED_PROXY_HOPS", "one"),
        ("AKTA_REPORT_RATE_LIMIT", "ten an hour"),
        ("AKTA_UPLOAD_RATE_LIMIT", "30 per fortnight"),
        ("AKTA_DOCUMENT_QUOTA_MB", "0"),
        ("AKTA_WEBHOOK_ALLOW_PRIVATE", "maybe"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name) as caught:
        settings(tmp_path, **{name: value})

    assert value in str(caught.value)


def test_development_generates_the_secret_key_once_readable_only_by_the_owner(
    tmp_path: Path,
) -> None:
    first = settings(tmp_path)
    key_file = tmp_path / "instance" / "secret_key"

    assert first.env == "development"
    assert len(first.secret_key) >= 32
    assert key_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    second = settings(tmp_path)

    assert second.secret_key == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_development_defaults_to_a_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    loaded = settings(tmp_path)

    assert loaded.database_url == f"sqlite:///{tmp_path / 'instance' / 'akta.sqlite3'}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgresql://akta:s3cret@db.example:5433/akta",
            "postgresql+psycopg://akta:s3cret@db.example:5433/akta",
        ),
        ("postgres://akta@db.example/akta", "postgresql+psycopg://akta@db.example/akta"),
        ("postgresql+psycopg://akta@db.example/akta", "postgresql+psycopg://akta@db.example/akta"),
    ],
)
def test_postgresql_urls_use_the_psycopg_driver(tmp_path: Path, given: str, expected: str) -> None:
    assert production(tmp_path, AKTA_DATABASE_URL=given).database_url == expected


def test_environment_variables_are_read_and_overrides_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AKTA_REGIONS", "3274, 3673")
    monkeypatch.setenv("AKTA_REGNO_PERIOD", "monthly")

    loaded = settings(tmp_path, AKTA_REGNO_PERIOD="yearly")

    assert loaded.region_codes == ("3274", "3673")
    assert loaded.regno_period == "yearly"


def test_create_app_stops_on_a_bad_production_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_SECRET_KEY"):
        create_app(
            {
                "AKTA_ENV": "production",
                "AKTA_DATABASE_URL": GOOD_POSTGRES,
                "AKTA_DUKCAPIL_URL": GOOD_DUKCAPIL,
                "AKTA_INSTANCE_PATH": str(tmp_path / "instance"),
            }
        )

    assert not (tmp_path / "instance").exists()


def test_production_needs_the_public_address_the_qr_code_points_to(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_PUBLIC_BASE_URL"):
        production(tmp_path, AKTA_PUBLIC_BASE_URL="")
    with pytest.raises(ConfigError, match="AKTA_PUBLIC_BASE_URL must start with http"):
        production(tmp_path, AKTA_PUBLIC_BASE_URL="akta.example.go.id")
    assert production(tmp_path).public_base_url == "https://akta.example.go.id"


@pytest.mark.parametrize("store", ["memory://", "", "memcached://cache.example:11211"])
def test_production_refuses_limits_that_each_process_counts_alone(
    tmp_path: Path, store: str
) -> None:
    with pytest.raises(ConfigError, match="AKTA_RATELIMIT_STORAGE_URI must be a Redis store"):
        production(tmp_path, AKTA_RATELIMIT_STORAGE_URI=store)
    with pytest.raises(ConfigError, match="AKTA_RATELIMIT_STORAGE_URI"):
        create_app(
            {
                "AKTA_ENV": "production",
                "AKTA_SECRET_KEY": GOOD_SECRET,
                "AKTA_DATABASE_URL": GOOD_POSTGRES,
                "AKTA_DUKCAPIL_URL": GOOD_DUKCAPIL,
                "AKTA_PUBLIC_BASE_URL": "https://akta.example.go.id",
                "AKTA_RATELIMIT_STORAGE_URI": store,
                "AKTA_SIGNING_SERVICE_URL": GOOD_SIGNING,
                "AKTA_STORAGE_MASTER_KEY": GOOD_MASTER_KEY,
                "AKTA_INSTANCE_PATH": str(tmp_path / "instance"),
            }
        )
    assert not (tmp_path / "instance").exists()


def test_production_keeps_its_limits_switched_on(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_RATELIMIT_ENABLED"):
        production(tmp_path, AKTA_RATELIMIT_ENABLED="0")


def test_limits_are_settings_with_generous_backstops_per_address(tmp_path: Path) -> None:
    loaded = production(
        tmp_path,
        AKTA_TRUSTED_PROXY_HOPS="2",
        AKTA_REPORT_RATE_LIMIT="5 per hour",
        AKTA_DOCUMENT_QUOTA_MB="15",
    )

    assert loaded.ratelimit_storage_uri == GOOD_LIMITS
    assert loaded.trusted_proxy_hops == 2
    assert loaded.report_rate_limit == "5 per hour"
    assert loaded.document_quota_bytes == 15 * 1024 * 1024
    defaults = settings(tmp_path)
    assert defaults.trusted_proxy_hops == 0  # no proxy is trusted unless one is configured
    assert defaults.ratelimit_storage_uri == "memory://"  # one process outside production
    assert defaults.document_quota_bytes == 20 * 1024 * 1024
    assert defaults.submit_rate_limit == "1000 per hour"


def test_webhooks_reach_local_receivers_only_outside_production(tmp_path: Path) -> None:
    assert settings(tmp_path).webhook_allow_private
    assert settings(tmp_path, AKTA_ENV="test").webhook_allow_private
    assert not settings(tmp_path, AKTA_WEBHOOK_ALLOW_PRIVATE="false").webhook_allow_private
    assert not production(tmp_path).webhook_allow_private
    with pytest.raises(ConfigError, match="AKTA_WEBHOOK_ALLOW_PRIVATE=true is not allowed"):
        production(tmp_path, AKTA_WEBHOOK_ALLOW_PRIVATE="true")


def test_production_signs_through_a_signing_service_it_names(tmp_path: Path) -> None:
    loaded = production(tmp_path)
    assert loaded.signing_service == "http"
    assert loaded.signing_service_url == GOOD_SIGNING

    with pytest.raises(ConfigError, match="AKTA_SIGNING_SERVICE_URL is required"):
        production(tmp_path, AKTA_SIGNING_SERVICE_URL="")
    with pytest.raises(ConfigError, match="AKTA_SIGNING_SERVICE=embedded is not allowed"):
        production(tmp_path, AKTA_SIGNING_SERVICE="embedded")
    with pytest.raises(ConfigError, match="must start with http"):
        production(tmp_path, AKTA_SIGNING_SERVICE_URL="tte.example.go.id")


def test_development_starts_the_sandbox_signing_service_beside_it(tmp_path: Path) -> None:
    loaded = settings(tmp_path)

    assert loaded.signing_service == "embedded"
    assert loaded.signing_service_url == "http://127.0.0.1:5002"
    assert loaded.signing_path == (tmp_path / "instance" / "pki").resolve()
    assert "rahasia" not in repr(settings(tmp_path, AKTA_SIGNING_SERVICE_API_KEY="rahasia"))


def test_production_keeps_files_in_the_database_with_the_master_key_of_its_settings(
    tmp_path: Path,
) -> None:
    loaded = production(tmp_path)

    assert loaded.storage_backend == "database"
    assert loaded.storage_master_key.id == "k2026-prod"
    assert loaded.storage_master_key.secret == bytes(32)
    assert not (tmp_path / "instance" / "storage-master-key").exists()
    assert "AAAA" not in repr(loaded)


def test_production_without_a_storage_master_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_STORAGE_MASTER_KEY is required") as caught:
        production(tmp_path, AKTA_STORAGE_MASTER_KEY="")

    assert "akta storage new-master-key" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("no-colon-here", "<id>:<base64 key>"),
        ("k1:not base64!", "not valid base64"),
        ("k1:" + "A" * 22 + "==", "must be 32 bytes"),
    ],
)
def test_a_malformed_master_key_is_refused_saying_what_is_wrong(
    tmp_path: Path, value: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match="AKTA_STORAGE_MASTER_KEY") as caught:
        production(tmp_path, AKTA_STORAGE_MASTER_KEY=value)

    assert problem in str(caught.value)


def test_an_old_master_key_may_not_share_the_current_ones_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_STORAGE_PREVIOUS_MASTER_KEYS repeats"):
        production(tmp_path, AKTA_STORAGE_PREVIOUS_MASTER_KEYS=GOOD_MASTER_KEY)


def test_development_makes_its_master_key_once_in_the_instance_folder(tmp_path: Path) -> None:
    first = settings(tmp_path)
    again = settings(tmp_path)

    assert first.storage_backend == "folder"
    assert first.storage_master_key == again.storage_master_key
    key_file = tmp_path / "instance" / "storage-master-key"
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the service's user alone
    assert key_file.read_text().startswith(f"{first.storage_master_key.id}:")


def test_an_unknown_storage_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AKTA_STORAGE_BACKEND must be one of folder, database"):
        settings(tmp_path, AKTA_STORAGE_BACKEND="tape")
