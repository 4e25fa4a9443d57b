"""Stored files in PostgreSQL against the folder: upload throughput and document views.

Target: the review page's p95 with AKTA_STORAGE_BACKEND=database within 1.5x the folder's.

In one run, two apps on two fresh PostgreSQL databases, one per backend, each get the same
1,000 documents of 1-3 MB (random bytes behind a PNG signature, made one at a time and
never all held in memory), four to a report on 250 reports:

- upload: `attach_document` of each file with its picture, then the commit: the storage
  part of an upload, both files encrypted (AES-GCM) and written, the rows, the journal.
  Opening the file in its limited child process comes before that and is the same for
  either backend: left out, it would only hide the difference. Reported as documents and
  MB per second.
- document view: GET of one document's picture (1-3 MB here, as a photo's is) through the
  Flask test client, signed in as an operator: storage read, decryption, journal row.
- review page: GET of a report's page, then of every picture on it, as a browser shows it.

Run: `.venv/bin/python -m bench.storage` (`--documents` scales it down for a quick look).
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from akta_service.accounts.operations import create_user
from akta_service.births.documents import attach_document
from akta_service.births.models import BirthReport, DocumentKind
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.core.untrusted_files import Inspection, Picture
from bench.common import bench_app, percentiles, postgres_available, submit_sandbox_reports
from bench.queue import PASSWORD, sign_in

TARGET_RATIO = 1.5
DOCUMENTS = 1_000
PER_REPORT = 4
PNG = b"\x89PNG\r\n\x1a\n"
KINDS = [
    DocumentKind.BIRTH_LETTER,
    DocumentKind.KK,
    DocumentKind.MARRIAGE_CERTIFICATE,
    DocumentKind.ID_MOTHER,
]
_IMAGE = re.compile(r'<img src="(/kantor/laporan/[^"]+/dokumen/[^"]+)"')


def _reports(count: int) -> list[str]:
    codes = [report.tracking_code for report in submit_sandbox_reports(count)]
    create_user("bench-op", "Bench Operator", "operator", PASSWORD, ["3274"], Actor.system("b"))
    db.session.commit()
    return codes


def upload_all(codes: list[str], documents: int, seed: int) -> tuple[float, int]:
    """Attach the documents (each committed on its own); returns (seconds, bytes)."""
    rng = random.Random(seed)  # the same files for either backend, made one at a time
    actor = Actor.system("bench upload")
    spent, total = 0.0, 0
    for n in range(documents):
        # Incompressible, as a scan's JPEG or PDF is.
        data = PNG + rng.randbytes(rng.randint(1_000_000, 3_000_000))
        inspection = Inspection("image/png", 1, (Picture(data, "image/png", 2400, 3400),))
        started = time.perf_counter()
        report = db.session.scalar(
            sa.select(BirthReport).where(BirthReport.tracking_code == codes[n // PER_REPORT])
        )
        assert report is not None
        attach_document(report, str(KINDS[n % PER_REPORT]), data, actor, inspection=inspection)
        db.session.commit()
        spent += time.perf_counter() - started
        total += 2 * len(data)
        db.session.expunge_all()
    return spent, total


def views(client: FlaskClient, codes: list[str], samples: int) -> tuple[list[float], list[float]]:
    """(document view ms, review page with its pictures ms)."""
    document_ms, page_ms = [], []
    rng = random.Random(7)
    for _ in range(samples):
        code = rng.choice(codes)
        started = time.perf_counter()
        page = client.get(f"/kantor/laporan/{code}")
        assert page.status_code == 200
        images = _IMAGE.findall(page.get_data(as_text=True))
        assert len(images) == PER_REPORT, f"{code}: {len(images)} pictures shown"
        for index, src in enumerate(images):
            one = time.perf_counter()
            shown = client.get(src.replace("&amp;", "&"))
            assert shown.status_code == 200
            assert len(shown.get_data()) > 1_000_000
            if index == 0:
                document_ms.append((time.perf_counter() - one) * 1000)
        page_ms.append((time.perf_counter() - started) * 1000)
    return document_ms, page_ms


def run_backend(backend: str, documents: int, samples: int) -> list[float]:
    settings = {"AKTA_STORAGE_BACKEND": backend, "AKTA_SANDBOX_FAMILIES": "400"}
    with bench_app("postgresql", settings) as app, app.app_context():
        codes = _reports(-(-documents // PER_REPORT))
        seconds, stored = upload_all(codes, documents, seed=2026)
        print(
            f"storage[{backend}] upload: {documents / seconds:.1f} documents/s, "
            f"{stored / seconds / 1e6:.1f} MB/s ({documents} documents, {stored / 1e9:.2f} GB "
            "stored with their pictures)"
        )
        client = app.test_client()
        sign_in(client, "bench-op")
        views(client, codes, 5)  # warm-up: the first requests load templates and fonts
        document_ms, page_ms = views(client, codes, samples)
        print(f"storage[{backend}] document view: {percentiles(document_ms)}")
        print(f"storage[{backend}] review page with its pictures: {percentiles(page_ms)}")
        return page_ms


def p95(samples: list[float]) -> float:
    return sorted(samples)[int(0.95 * (len(samples) - 1))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=DOCUMENTS)
    parser.add_argument("--samples", type=int, default=200)
    args: Any = parser.parse_args(argv)
    if not postgres_available():
        print("storage: PostgreSQL not reachable; not run")
        return
    folder = run_backend("folder", args.documents, args.samples)
    database = run_backend("database", args.documents, args.samples)
    ratio = p95(database) / p95(folder)
    verdict = "met" if ratio <= TARGET_RATIO else "not met"
    print(
        f"storage: review page p95 database {p95(database):.1f} ms / folder {p95(folder):.1f} ms"
        f" = {ratio:.2f}x (target <= {TARGET_RATIO}x): {verdict}"
    )


if __name__ == "__main__":
    main()
