"""A web worker loads only what its requests need: PDF rendering and signing (ReportLab,
pyHanko), FHIR intake (fhir.resources, pydantic), QR codes (segno) and images (PIL) load
where they are used, not when the app is created. Each costs a worker megabytes it keeps
for its whole life (issue 19: at most 120 MB per worker; `python -m bench.api` measures it).

Checked in a fresh interpreter, as gunicorn's worker starts: the app created, its pages
and the submission API's description served, then the modules loaded are read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Top-level packages the submission path must not load; what each costs a worker (RSS,
#: measured on import beside Flask and SQLAlchemy).
HEAVY = {
    "pyhanko": "pyHanko (PAdES signing), ~28 MB with its certificate validator",
    "pyhanko_certvalidator": "pyHanko's certificate validator, ~12 MB",
    "fhir": "fhir.resources (FHIR intake), ~16 MB with pydantic",
    "pydantic": "pydantic (FHIR intake), ~4 MB",
    "reportlab": "ReportLab (PDF rendering), ~7 MB",
    "segno": "segno (QR codes), ~1 MB",
    "PIL": "Pillow (images), ~2.5 MB",
    "requests": "requests (pyHanko's fetchers), ~5 MB",
}

STARTED_WORKER = """
import json
import sys

from akta_service.app import create_app

instance = sys.argv[1]
app = create_app(
    {
        "AKTA_ENV": "test",
        "AKTA_INSTANCE_PATH": instance,
        "AKTA_DATABASE_URL": f"sqlite:///{instance}/worker.sqlite3",
        "AKTA_SECRET_KEY": "worker-memory-test-secret-key-long-enough-0123",
        "AKTA_JOBS": "manual",
    }
)
client = app.test_client()
answers = {path: client.get(path).status_code for path in ("/healthz", "/", "/lapor")}
print(json.dumps({"answers": answers, "modules": sorted(sys.modules)}))
"""


def _started_worker(instance: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", STARTED_WORKER, str(instance)],
        cwd=instance,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return answer


def test_a_started_worker_loads_no_pdf_signing_fhir_or_qr_library(tmp_path: Path) -> None:
    worker = _started_worker(tmp_path)

    answers = worker["answers"]
    assert isinstance(answers, dict)
    assert answers["/healthz"] == 200, answers
    assert answers["/"] == 200, answers
    modules = worker["modules"]
    assert isinstance(modules, list)
    loaded = {name.split(".")[0] for name in modules}
    assert not {package: cost for package, cost in HEAVY.items() if package in loaded}, (
        "loaded at start by every web worker"
    )
