"""Issuing the akta after signing: 3-in-1 with Dukcapil, render, sign, store, `issued`.

The issue step is a job: it runs after the signature committed, is retried by the
sweep until it succeeds, and never leaves a half-issued report (everything it
writes to the database commits together with the move to `issued`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from akta_service.akta.document import SIGNATURE_BOX, AktaContent, render_akta_pdf
from akta_service.akta.models import AktaDocument
from akta_service.akta.signing import SigningIdentity, ensure_demo_pki, sign_pdf
from akta_service.births.locking import lock_for_job
from akta_service.births.models import BirthReport, Document, ReportStatus, WordingModel
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import record
from akta_service.core.clock import local_timezone
from akta_service.core.config import Settings, current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import DomainError, FieldError, GuardRefused, InvalidInput, NotFound
from akta_service.core.jobs import enqueue, job
from akta_service.core.storage import storage
from akta_service.core.sweep import SweepTimes, sweeper
from akta_service.regions.models import Region
from akta_service.verification.dukcapil import BirthRegistration, Dukcapil
from akta_service.verification.gateway import dukcapil
from akta_service.workflow.engine import fire
from akta_service.workflow.rules import effect

log = logging.getLogger("akta_service.akta")

ISSUE_JOB = "akta.issue"
SYSTEM = Actor.system("Penerbitan akta")

#: Report fields a pejabat may correct after issuing, as (attribute, label in Indonesian).
CORRECTABLE_FIELDS = {
    "child_name": "nama anak",
    "child_birth_place": "tempat lahir",
    "child_birth_order": "anak ke-",
    "mother_name": "nama ibu",
    "father_name": "nama ayah",
}


class SigningNotConfigured(DomainError):
    status = 503
    code = "signing_not_configured"


@effect("schedule_issue")
def schedule_issue(report: BirthReport) -> None:
    """Queue the issue step (3-in-1, signed PDF) once the signature has committed."""
    enqueue(ISSUE_JOB, report.id)


@sweeper
def requeue_unfinished_issuing(times: SweepTimes) -> int:
    """Re-queue the issue step of reports signed a while ago and still not issued."""
    issue = db.session.scalars(
        sa.select(BirthReport.id).where(
            BirthReport.status == ReportStatus.REGISTERED,
            BirthReport.registered_at <= times.lost_before,
        )
    ).all()
    for report_id in issue:
        enqueue(ISSUE_JOB, report_id)
    return len(issue)


def signing_identity(region: Region, settings: Settings) -> SigningIdentity:
    """The region's signing certificate; outside production a demo CA is made once."""
    folder = settings.signing_path
    if not settings.is_production:
        return ensure_demo_pki(
            folder, region.code, region.name, region.signing_officer_name or "Pejabat"
        )
    p12, passphrase, root = (
        folder / f"signing-{region.code}.p12",
        folder / f"signing-{region.code}.pass",
        folder / "ca.pem",
    )
    missing = [p.name for p in (p12, passphrase, root) if not p.is_file()]
    if missing:
        raise SigningNotConfigured("signing_files_missing", region=region.name, missing=missing)
    return SigningIdentity(p12, passphrase.read_bytes().strip(), root)


def wording_of(report: BirthReport) -> WordingModel:
    """The wording model verification chose (or the one the data implies)."""
    if report.wording_model is not None:
        return report.wording_model
    if report.father_name is None:
        return WordingModel.MOTHER_ONLY
    if report.marriage_recorded:
        return WordingModel.RECORDED_MARRIAGE
    return WordingModel.UNRECORDED_MARRIAGE


def akta_content(
    report: BirthReport, region: Region, token: str, version: int, issued_on: datetime
) -> AktaContent:
    """What the certificate says, from the report and the region's officer."""
    settings = current_settings()
    if not (region.signing_officer_name and region.signing_officer_nip):
        raise SigningNotConfigured("signing_officer_missing", region=region.name)
    return AktaContent(
        registration_number=report.registration_number or "",
        child_nik=report.child_nik,
        child_name=report.child_name,
        child_sex=str(report.child_sex),
        birth_place=report.child_birth_place,
        birth_date=report.child_birth_date,
        birth_order=report.child_birth_order,
        wording_model=str(wording_of(report)),
        father_name=report.father_name,
        mother_name=report.mother_name,
        region_name=region.name,
        issue_place=region.issue_place,
        issue_date=issued_on.astimezone(local_timezone()).date(),
        officer_title=region.signing_officer_title or "Pejabat Pencatatan Sipil",
        officer_name=region.signing_officer_name,
        officer_nip=region.signing_officer_nip,
        verification_url=f"{settings.public_base_url}/verifikasi/{token}",
        version=version,
    )


def _produce(report: BirthReport, version: int, **correction: Any) -> AktaDocument:
    """Render, sign and store one version; returns its (flushed) record."""
    region = db.session.get(Region, report.region_code)
    assert region is not None  # noqa: S101 - a foreign key guarantees it
    now = utcnow()
    token = secrets.token_urlsafe(24)
    content = akta_content(report, region, token, version, now)
    identity = signing_identity(region, current_settings())
    signed = sign_pdf(
        render_akta_pdf(content),
        identity,
        field_box=SIGNATURE_BOX,
        reason=f"Kutipan Akta Kelahiran {content.registration_number}",
        location=region.issue_place,
        signer_name=content.officer_name,
        signed_at=now.astimezone(local_timezone()),  # the stamp shows office time (WIB)
    )
    digest = hashlib.sha256(signed).hexdigest()
    key = f"akta/{region.code}/{now:%Y/%m}/{content.registration_number}-v{version}-{token[:8]}.pdf"
    storage().put(key, signed)
    document = AktaDocument(
        report_id=report.id,
        version=version,
        registration_number=content.registration_number,
        sha256=digest,
        size_bytes=len(signed),
        storage_key=key,
        verification_token=token,
        signer_name=content.officer_name,
        signer_nip=content.officer_nip,
        signer_title=content.officer_title,
        issued_at=now,
        **correction,
    )
    db.session.add(document)
    db.session.flush()
    return document


@job(ISSUE_JOB)
def issue_akta(report_id: int, registry: Dukcapil | None = None) -> str:
    """3-in-1 with Dukcapil, then the signed akta, then `issued`; safe to run again."""
    report = lock_for_job(report_id)
    if report is None:
        return "busy"
    if report.status != ReportStatus.REGISTERED:
        return "not_waiting"
    if report.child_nik is None:
        # Idempotent per registration number: a retry gets the same NIK back.
        report.child_nik = (registry or dukcapil()).register_birth(
            BirthRegistration(
                registration_number=report.registration_number or "",
                kk_number=report.kk_number,
                child_name=report.child_name,
                child_sex=str(report.child_sex),
                child_birth_date=report.child_birth_date,
                mother_nik=report.mother_nik,
                father_nik=report.father_nik,
            )
        )
    document = _produce(report, version=1)
    fire(
        report,
        "issue",
        SYSTEM,
        data={"version": 1, "sha256": document.sha256, "child_nik_assigned": True},
    )
    return "issued"


def current_akta(report: BirthReport) -> AktaDocument | None:
    """The version in force (not superseded)."""
    return db.session.scalar(
        sa.select(AktaDocument)
        .where(AktaDocument.report_id == report.id, AktaDocument.superseded_at.is_(None))
        .order_by(AktaDocument.version.desc())
        .limit(1)
    )


def akta_versions(report: BirthReport) -> list[AktaDocument]:
    """Every version of the report's akta, the first issued first."""
    return list(
        db.session.scalars(
            sa.select(AktaDocument)
            .where(AktaDocument.report_id == report.id)
            .order_by(AktaDocument.version)
        )
    )


def correction_refusal(report: BirthReport, actor: Actor) -> str | None:
    """The message code of why `actor` may not correct the report's akta now; None when
    they may (a pejabat of the report's region, once the akta is issued)."""
    if report.status != ReportStatus.ISSUED:
        return "akta_not_issued_yet"
    if actor.role != Role.PEJABAT or report.region_code not in actor.region_codes:
        return "correction_by_pejabat"
    return None


def correct_akta(
    report: BirthReport,
    changes: dict[str, Any],
    reason: str,
    supporting_document_id: int | None,
    actor: Actor,
) -> AktaDocument:
    """A pejabat corrects an issued akta: a new signed version with the same registration
    number; the old version is marked superseded. Both are in the journal."""
    refusal = correction_refusal(report, actor)
    if refusal:
        raise GuardRefused(refusal)
    errors = [
        FieldError(name, "not_correctable") for name in changes if name not in CORRECTABLE_FIELDS
    ]
    if not changes:
        errors.append(FieldError("changes", "akta_nothing_changed"))
    if not (reason or "").strip():
        errors.append(FieldError("reason", "reason_missing"))
    if supporting_document_id is not None:
        supporting = db.session.get(Document, supporting_document_id)
        if supporting is None or supporting.report_id != report.id:
            errors.append(FieldError("supporting_document_id", "unknown_document"))
    if errors:
        raise InvalidInput("correction_invalid", errors=errors)
    previous = current_akta(report)
    if previous is None:
        raise NotFound("akta_in_force_missing")
    before = {name: getattr(report, name) for name in changes}
    for name, value in changes.items():
        setattr(report, name, value)
    now = utcnow()
    previous.superseded_at = now
    db.session.flush()
    document = _produce(
        report,
        version=previous.version + 1,
        correction_reason=reason.strip(),
        correction_changes={"before": before, "after": changes},
        correction_document_id=supporting_document_id,
    )
    record(
        "akta:birth_report:correct",
        actor,
        report=report,
        reason=reason.strip(),
        data={
            "superseded_version": previous.version,
            "new_version": document.version,
            "changes": {"before": before, "after": changes},
            "supporting_document_id": supporting_document_id,
            "sha256": document.sha256,
        },
    )
    return document


def akta_pdf(document: AktaDocument) -> bytes:
    """The stored bytes of an issued version."""
    return storage().get(document.storage_key)


def trust_root(region_code: str, settings: Settings) -> Path:
    """The CA certificate signatures of this region are checked against."""
    region = db.session.get(Region, region_code)
    if region is None:
        raise NotFound("region_unknown", region=region_code)
    return signing_identity(region, settings).trust_root_pem
