"""The layering written in pyproject.toml ([tool.importlinter]) holds: `make test` checks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str | None:
    beside_python = Path(sys.executable).with_name("lint-imports")
    return str(beside_python) if beside_python.exists() else shutil.which("lint-imports")


def test_the_import_contracts_are_kept() -> None:
    command = _lint_imports()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("lint-imports is missing: install the dev extras (pip install -e .[dev])")
        pytest.skip("lint-imports is not installed (dev extras); `make test` installs it")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(  # noqa: S603 - our own tool, no shell
        [command, "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
