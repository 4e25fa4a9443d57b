"""Issuing the akta after signing: 3-in-1 with Dukcapil, render, sign, store, `issued`.

The 3-in-1: Dukcapil gives the child a NIK and answers with the updated KK; the akta, the
office's print of that KK and (under five) the KIA are rendered, signed and stored together.

The issue step is a job: it runs after the signature committed, is retried by the
sweep until it succeeds, and never leaves a half-issued report (everything it
writes to the database commits together with the move to `issued`).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from akta_service.accounts.models import User
from akta_service.akta.models import (
    AktaCorrectionRequest,
    AktaDocument,
    CorrectionStatus,
    IssueFailure,
    KiaCard,
    KkPrint,
    SigningAuthorisation,
    SigningBatchItem,
)
from akta_service.akta.seal_keys import SealKeyError
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
from akta_service.verification.dukcapil import (
    BirthRegistered,
    BirthRegistration,
    Dukcapil,
    DukcapilRefused,
    DukcapilUnavailable,
)
from akta_service.verification.gateway import dukcapil
from akta_service.workflow.engine import fire
from akta_service.workflow.rules import effect

if TYPE_CHECKING:
    # Rendering (ReportLab, segno) and signing (pyHanko) are imported where an akta is
    # rendered or signed: a web worker answering submissions never loads them.
    from akta_service.akta.document import AktaContent
    from akta_service.akta.kia import KiaContent
    from akta_service.akta.kk import KkContent
    from akta_service.akta.signing import PdfToSign
    from akta_service.signing.client import Authorisation, SigningServiceError

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


class SigningRefused(DomainError):
    """The signing service did not take the officer's passphrase (or could not be reached)."""

    status = 403
    code = "signing_refused"


#: The signing service's refusal codes -> (our message code, HTTP status).
_SERVICE_REFUSALS = {
    "passphrase_wrong": ("signing_passphrase_wrong", 403),
    "signer_locked": ("signing_locked", 423),
    "credential_unknown": ("signing_identity_unknown", 403),
}


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


def _sealer() -> Fernet:
    """Seals authorisations with a key derived from the service's secret key."""
    secret = current_settings().secret_key.encode()
    digest = hashlib.sha256(b"akta signing authorisation\0" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _refusal(error: SigningServiceError) -> SigningRefused:
    code, status = _SERVICE_REFUSALS.get(error.code, ("signing_service_unavailable", 503))
    refusal = SigningRefused(code, attempts_left=error.attempts_left)
    refusal.status = status
    return refusal


#: Signatures one sign authorises: the issue step signs the akta, the KIA and the KK print,
#: may fail after (storage, database) and run again; the authorisation is the report's alone
#: and deleted once it is issued.
ISSUE_SIGNATURES = 6


def authorise_signature(signer: User, passphrase: str, signatures: int = 1) -> Authorisation:
    """The signing service checks the pejabat's passphrase against their own key's token.

    The passphrase goes to the signing service once, here, and is kept nowhere.
    :raises SigningRefused: no passphrase, no signing identity, wrong passphrase, locked.
    """
    if not passphrase:
        raise SigningRefused("signing_passphrase_required")
    if not (signer.nik and signer.nip):
        raise SigningRefused("signing_identity_missing")
    from akta_service.signing.client import SigningServiceError
    from akta_service.signing.gateway import signing_service

    try:
        return signing_service().authorise(signer.nik, passphrase, signatures)
    except SigningServiceError as error:
        raise _refusal(error) from None


def seal_authorisation(authorisation: Authorisation) -> str:
    """The authorisation as the database keeps it (encrypted)."""
    return _sealer().encrypt(authorisation.sad.encode()).decode()


def authorise_signing(signer: User, passphrase: str, code: str, reports: int = 1) -> Authorisation:
    """How the office pages authorise signatures, one report or a batch: the pejabat's
    current TOTP code first, then their passphrase (asked in addition to it, never instead).

    A wrong code refuses before the passphrase reaches the signing service; both count
    towards their own lockouts (the TOTP codes', the signing service's).
    :raises SecondFactorRefused: no second factor, a wrong or used code, codes locked.
    :raises SigningRefused: as `authorise_signature`.
    """
    from akta_service.accounts.second_factor import require_totp

    require_totp(signer, code)
    return authorise_signature(signer, passphrase, reports * ISSUE_SIGNATURES)


def keep_authorisation(
    report: BirthReport, signer: User, authorisation: Authorisation, sealed: str | None = None
) -> None:
    """The authorisation waits sealed for the report's issue step (a job, after the 3-in-1);
    it replaces one the report had (expired, or from a failed attempt).

    :param sealed: the authorisation as `seal_authorisation` sealed it already (a batch
        seals its one authorisation once, for all its reports).
    """
    existing = db.session.get(SigningAuthorisation, report.id)
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    db.session.add(
        SigningAuthorisation(
            report_id=report.id,
            signer_id=signer.id,
            sealed=sealed or seal_authorisation(authorisation),
            expires_at=authorisation.expires_at,
        )
    )
    db.session.flush()


def authorise_issue(report: BirthReport, signer: User, passphrase: str) -> None:
    """The passphrase alone buys the report's signature: for signing outside the office pages
    (the demo seed, benchmarks, tests' setup), which ask the TOTP code too (authorise_signing)."""
    keep_authorisation(report, signer, authorise_signature(signer, passphrase, ISSUE_SIGNATURES))


def usable_authorisation(report: BirthReport) -> bool:
    """Whether the report's issue step still has an authorisation to sign with."""
    waiting = db.session.get(SigningAuthorisation, report.id)
    return waiting is not None and waiting.expires_at > utcnow()


def _waiting_authorisation(
    report: BirthReport,
) -> tuple[SigningAuthorisation, User, Authorisation] | None:
    """The report's kept authorisation (the caller deletes it once used: the session holds
    only a weak reference, so fetching it again would be another query), its signer and
    the authorisation, while still usable."""
    waiting = db.session.get(SigningAuthorisation, report.id)
    if waiting is None or waiting.expires_at <= utcnow():
        return None
    signer = db.session.get(User, waiting.signer_id)
    try:
        sad = _sealer().decrypt(waiting.sealed.encode()).decode()
    except InvalidToken:  # the secret key changed since: the pejabat signs again
        return None
    assert signer is not None  # noqa: S101 - a foreign key guarantees it
    from akta_service.signing.client import Authorisation

    return waiting, signer, Authorisation(sad, waiting.expires_at)


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
    report: BirthReport,
    region: Region,
    token: str,
    version: int,
    issued_on: datetime,
    signer: User,
) -> AktaContent:
    """What the certificate says, from the report and the pejabat who signs it."""
    officer = (signer.full_name, signer.nip or "", _officer_title(region, signer))
    return _printed(report, region, token, version, issued_on, officer)


def _printed(
    report: BirthReport,
    region: Region,
    token: str,
    version: int,
    issued_on: datetime,
    officer: tuple[str, str, str],
) -> AktaContent:
    """The content of one version: the report's facts, and the officer's name, NIP, title."""
    from akta_service.akta.document import AktaContent

    return AktaContent(
        registration_number=report.registration_number or "",
        child_nik=report.child_nik,
        child_name=report.child_name,
        child_sex=str(report.child_sex),
        birth_place=birth_place_name(region),
        birth_date=report.child_birth_date,
        birth_order=report.child_birth_order,
        wording_model=str(wording_of(report)),
        father_name=report.father_name,
        mother_name=report.mother_name,
        region_name=region.name,
        issue_place=region.issue_place,
        issue_date=issued_on.astimezone(local_timezone()).date(),
        officer_title=officer[2],
        officer_name=officer[0],
        officer_nip=officer[1],
        verification_url=verification_url(token),
        version=version,
    )


def issued_content(report: BirthReport, document: AktaDocument) -> AktaContent:
    """What an issued version printed: for a superseded one, the values before the
    corrections that followed it."""
    region = db.session.get(Region, report.region_code)
    assert region is not None  # noqa: S101 - a foreign key guarantees it
    officer = (document.signer_name, document.signer_nip or "", document.signer_title or "")
    content = _printed(
        report, region, document.verification_token, document.version, document.issued_at, officer
    )
    for later in reversed(akta_versions(report)):
        if later.version > document.version:
            content = corrected_content(content, later.correction_changes.get("before", {}))
    return content


#: The akta's printed fields of each correctable report attribute (the place of birth it
#: prints is the report's kab/kota, `birth_place_name`, not the facility).
_PRINTED_AS = {
    "child_name": "child_name",
    "child_birth_order": "birth_order",
    "mother_name": "mother_name",
    "father_name": "father_name",
}


def corrected_content(content: AktaContent, values: dict[str, Any]) -> AktaContent:
    """The content with these report attributes' values printed instead."""
    printed = {_PRINTED_AS[name]: v for name, v in values.items() if name in _PRINTED_AS}
    return dataclasses.replace(content, **printed)


def sealed_issued_content(report: BirthReport, document: AktaDocument) -> AktaContent:
    """What an issued version printed, its QR code sealed again: the facts, and the digest of
    the printed text, its own QR code carries (a staff copy's, the KIA's)."""
    from akta_service.akta.seal import sealed_content

    return sealed_content(issued_content(report, document), current_settings().public_base_url)


def verification_url(token: str) -> str:
    """The public verification page of one issued version (what its QR code opens)."""
    return f"{current_settings().public_base_url}/verifikasi/{token}"


def birth_place_name(region: Region) -> str:
    """Where the akta says the child was born: the kab/kota by its name ("Kota Cirebon" ->
    "Cirebon"), as the F-2.01 instructions and the register's wording (F-2.14, Permendagri
    109/2019) write the place of birth and the KTP shows it; the facility stays in the report.
    The report's kab/kota: the form does not ask for another one."""
    return re.sub(r"^(Kota|Kabupaten|Kab\.)\s+", "", region.name)


def _officer_title(region: Region, signer: User) -> str:
    """The region's officer title belongs to the officer the region names; anyone else
    signs as Pejabat Pencatatan Sipil."""
    if region.signing_officer_title and region.signing_officer_nip in (None, signer.nip):
        return region.signing_officer_title
    return "Pejabat Pencatatan Sipil"


def _produce(
    report: BirthReport,
    version: int,
    signer: User,
    authorisation: Authorisation,
    *,
    with_kia: bool = False,
    registered: BirthRegistered | None = None,
    **correction: Any,
) -> tuple[AktaDocument, KiaCard | None, KkPrint | None]:
    """Render, sign (through the signing service) and store one version, with `with_kia`
    the child's KIA card beside it and with `registered` (Dukcapil's 3-in-1 answer) the
    print of the updated KK, all signed in one call to the service; returns their (flushed)
    records (no card for a child five or older)."""
    from akta_service.akta.document import SIGNATURE_BOX, render_akta_pdf
    from akta_service.akta.kk import render_kk_pdf
    from akta_service.akta.seal import sealed_content
    from akta_service.akta.signing import PdfToSign

    region = db.session.get(Region, report.region_code)
    assert region is not None  # noqa: S101 - a foreign key guarantees it
    if not (signer.nik and signer.nip):
        raise SigningRefused("signing_identity_missing")
    now = utcnow()
    token = secrets.token_urlsafe(24)
    content = sealed_content(
        akta_content(report, region, token, version, now, signer),
        current_settings().public_base_url,
    )
    to_sign = [
        PdfToSign(
            render_akta_pdf(content),
            f"Kutipan Akta Kelahiran {content.registration_number}",
            SIGNATURE_BOX,
        )
    ]
    # The card's QR code carries the akta's own seal: the same facts and printed text.
    head = registered.family_card.head_name if registered is not None else None
    kia = _kia_content(report, region, content, now, head) if with_kia else None
    if kia is not None:
        to_sign.append(_kia_to_sign(kia))
    kk = _kk_content(region, content, registered, now) if registered is not None else None
    if kk is not None:
        to_sign.append(PdfToSign(render_kk_pdf(kk), f"Cetakan Kartu Keluarga {kk.card.kk_number}"))
    signed = _signed(to_sign, signer, authorisation, region, signed_at=now)
    key = f"akta/{region.code}/{now:%Y/%m}/{content.registration_number}-v{version}-{token[:8]}.pdf"
    document = AktaDocument(
        report_id=report.id,
        version=version,
        registration_number=content.registration_number,
        sha256=hashlib.sha256(signed[0]).hexdigest(),
        size_bytes=len(signed[0]),
        storage_key=key,
        verification_token=token,
        signer_name=content.officer_name,
        signer_nip=content.officer_nip,
        signer_title=content.officer_title,
        issued_at=now,
        **correction,
    )
    files = [(key, signed[0])]
    if kia is not None:
        files.append((_kia_key(region, document, kia), signed[1]))
    if kk is not None:
        files.append((_kk_key(region, document, kk), signed[-1]))
    # The signed PDFs are written at the same time: each waits for its own disk flush.
    storage().put_many(files)
    db.session.add(document)
    db.session.flush()
    card = _kia_record(report, document, kia, *files[1]) if kia is not None else None
    kept = _kk_record(report, document, kk, *files[-1]) if kk is not None else None
    return document, card, kept


def _signed(
    pdfs: list[PdfToSign],
    signer: User,
    authorisation: Authorisation,
    region: Region,
    *,
    signed_at: datetime,
) -> list[bytes]:
    """The PDFs of one report signed with the pejabat's own key through the signing
    service: one call signs all their hashes, their timestamps are asked together."""
    from akta_service.akta.signing import sign_pdfs
    from akta_service.signing.client import SigningServiceError
    from akta_service.signing.gateway import signing_service
    from akta_service.signing.gateway import trust_root as signing_trust_root

    service = signing_service()
    try:
        remote_signer = service.signer(signer.nik or "", authorisation)
    except SigningServiceError as error:
        raise _refusal(error) from None
    try:
        signed = sign_pdfs(
            pdfs,
            remote_signer,
            timestamper=service.timestamper(),
            trust_root_pem=signing_trust_root(),
            location=region.issue_place,
            signer_name=signer.full_name,
            signed_at=signed_at.astimezone(local_timezone()),  # the stamp shows office time (WIB)
            # The chain's and the TSA's OCSP answers, fetched once for the akta (and KIA
            # cards) of a batch.
            reuse=service.reuse(),
        )
    except Exception:
        service.forget_reuse()  # a failed fetch is not kept for the next signature
        raise
    # The certificate, not the account, says who signed: the two must agree.
    certificate_nip = remote_signer.credential.certificate.subject.native.get("serial_number")
    if certificate_nip != signer.nip:
        raise SigningRefused("signing_identity_unknown")
    return signed


def _kia_content(
    report: BirthReport,
    region: Region,
    akta: AktaContent,
    issued_at: datetime,
    head_name: str | None = None,
) -> KiaContent | None:
    """What the Kartu Identitas Anak issued with this akta content says; None for a child
    five or older. Its QR code seals the akta version's facts (`akta.seal`).

    :param head_name: the head of family on Dukcapil's KK; by default the one the report's
        KK print keeps (a corrected akta's card).
    """
    from akta_service.akta.kia import KiaContent, fifth_birthday, under_five

    issued_on = issued_at.astimezone(local_timezone()).date()
    if report.child_nik is None or not under_five(report.child_birth_date, issued_on):
        return None
    return KiaContent(
        child_nik=report.child_nik,
        child_name=report.child_name,
        child_sex=str(report.child_sex),
        birth_place=birth_place_name(region),
        birth_date=report.child_birth_date,
        kk_number=report.kk_number,
        head_of_family=head_name or _head_of_family(report),
        registration_number=akta.registration_number,
        region_name=region.name,
        issue_place=region.issue_place,
        issue_date=issued_on,
        valid_until=fifth_birthday(report.child_birth_date),
        officer_name=akta.officer_name,
        qr_text=akta.seal or "",
    )


def _kia_to_sign(content: KiaContent) -> PdfToSign:
    from akta_service.akta.kia import render_kia_pdf
    from akta_service.akta.signing import PdfToSign

    return PdfToSign(render_kia_pdf(content), f"Kartu Identitas Anak {content.child_nik}")


def _columns(key: str, signed: bytes) -> dict[str, Any]:
    """The columns every issued document's record keeps of its stored PDF."""
    return {
        "storage_key": key,
        "sha256": hashlib.sha256(signed).hexdigest(),
        "size_bytes": len(signed),
    }


def _kia_key(region: Region, akta: AktaDocument, content: KiaContent) -> str:
    stem = f"{content.child_nik}-v{akta.version}-{akta.verification_token[:8]}"
    return f"kia/{region.code}/{akta.issued_at:%Y/%m}/{stem}.pdf"


def _kia_record(
    report: BirthReport, akta: AktaDocument, content: KiaContent, key: str, signed: bytes
) -> KiaCard:
    """The card's record, its PDF stored under `key` already."""
    card = KiaCard(
        report_id=report.id,
        akta_document_id=akta.id,
        child_nik=content.child_nik,
        valid_until=content.valid_until,
        issued_at=akta.issued_at,
        **_columns(key, signed),
    )
    db.session.add(card)
    db.session.flush()
    return card


def issue_kia(
    report: BirthReport, akta: AktaDocument, signer: User, authorisation: Authorisation
) -> KiaCard | None:
    """The Kartu Identitas Anak of a child under five for an akta version issued already
    (a correction's), signed like it; its QR code seals that version's facts as the akta's
    does (the same facts and printed text's digest, sealed when the card is made). None for
    a child five or older."""
    region = db.session.get(Region, report.region_code)
    assert region is not None  # noqa: S101 - a foreign key guarantees it
    content = _kia_content(report, region, sealed_issued_content(report, akta), akta.issued_at)
    if content is None:
        return None
    (signed,) = _signed(
        [_kia_to_sign(content)], signer, authorisation, region, signed_at=akta.issued_at
    )
    key = _kia_key(region, akta, content)
    storage().put(key, signed)
    return _kia_record(report, akta, content, key, signed)


def _head_of_family(report: BirthReport) -> str:
    """The head of family Dukcapil's KK named when the report was issued; for an akta issued
    before the 3-in-1 answered with the KK, as the report tells it."""
    from akta_service.akta.kia import head_of_family

    kept = current_kk_print(report)
    return kept.head_name if kept is not None else head_of_family(report)


def _kk_content(
    region: Region, akta: AktaContent, registered: BirthRegistered, issued_at: datetime
) -> KkContent:
    """The office's print of the updated KK Dukcapil answered the 3-in-1 with; its QR code
    seals the akta's facts (as the KIA's does)."""
    from akta_service.akta.kk import KkContent

    return KkContent(
        card=registered.family_card,
        new_child_nik=registered.child_nik,
        registration_number=akta.registration_number,
        office_name=region.office_name,
        issue_place=region.issue_place,
        issue_date=issued_at.astimezone(local_timezone()).date(),
        officer_name=akta.officer_name,
        qr_text=akta.seal or "",
    )


def _kk_key(region: Region, akta: AktaDocument, content: KkContent) -> str:
    stem = f"{content.card.kk_number}-{akta.registration_number}-{akta.verification_token[:8]}"
    return f"kk/{region.code}/{akta.issued_at:%Y/%m}/{stem}.pdf"


def _kk_record(
    report: BirthReport, akta: AktaDocument, content: KkContent, key: str, signed: bytes
) -> KkPrint:
    """The KK print's record, its PDF stored under `key` already."""
    card = content.card
    kept = KkPrint(
        report_id=report.id,
        akta_document_id=akta.id,
        kk_number=card.kk_number,
        head_name=card.head_name,
        head_nik=card.head_nik,
        issued_at=akta.issued_at,
        **_columns(key, signed),
    )
    db.session.add(kept)
    db.session.flush()
    return kept


def current_issue_failure(report: BirthReport) -> IssueFailure | None:
    """Why the report's issue step last failed, while it is not issued."""
    return db.session.get(IssueFailure, report.id)


def current_kk_print(report: BirthReport) -> KkPrint | None:
    """The print of the updated KK issued with the report's first akta, if there is one."""
    return db.session.scalar(sa.select(KkPrint).where(KkPrint.report_id == report.id))


def current_kia(report: BirthReport) -> KiaCard | None:
    """The card issued with the akta version in force, if the child got one."""
    akta = current_akta(report)
    if akta is None:
        return None
    return db.session.scalar(sa.select(KiaCard).where(KiaCard.akta_document_id == akta.id))


def load_issue_step() -> None:
    """Import what the issue step renders and signs with, and load the akta's fonts (a web
    worker never needs them; a job worker loads them before it forks, see `akta worker`)."""
    from akta_service.akta import document, fonts, kia, kk, seal, signing
    from akta_service.signing import client, gateway

    fonts.register()
    del document, kia, kk, seal, signing, client, gateway  # imported for what they load


@job(ISSUE_JOB)
def issue_akta(report_id: int, registry: Dukcapil | None = None) -> str:
    """3-in-1 with Dukcapil, then the signed akta, then `issued`; safe to run again."""
    report = lock_for_job(report_id)
    if report is None:
        return "busy"
    correction = approved_correction(report) if report.status == ReportStatus.ISSUED else None
    if report.status != ReportStatus.REGISTERED and correction is None:
        return "not_waiting"
    try:
        return _issue_correction(report, correction) if correction else _issue(report, registry)
    except DukcapilUnavailable:
        # The report keeps its place and its number; the sweep, or the pejabat signing it
        # again, runs this step again (the 3-in-1 returns the same NIK for the same number).
        log.warning("report %s: Dukcapil unavailable for the 3-in-1; not issued", report.id)
        _note_failure(report.id, "issue_dukcapil_unavailable")
        return "dukcapil_unavailable"
    except DukcapilRefused as refused:
        # Asking again the same way will not help: the office looks at the KK with Dukcapil.
        log.warning("report %s: Dukcapil refused the 3-in-1 (%s)", report.id, refused.code)
        _note_failure(report.id, "issue_dukcapil_refused")
        return "dukcapil_refused"
    except SigningRefused as refused:
        log.warning("report %s: the signing service refused (%s)", report.id, refused.code)
        _note_failure(report.id, refused.code)
        return "signing_refused"
    except SealKeyError as error:
        # The office's seal token is missing or its PIN wrong (/readyz says so): the report
        # keeps its number and its authorisation; the sweep issues it once that is fixed.
        log.error("report %s: the seal keys are unusable (%s); not issued", report.id, error.state)
        _note_failure(report.id, "seal_keys_unavailable")
        return "seal_keys_unavailable"


def _note_failure(report_id: int, code: str) -> None:
    """The issue step failed: the report's latest batch item (the batch's status page) and
    its IssueFailure (the parent's status page) say why."""
    failure = db.session.get(IssueFailure, report_id)
    if failure is None:
        db.session.add(IssueFailure(report_id=report_id, code=code))
    else:
        failure.code, failure.failed_at = code, utcnow()
    item = db.session.scalar(
        sa.select(SigningBatchItem)
        .where(SigningBatchItem.report_id == report_id)
        .order_by(SigningBatchItem.created_at.desc())
        .limit(1)
    )
    if item is not None:
        item.failure = code
        db.session.flush()


def _issue(report: BirthReport, registry: Dukcapil | None) -> str:
    # Idempotent per registration number: a retry gets the same NIK back, and the KK as it is.
    registered = (registry or dukcapil()).register_birth(
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
    report.child_nik = registered.child_nik
    waiting = _waiting_authorisation(report)
    if waiting is None:
        log.warning(
            "report %s: no usable signing authorisation; the pejabat signs again", report.id
        )
        _note_failure(report.id, "signing_authorisation_missing")
        return "authorisation_missing"
    kept, signer, authorisation = waiting
    document, card, kk = _produce(
        report, 1, signer, authorisation, with_kia=True, registered=registered
    )
    db.session.delete(kept)
    failure = db.session.get(IssueFailure, report.id)
    if failure is not None:
        db.session.delete(failure)
    fire(
        report,
        "issue",
        SYSTEM,
        data={
            "version": 1,
            "sha256": document.sha256,
            "child_nik_assigned": True,
            "kia_sha256": card.sha256 if card else None,
            "kk_sha256": kk.sha256 if kk else None,
        },
    )
    return "issued"


def approved_correction(report: BirthReport) -> AktaCorrectionRequest | None:
    """The report's correction request an operator approved, waiting for its signature."""
    return db.session.scalar(
        sa.select(AktaCorrectionRequest).where(
            AktaCorrectionRequest.report_id == report.id,
            AktaCorrectionRequest.status == CorrectionStatus.APPROVED,
        )
    )


def _issue_correction(report: BirthReport, request: AktaCorrectionRequest) -> str:
    """The pejabat signed an approved correction in a batch: its new version, now."""
    waiting = _waiting_authorisation(report)
    if waiting is None:
        _note_failure(report.id, "signing_authorisation_missing")
        return "authorisation_missing"
    kept, signer, authorisation = waiting
    document = issue_corrected_version(
        report,
        request.changes,
        request.reason,
        request.supporting_document_id,
        signer,
        authorisation,
        signer.as_actor(),
        request_id=request.id,
    )
    issue_kia(report, document, signer, authorisation)
    request.status = CorrectionStatus.ISSUED
    request.akta_document_id = document.id
    db.session.delete(kept)
    db.session.flush()
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


def correction_errors(
    report: BirthReport, changes: dict[str, Any], reason: str
) -> list[FieldError]:
    """What is wrong with a correction of these fields for this reason (empty: nothing)."""
    errors = [
        FieldError(name, "not_correctable") for name in changes if name not in CORRECTABLE_FIELDS
    ]
    if not changes:
        errors.append(FieldError("changes", "akta_nothing_changed"))
    if not (reason or "").strip():
        errors.append(FieldError("reason", "reason_missing"))
    return errors


def check_correction(
    report: BirthReport,
    changes: dict[str, Any],
    reason: str,
    supporting_document_id: int | None,
    actor: Actor,
) -> None:
    """Whether `actor` may make this correction: raises GuardRefused or InvalidInput (every
    field's problem at once), before anything is signed."""
    refusal = correction_refusal(report, actor)
    if refusal:
        raise GuardRefused(refusal)
    errors = correction_errors(report, changes, reason)
    if supporting_document_id is not None:
        supporting = db.session.get(Document, supporting_document_id)
        if supporting is None or supporting.report_id != report.id:
            errors.append(FieldError("supporting_document_id", "unknown_document"))
    if errors:
        raise InvalidInput("correction_invalid", errors=errors)


def correct_akta(
    report: BirthReport,
    changes: dict[str, Any],
    reason: str,
    supporting_document_id: int | None,
    signer: User,
    authorisation: Authorisation,
) -> AktaDocument:
    """A pejabat corrects an issued akta: a new version with the same registration number,
    signed at once with their own key (`authorisation`, which their TOTP code and passphrase
    bought: authorise_signing); the old version is marked superseded. Both are in the
    journal."""
    actor = signer.as_actor()
    check_correction(report, changes, reason, supporting_document_id, actor)
    return issue_corrected_version(
        report, changes, reason.strip(), supporting_document_id, signer, authorisation, actor
    )


def issue_corrected_version(
    report: BirthReport,
    changes: dict[str, Any],
    reason: str,
    supporting_document_id: int | None,
    signer: User,
    authorisation: Authorisation,
    actor: Actor,
    request_id: int | None = None,
) -> AktaDocument:
    """The corrected version signed and in force, the one before it superseded, and the
    journal's entry with the values before and after.

    :param request_id: the parent's or facility's request it answers, if any.
    """
    previous = current_akta(report)
    if previous is None:
        raise NotFound("akta_in_force_missing")
    before = {name: getattr(report, name) for name in changes}
    for name, value in changes.items():
        setattr(report, name, value)
    previous.superseded_at = utcnow()
    db.session.flush()
    document, _card, _kk = _produce(
        report,
        previous.version + 1,
        signer,
        authorisation,
        correction_reason=reason,
        correction_changes={"before": before, "after": changes},
        correction_document_id=supporting_document_id,
    )
    record(
        "akta:birth_report:correct",
        actor,
        report=report,
        reason=reason,
        data={
            "superseded_version": previous.version,
            "new_version": document.version,
            "changes": {"before": before, "after": changes},
            "supporting_document_id": supporting_document_id,
            "sha256": document.sha256,
            "request_id": request_id,
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
    from akta_service.signing.gateway import trust_root as signing_trust_root

    return signing_trust_root(settings)
