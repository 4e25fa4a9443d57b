"""`akta akta verify FILE.pdf`: valid for an issued akta, invalid for a tampered copy."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from akta_service.akta.operations import akta_pdf, current_akta, issue_akta
from akta_service.akta.signing import (
    SUMMARY_CHANGED,
    SUMMARY_DAMAGED,
    SUMMARY_UNREADABLE,
    SUMMARY_VALID,
)
from akta_service.births.models import Channel
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.cli import cli
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.regions.models import Region
from akta_service.verification.gateway import dukcapil
from akta_service.verification.operations import verify_report
from akta_service.workflow.engine import fire
from tests.conftest import sign_as


@pytest.fixture
def issued_pdf(session: Any, actors: dict[str, Actor]) -> bytes:
    """The signed PDF of an akta Kota Cirebon issued."""
    region = db.session.get(Region, "3274")
    assert region is not None
    region.signing_officer_name = "Drs. Bambang Sutrisno, M.Si."
    region.signing_officer_nip = "197001011990031001"
    population = dukcapil().population  # type: ignore[attr-defined]
    payload = copy.deepcopy(population.sample_families(1, "recorded", region="3274")[0])
    informant = Actor.informant("web", "Pelapor")
    report = submit_birth_report(
        load_report_input(payload["example_report"]), Channel.WEB, informant
    )
    assert verify_report(report.id) == "pass_verification"
    fire(report, "approve", actors["operator"])
    sign_as(report)
    assert issue_akta(report.id) == "issued"
    document = current_akta(report)
    assert document is not None
    return akta_pdf(document)


def _verify(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, ["akta", "verify", *args])


def test_an_issued_akta_is_valid(app: Flask, issued_pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "akta.pdf"
    path.write_bytes(issued_pdf)
    result = _verify(app, str(path), "--region", "3274")
    assert result.exit_code == 0, result.output
    assert "Tanda tangan: SAH\n" in result.output
    assert "Penanda tangan: Pejabat pj1\n" in result.output  # the pejabat who signed
    assert "NIP penanda tangan: 197001011990031001\n" in result.output
    assert "Cap waktu (RFC 3161): " in result.output
    assert "Cap waktu (RFC 3161): tidak ada" not in result.output
    assert "Waktu tanda tangan: " in result.output
    assert " WIB\n" in result.output  # the signing time in office time
    assert f"Ringkasan: {SUMMARY_VALID}\n" in result.output
    assert _verify(app, str(path)).exit_code == 0  # the first configured region by default


def test_a_tampered_copy_is_not_valid(app: Flask, issued_pdf: bytes, tmp_path: Path) -> None:
    tampered = bytearray(issued_pdf)
    position = issued_pdf.index(b"/Type /Page") if b"/Type /Page" in issued_pdf else 1000
    tampered[position + 1] ^= 0x01
    path = tmp_path / "akta-diubah.pdf"
    path.write_bytes(bytes(tampered))
    result = _verify(app, str(path))
    assert result.exit_code == 1, result.output
    assert "Tanda tangan: TIDAK SAH\n" in result.output
    summary = result.output.rsplit("Ringkasan: ", 1)[-1].strip()
    assert summary in (SUMMARY_CHANGED, SUMMARY_DAMAGED)


def test_an_unreadable_file_exits_2(app: Flask, session: Any, tmp_path: Path) -> None:
    missing = _verify(app, str(tmp_path / "tidak-ada.pdf"))
    assert missing.exit_code == 2
    assert "tidak dapat dibaca" in missing.output
    text = tmp_path / "bukan.pdf"
    text.write_text("Akta Kelahiran, diketik ulang")
    result = _verify(app, str(text))
    assert result.exit_code == 2
    assert SUMMARY_UNREADABLE in result.output


def test_an_unknown_region_is_a_usage_error(app: Flask, session: Any, tmp_path: Path) -> None:
    path = tmp_path / "akta.pdf"
    path.write_bytes(b"%PDF-1.7\n")
    result = _verify(app, str(path), "--region", "9999")
    assert result.exit_code == 2
    assert "Wilayah 9999 tidak dikenal" in result.output
