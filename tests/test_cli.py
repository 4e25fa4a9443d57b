"""The real `akta` command, run as a user runs it: `make run` is upgrade, seed, serve."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

AKTA = Path(sys.executable).parent / "akta"


_signing_urls: dict[Path, str] = {}


def akta_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without AKTA_* settings: a development instance in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKTA_", "FLASK_"))}
    env["AKTA_INSTANCE_PATH"] = str(tmp_path / "instance")
    # The embedded signing service of this instance, on a port of its own (its
    # certificates name that address, so it stays the same for the instance).
    env["AKTA_SIGNING_SERVICE_URL"] = _signing_urls.setdefault(
        tmp_path, f"http://127.0.0.1:{free_port()}"
    )
    # A terminal shows output line by line; a pipe would hold it until the process exits.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def akta(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [str(AKTA), *args],
        cwd=tmp_path,
        env=akta_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def database_file(tmp_path: Path) -> Path:
    return tmp_path / "instance" / "akta.sqlite3"


def count_rows(tmp_path: Path, table: str) -> int:
    connection = sqlite3.connect(database_file(tmp_path))
    try:
        (count,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    finally:
        connection.close()
    return int(count)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    """A development instance after `akta db upgrade`."""
    ok(akta(tmp_path, "db", "upgrade"))
    assert database_file(tmp_path).exists()
    return tmp_path


def test_seed_twice_creates_the_demo_data_once(migrated: Path) -> None:
    first = ok(akta(migrated, "seed"))

    assert "pengguna baru: admin, operator, operator2, pejabat, viewer" in first
    assert "laporan demo baru: 4" in first
    assert count_rows(migrated, "users") == 5
    assert count_rows(migrated, "birth_reports") == 4
    journal_after_first = count_rows(migrated, "journal_entries")
    assert journal_after_first > 0

    second = ok(akta(migrated, "seed"))

    assert "pengguna baru: tidak ada" in second
    assert "laporan demo baru: 0" in second
    assert count_rows(migrated, "users") == 5
    assert count_rows(migrated, "birth_reports") == 4
    assert count_rows(migrated, "journal_entries") == journal_after_first


def test_serve_answers_and_prints_the_demo_logins(migrated: Path) -> None:
    ok(akta(migrated, "seed"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(  # noqa: S603
        [str(AKTA), "serve", "--port", str(port)],
        cwd=migrated,
        env=akta_env(migrated),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, body = None, b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}healthz", timeout=2) as response:  # noqa: S310
                    status, body = response.status, response.read()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert server.poll() is None, "akta serve exited early"
        assert status == 200
        assert b'"database":"ok"' in body.replace(b" ", b"")
    finally:
        server.terminate()
        try:
            stdout, stderr = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            stdout, stderr = server.communicate()

    assert f"berjalan di {url}" in stdout, stderr
    assert "Akun demo" in stdout
    assert "operator" in stdout
    assert "operator-demo-2026" in stdout
    assert "Passphrase tanda tangan elektronik pejabat: ttd-pejabat-2026" in stdout
    assert "Layanan tanda tangan berjalan di" in stdout  # the keys' own process, and where


def test_workflow_diagram_prints_mermaid(tmp_path: Path) -> None:
    diagram = ok(akta(tmp_path, "workflow", "diagram"))

    assert diagram.startswith("stateDiagram-v2\n")
    assert "awaiting_signature --> registered: sign (pejabat)" in diagram


def test_users_create_refuses_a_short_password_and_accepts_a_good_one(migrated: Path) -> None:
    ok(akta(migrated, "seed"))
    users_before = count_rows(migrated, "users")
    command = ("users", "create", "--username", "x", "--name", "X Y", "--role", "operator")

    refused = akta(migrated, *command, "--password", "short")

    assert refused.returncode != 0
    assert "Kata sandi minimal 10 karakter" in refused.stderr
    assert count_rows(migrated, "users") == users_before

    created = ok(akta(migrated, *command, "--password", "a-good-password-2026"))

    assert "Pengguna x (operator) dibuat." in created
    assert count_rows(migrated, "users") == users_before + 1


def test_serve_refuses_production_with_limits_each_process_counts_alone(tmp_path: Path) -> None:
    # With memory:// every gunicorn worker would count on its own and forget at each restart.
    (tmp_path / ".env").write_text(
        "AKTA_ENV=production\n"
        "AKTA_SECRET_KEY=production-secret-key-that-is-long-enough-0123456789\n"
        "AKTA_DATABASE_URL=postgresql://akta@127.0.0.1:1/akta\n"
        "AKTA_DUKCAPIL_URL=https://dukcapil.example/api\n"
        "AKTA_PUBLIC_BASE_URL=https://akta.example.go.id\n"
        "AKTA_SIGNING_SERVICE_URL=https://tte.example.go.id\n"
        "AKTA_RATELIMIT_STORAGE_URI=memory://\n"
        f"AKTA_STORAGE_MASTER_KEY=k2026-prod:{'A' * 43}=\n"
    )

    refused = akta(tmp_path, "serve", "--port", str(free_port()), timeout=60)

    assert refused.returncode != 0
    assert "AKTA_RATELIMIT_STORAGE_URI must be a Redis store" in refused.stderr


def test_journal_verify_names_the_entry_edited_behind_the_service_s_back(migrated: Path) -> None:
    ok(akta(migrated, "seed"))
    clean = ok(akta(migrated, "journal", "verify"))
    sealed = ok(akta(migrated, "journal", "seal"))
    connection = sqlite3.connect(database_file(migrated))
    try:
        entry_id, report_id = connection.execute(
            "SELECT id, report_id FROM journal_entries WHERE report_id IS NOT NULL"
            " ORDER BY id LIMIT 1"
        ).fetchone()
        # What someone with the database file can do: drop the guard and edit.
        connection.execute("DROP TRIGGER journal_entries_no_update")
        connection.execute("UPDATE journal_entries SET reason = 'diubah' WHERE id = ?", (entry_id,))
        connection.commit()
    finally:
        connection.close()

    broken = akta(migrated, "journal", "verify")

    assert "Jurnal utuh." in clean
    assert "0 entri lama" in clean
    assert sealed.startswith("Segel 1 sampai ")
    assert ok(akta(migrated, "journal", "seal")).split(":")[0] == sealed.split(":")[0]
    assert broken.returncode == 1
    assert f"RUSAK (changed): report:{report_id}, entri {entry_id}:" in broken.stderr


def test_journal_seal_refuses_a_key_that_is_not_ed25519(migrated: Path) -> None:
    env = {**akta_env(migrated), "AKTA_JOURNAL_SEAL_KEY": str(migrated / "wrong.pem")}
    (migrated / "wrong.pem").write_bytes(_rsa_key())

    done = subprocess.run(  # noqa: S603
        [str(AKTA), "journal", "seal"],
        cwd=migrated,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert done.returncode == 1
    assert "AKTA_JOURNAL_SEAL_KEY" in done.stderr
    assert "not an Ed25519 private key" in done.stderr


def _rsa_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_the_demo_pejabat_and_admin_read_their_totp_code_from_the_command_line(
    migrated: Path,
) -> None:
    seeded = ok(akta(migrated, "seed"))
    assert "pengguna baru" in seeded
    for username in ("pejabat", "admin"):
        code = ok(akta(migrated, "users", "totp-code", username)).strip()
        assert code.isdigit(), code
        assert len(code) == 6
    refused = akta(migrated, "users", "totp-code", "operator")
    assert refused.returncode != 0
    assert "operator has no TOTP second factor" in refused.stderr
    unknown = akta(migrated, "users", "totp-code", "nobody")
    assert "no user nobody" in unknown.stderr


def test_reset_2fa_makes_the_account_enrol_again(migrated: Path) -> None:
    ok(akta(migrated, "seed"))
    assert "diatur ulang" in ok(akta(migrated, "users", "reset-2fa", "admin"))
    refused = akta(migrated, "users", "totp-code", "admin")
    assert "admin has no TOTP second factor" in refused.stderr
    assert "no user nobody" in akta(migrated, "users", "reset-2fa", "nobody").stderr


def test_users_signing_identity_links_a_pejabat_to_their_key(migrated: Path) -> None:
    ok(akta(migrated, "seed"))
    command = ("users", "signing-identity", "--username", "pejabat", "--nip", "197003151995031002")

    refused = akta(migrated, *command, "--nik", "12345")
    assert refused.returncode != 0
    assert "nik: NIK harus 16 angka" in refused.stderr

    linked = ok(akta(migrated, *command, "--nik", "3274015503700002"))
    assert "pejabat menandatangani sebagai NIP 197003151995031002." in linked
