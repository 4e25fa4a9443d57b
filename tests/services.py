"""Real services the integration tests start as subprocesses: the Dukcapil sandbox server,
Celery workers, gunicorn. Each is stopped (with its children) when the test ends."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from akta_service.verification.client import HttpDukcapil
from tests.databases import in_ci

BIN = Path(sys.executable).parent
SANDBOX_API_KEY = "sandbox-test-key"
#: No waiting between tries: the tests are about what happens, not how long it takes.
FAST_RETRIES = {"backoff_base": 0.01, "backoff_max": 0.02}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    """Stop the process and everything it started; return what it printed."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
    try:
        stdout, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, _ = process.communicate()
    return stdout or ""


def stop_all(processes: list[subprocess.Popen[str]]) -> None:
    """Stop each process, printing what it printed: pytest shows a fixture's output only
    when its test failed, where a server's or a worker's log says what went wrong."""
    for process in processes:
        output = stop(process)
        print(f"--- {Path(str(process.args[0])).name} {process.args[1:]}:\n{output}")


def spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a command in its own process group, output captured."""
    return subprocess.Popen(  # noqa: S603 - our own programs and arguments
        args,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_until(check: Callable[[], Any], timeout: float, what: str, step: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def wait_http(url: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited early:\n{stop(process)}")
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, timeout, f"{url} to answer")
    except BaseException:
        stop(process)
        raise


@dataclass
class SandboxServer:
    """`akta sandbox serve` running in a subprocess."""

    url: str
    process: subprocess.Popen[str]
    api_key: str | None

    def admin(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=5)

    def requests(self) -> int:
        with self.admin() as admin:
            return int(admin.get("/_health").json()["requests"])

    def set_faults(self, **faults: Any) -> None:
        with self.admin() as admin:
            admin.put("/_faults", json=faults).raise_for_status()

    def client(self, **options: Any) -> HttpDukcapil:
        """An HTTP client for this server that does not wait long between tries."""
        return HttpDukcapil(self.url, **{"api_key": self.api_key, **FAST_RETRIES, **options})


def start_sandbox(*options: str, api_key: str | None = SANDBOX_API_KEY) -> SandboxServer:
    """`akta sandbox serve` as a user runs it, on a free port; waits until it answers."""
    port = free_port()
    args = [str(BIN / "akta"), "sandbox", "serve", "--port", str(port), *options]
    if api_key:
        args += ["--api-key", api_key]
    process = spawn(args)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/_health", process)
    return SandboxServer(url, process, api_key)


REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def require_redis() -> None:
    """Skip (on a laptop) or fail (under CI=true) when Redis is not reachable."""
    try:
        redis.Redis(REDIS_HOST, REDIS_PORT, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT}: {exc}"
        if in_ci():
            pytest.fail(f"CI=true requires Redis. {message}")
        pytest.skip(message)


#: Where test processes running side by side (`pytest -n`) claim their Redis databases.
_REDIS_CLAIMS = "akta-test:redis-db:{}"
_REDIS_DATABASES = range(1, 16)


@contextlib.contextmanager
def own_redis_database(wait_seconds: float = 300) -> Iterator[tuple[int, redis.Redis]]:
    """A Redis database (1-15) that no other test uses while the block runs: empty when it
    starts, emptied when it ends. The claim is a key in database 0, set only if absent and
    given up at the end (or after an hour, should the test process die)."""
    require_redis()
    claims = redis.Redis(REDIS_HOST, REDIS_PORT, db=0)
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait_seconds
    number = None
    while number is None:
        for candidate in random.sample(_REDIS_DATABASES, len(_REDIS_DATABASES)):
            if claims.set(_REDIS_CLAIMS.format(candidate), token, nx=True, ex=3600):
                number = candidate
                break
        else:
            if time.monotonic() > deadline:
                raise RuntimeError("every Redis test database stayed claimed by other tests")
            time.sleep(0.2)
    broker = redis.Redis(REDIS_HOST, REDIS_PORT, db=number)
    broker.flushdb()
    try:
        yield number, broker
    finally:
        broker.flushdb()
        if claims.get(_REDIS_CLAIMS.format(number)) == token.encode():
            claims.delete(_REDIS_CLAIMS.format(number))


def start_worker(env: dict[str, str], *options: str) -> subprocess.Popen[str]:
    """`akta worker` (Celery) with the given environment."""
    return spawn([str(BIN / "akta"), "worker", "--loglevel=WARNING", *options], env)


#: gunicorn closes a connection idle for longer than its keep-alive, at any moment after that:
#: a request a client sends on it just then is reset unread (RFC 9112 section 9.6), and httpx
#: does not send it again. The tests' gunicorns keep an idle connection twice as long as an
#: httpx client keeps one (5 s), so the client always lets it go first (and none at all, were
#: httpx ever to keep one for good).
GUNICORN_KEEPALIVE_SECONDS = 2 * int(httpx.Limits().keepalive_expiry or 0)


def gunicorn_command(port: int, workers: int = 2) -> list[str]:
    """gunicorn serving the service on 127.0.0.1:`port`, `workers` processes of 4 threads."""
    return [
        str(BIN / "gunicorn"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "4"),
        *("--keep-alive", str(GUNICORN_KEEPALIVE_SECONDS)),
        "akta_service.wsgi:app",
    ]


def start_gunicorn(env: dict[str, str], workers: int = 2) -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    process = spawn(gunicorn_command(port, workers), env)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz", process)
    return url, process


SOFTHSM2_MODULE = os.environ.get("AKTA_SOFTHSM2_MODULE", "/usr/lib/softhsm/libsofthsm2.so")


def softhsm_token() -> str:
    """ "softhsm" where SoftHSM2 is installed (always under CI=true), else "software"."""
    if Path(SOFTHSM2_MODULE).is_file():
        return "softhsm"
    if in_ci():
        pytest.fail(f"CI=true requires SoftHSM2 (apt-get install softhsm2): {SOFTHSM2_MODULE}")
    return "software"


def require_softhsm() -> None:
    """Skip (on a laptop) or fail (under CI=true) when SoftHSM2 is not installed."""
    if softhsm_token() != "softhsm":
        pytest.skip(f"SoftHSM2 not installed: {SOFTHSM2_MODULE}")


@dataclass(frozen=True)
class SigningOfficer:
    """An officer enrolled in a test signing service, with the passphrase they type."""

    nik: str
    nip: str
    name: str
    passphrase: str


@dataclass
class SigningServer:
    """`akta signing serve` running in a subprocess, with its state folder."""

    url: str
    process: subprocess.Popen[str]
    folder: Path
    env: dict[str, str]

    def command(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """An `akta signing …` command against this service's folder."""
        return subprocess.run(  # noqa: S603 - our own program
            [str(BIN / "akta"), "signing", *args],
            env={**os.environ, **self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def trust_root(self) -> Path:
        """The service's CA certificate, saved where the tests can hand it to a validator."""
        path = self.folder / "trust-root.pem"
        if not path.exists():
            path.write_bytes(httpx.get(f"{self.url}/ca.pem", timeout=5).content)
        return path


def signing_env(folder: Path, url: str, token: str) -> dict[str, str]:
    return {
        "AKTA_SIGNING_SERVICE_PATH": str(folder),
        "AKTA_SIGNING_SERVICE_URL": url,
        "AKTA_SIGNING_TOKEN": token,
        "AKTA_SOFTHSM2_MODULE": SOFTHSM2_MODULE,
    }


def enrol(env: dict[str, str], officer: SigningOfficer) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own program
        [
            str(BIN / "akta"),
            "signing",
            "enrol",
            "--nip",
            officer.nip,
            "--name",
            officer.name,
            "--nik",
            officer.nik,
        ],
        env={**os.environ, **env, "AKTA_SIGNING_PASSPHRASE": officer.passphrase},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_signing_service(
    folder: Path, officers: tuple[SigningOfficer, ...], token: str | None = None, **extra: str
) -> SigningServer:
    """Enrol the officers, then `akta signing serve` as an operator runs it, on a free port."""
    url = f"http://127.0.0.1:{free_port()}"
    env = {**signing_env(folder, url, token or softhsm_token()), **extra}
    for officer in officers:
        enrolled = enrol(env, officer)
        assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr
    process = spawn([str(BIN / "akta"), "signing", "serve"], env)
    wait_http(f"{url}/_health", process)
    return SigningServer(url, process, folder, env)
