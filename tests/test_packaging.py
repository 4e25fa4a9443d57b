"""The wheel ships its data folders and runs without the source checkout.

Slow (builds a wheel and a virtual environment, ~10-20 s); every name here carries
`slow`, so `pytest -k "not slow"` leaves it out of a quick run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SHIPPED_FILES = (
    "akta_service/templates/base.html",
    "akta_service/workflows/birth_registration.yaml",
    "akta_service/migrations/env.py",
    "akta_service/migrations/alembic.ini",
    "akta_service/templates/public/verify.html",
    "akta_service/static/vendor/swagger-ui/swagger-ui-bundle.js",
    # Pages take their styles and scripts from files (Content-Security-Policy).
    "akta_service/static/base.css",
    "akta_service/static/api/docs.js",
    "akta_service/templates/swagger_ui.html",
)

#: Run by the new environment's python, from a folder outside the checkout.
INSTALLED_APP_CHECK = """
import json
import sys
from pathlib import Path

import flask_migrate

import akta_service
from akta_service import create_app
from akta_service.core.resources import resource_dir

venv, repo, work = (Path(arg).resolve() for arg in sys.argv[1:4])
package = Path(akta_service.__file__).resolve()
app = create_app(
    {
        "AKTA_ENV": "test",
        "AKTA_INSTANCE_PATH": str(work / "instance"),
        "AKTA_DATABASE_URL": f"sqlite:///{work / 'fresh.sqlite3'}",
        "AKTA_SECRET_KEY": "packaging-test-secret-key-long-enough-0123",
    }
)
with app.app_context():
    flask_migrate.upgrade()
    migrations = resource_dir("migrations").resolve()
client = app.test_client()
ready = client.get("/readyz")
home = client.get("/")
print(
    json.dumps(
        {
            "package": str(package),
            "package_in_venv": package.is_relative_to(venv),
            "package_in_repo": package.is_relative_to(repo),
            "migrations_in_venv": migrations.is_relative_to(venv),
            "readyz_status": ready.status_code,
            "readyz": ready.get_json(),
            "home_status": home.status_code,
        }
    )
)
"""


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(  # noqa: S603
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def slow_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the checkout, the way `pip install .` builds it."""
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, REPO, cwd=dist)
    (wheel,) = dist.glob("akta_service-*.whl")
    return wheel


def test_slow_wheel_ships_templates_workflows_and_migrations(slow_wheel: Path) -> None:
    with zipfile.ZipFile(slow_wheel) as archive:
        names = set(archive.namelist())

    missing = [name for name in SHIPPED_FILES if name not in names]
    assert not missing, f"the wheel lacks {missing}"
    versions = [
        n
        for n in names
        if n.startswith("akta_service/migrations/versions/")
        and n.endswith(".py")
        and "__pycache__" not in n
    ]
    assert versions, "the wheel ships no migration revisions"
    assert any(n.endswith("entry_points.txt") for n in names)


def test_slow_installed_wheel_migrates_and_serves_outside_the_checkout(
    slow_wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).strip()
    )
    # The project's dependencies, already installed, without downloading them again.
    (purelib / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(
        sys.executable, "-m", "pip", "--python", python,
        "install", "--no-deps", "--no-index", slow_wheel,
        cwd=tmp_path,
    )  # fmt: skip

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = tmp_path / "check_installed_app.py"
    script.write_text(INSTALLED_APP_CHECK)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AKTA_", "FLASK_")) and k not in ("PYTHONPATH", "PYTHONHOME")
    }
    output = run(python, "-W", "error", script, venv, REPO, elsewhere, cwd=elsewhere, env=env)
    seen = json.loads(output.strip().splitlines()[-1])

    assert seen["package_in_venv"], seen["package"]
    assert not seen["package_in_repo"], seen["package"]
    assert seen["migrations_in_venv"]
    assert seen["readyz_status"] == 200, seen["readyz"]
    assert seen["readyz"]["migrations"] == "at_head"
    assert seen["home_status"] == 200
    assert (venv / "bin" / "akta").exists()
