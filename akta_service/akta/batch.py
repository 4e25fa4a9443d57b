"""Batch signing: a pejabat signs up to 50 reports with one passphrase and one TOTP code.

The order is what keeps a batch safe (README, "Batch signing"):

1. **TOTP, then passphrase** (one `credentials/authorize` for the whole batch, CSC-style
   ``numSignatures``): a wrong code or passphrase refuses before any report moves.
2. **Number**: each report goes through the workflow's `sign` (its own journal entry), which
   takes its registration number in the same transaction; the number belongs to the report
   from then on, whatever happens after.
3. **Dukcapil 3-in-1, render, sign, store** run in each report's issue job. The 3-in-1 is
   idempotent per registration number, and a failure there (or at the signing service)
   leaves the report `registered` with its number, noted on its batch item with the reason.
4. **Sign again**: a `registered` report is re-authorised and its issue step queued again;
   it never goes through `sign` twice, so no second number is taken.
"""

from __future__ import annotations

import dataclasses
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from akta_service.accounts.models import User
from akta_service.akta.models import (
    AktaCorrectionRequest,
    CorrectionStatus,
    SigningBatchItem,
)
from akta_service.akta.operations import (
    ISSUE_JOB,
    akta_content,
    approved_correction,
    authorise_signing,
    corrected_content,
    current_akta,
    keep_authorisation,
    seal_authorisation,
)
from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.db import db, utcnow
from akta_service.core.errors import DomainError, GuardRefused, InvalidInput
from akta_service.core.jobs import enqueue
from akta_service.regions.models import Region
from akta_service.workflow.engine import fire

#: Reports one passphrase signs at most.
MAX_BATCH = 50

#: What the preview prints where the akta's own values are filled at signing.
PENDING_NUMBER = "(diisi saat tanda tangan)"


class BatchState:
    """The state the status page shows for one report of a batch."""

    WAITING = "menunggu"
    SIGNED = "ditandatangani"
    ISSUED = "terbit"
    FAILED = "gagal"


@dataclass(frozen=True)
class BatchLine:
    """One report of a batch on the status page."""

    report: BirthReport
    state: str
    failure: str | None


def signable(region_codes: Sequence[str]) -> list[BirthReport]:
    """Reports of these regions the pejabat may sign now: awaiting signature, signed ones
    whose issue step failed or lost its authorisation (signed again, same number), and
    issued ones whose correction an operator approved (a new version, same number)."""
    approved = sa.select(AktaCorrectionRequest.report_id).where(
        AktaCorrectionRequest.status == CorrectionStatus.APPROVED
    )
    return list(
        db.session.scalars(
            sa.select(BirthReport)
            .where(
                BirthReport.region_code.in_(region_codes),
                sa.or_(
                    BirthReport.status.in_(
                        [ReportStatus.AWAITING_SIGNATURE, ReportStatus.REGISTERED]
                    ),
                    sa.and_(
                        BirthReport.status == ReportStatus.ISSUED, BirthReport.id.in_(approved)
                    ),
                ),
                ~BirthReport.potential_duplicate,
            )
            .order_by(BirthReport.id)
            .limit(500)
        )
    )


def sign_batch(signer: User, reports: Sequence[BirthReport], passphrase: str, code: str) -> str:
    """Sign each report with one authorisation; answers the batch's id.

    A report a guard refuses (claimed by another clerk, approved by this signer) keeps its
    place with the reason; the others are signed. Raises before anything moves for too many
    reports, a wrong TOTP code (SecondFactorRefused) or passphrase (SigningRefused).
    """
    if not reports:
        raise InvalidInput("signing_batch_empty")
    if len(reports) > MAX_BATCH:
        raise InvalidInput("signing_batch_too_large", maximum=MAX_BATCH, chosen=len(reports))
    authorisation = authorise_signing(signer, passphrase, code, len(reports))
    sealed = seal_authorisation(authorisation)
    batch_id = secrets.token_urlsafe(16)
    actor = signer.as_actor()
    for position, report in enumerate(reports):
        item = SigningBatchItem(
            batch_id=batch_id, report_id=report.id, signer_id=signer.id, position=position
        )
        db.session.add(item)
        try:
            with db.session.begin_nested():  # one refused report does not stop the others
                if report.region_code not in actor.region_codes:
                    raise GuardRefused("outside_your_region", region=report.region_code)
                keep_authorisation(report, signer, authorisation, sealed)
                if report.status == ReportStatus.ISSUED:
                    _sign_correction(report, actor, batch_id)
                elif report.status == ReportStatus.REGISTERED:
                    _sign_again(report, actor, batch_id)
                else:
                    fire(report, "sign", actor, data={"batch": batch_id})
        except DomainError as refused:
            item.failure = _KNOWN.get(refused.reason, "signing_batch_refused")
    db.session.flush()
    return batch_id


#: Refusals of one report the status page names (as codes whose text needs no details);
#: any other says "cannot be signed now" in general.
_KNOWN = {
    "claimed_by": "claimed_by_another",
    "claimed_by_another": "claimed_by_another",
    "signer_is_approver": "signer_is_approver",
    "duplicate_undecided": "duplicate_undecided",
}


def _sign_again(report: BirthReport, actor: Actor, batch_id: str) -> None:
    """A signed report whose issue step failed: a new authorisation, the same number."""
    record(
        "akta:birth_report:sign_again",
        actor,
        report=report,
        data={"batch": batch_id, "registration_number": report.registration_number},
    )
    enqueue(ISSUE_JOB, report.id)


def _sign_correction(report: BirthReport, actor: Actor, batch_id: str) -> None:
    """An approved correction: its new version is made by the issue step, same number."""
    correction = approved_correction(report)
    if correction is None:  # refused or signed by someone else since the page was shown
        raise GuardRefused("signing_batch_refused")
    record(
        "akta:birth_report:sign_correction",
        actor,
        report=report,
        data={"batch": batch_id, "request_id": correction.id, "changes": correction.changes},
    )
    enqueue(ISSUE_JOB, report.id)


def batch_lines(batch_id: str, signer: User) -> list[BatchLine]:
    """The batch's reports in their places, each with its state; [] for no batch of theirs."""
    items = db.session.scalars(
        sa.select(SigningBatchItem)
        .where(SigningBatchItem.batch_id == batch_id, SigningBatchItem.signer_id == signer.id)
        .order_by(SigningBatchItem.position)
    ).all()
    lines = []
    for item in items:
        report = db.session.get(BirthReport, item.report_id)
        assert report is not None  # noqa: S101 - a foreign key guarantees it
        if report.status == ReportStatus.ISSUED and approved_correction(report) is None:
            state, failure = BatchState.ISSUED, None
        elif item.failure:
            state, failure = BatchState.FAILED, item.failure
        elif report.status in (ReportStatus.REGISTERED, ReportStatus.ISSUED):
            state, failure = BatchState.SIGNED, None
        else:
            state, failure = BatchState.WAITING, None
        lines.append(BatchLine(report, state, failure))
    return lines


def preview_pdf(report: BirthReport, signer: User) -> bytes:
    """The akta as it will be issued, rendered by the same renderer: the number, NIK and
    date as they are now, or marked where signing and the 3-in-1 fill them."""
    region = db.session.get(Region, report.region_code)
    assert region is not None  # noqa: S101 - a foreign key guarantees it
    correction = approved_correction(report)
    in_force = current_akta(report) if correction else None
    version = in_force.version + 1 if in_force else 1
    content = akta_content(report, region, "pratinjau", version, utcnow(), signer)
    if correction is not None:
        content = corrected_content(content, correction.changes)
    if not report.registration_number:
        content = dataclasses.replace(content, registration_number=PENDING_NUMBER)
    from akta_service.akta.document import render_akta_pdf  # ReportLab, on the first preview

    return render_akta_pdf(content)


#: Pixels per PDF point of the preview image (A4 at about 110 dpi).
PREVIEW_SCALE = 1.5
_MARK = (200, 30, 30)


def preview_png(report: BirthReport, signer: User) -> bytes:
    """The preview's page as a PNG, with what signing fills marked in red."""
    import pypdfium2
    from PIL import ImageDraw

    from akta_service.akta.document import MARGIN, PAGE_HEIGHT, PAGE_WIDTH, SIGNATURE_BOX

    document = pypdfium2.PdfDocument(preview_pdf(report, signer))
    try:
        image = document[0].render(scale=PREVIEW_SCALE).to_pil().convert("RGB")
    finally:
        document.close()
    draw = ImageDraw.Draw(image)

    def box(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float, float, float]:
        s = PREVIEW_SCALE
        return (x1 * s, (PAGE_HEIGHT - y2) * s, x2 * s, (PAGE_HEIGHT - y1) * s)

    stamp = box(*SIGNATURE_BOX)
    draw.rectangle(stamp, outline=_MARK, width=2)
    draw.text((stamp[0] + 6, stamp[1] + 6), "Tanda tangan elektronik,", fill=_MARK)
    draw.text((stamp[0] + 6, stamp[1] + 20), "nama pejabat dan waktu:", fill=_MARK)
    draw.text((stamp[0] + 6, stamp[1] + 34), "diisi saat tanda tangan", fill=_MARK)
    if not report.child_nik:
        nik = box(PAGE_WIDTH - MARGIN - 170, 758, PAGE_WIDTH - MARGIN, 777)
        draw.rectangle(nik, outline=_MARK, width=2)
        draw.text((nik[0] + 6, nik[1] + 7), "NIK: diisi saat terbit (Dukcapil)", fill=_MARK)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
