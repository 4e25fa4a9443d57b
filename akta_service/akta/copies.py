"""Staff prints and downloads of an issued akta: each one counted and journalled; the first is
the signed original, every later one a copy marked "Salinan ke-N", as OpenCRVS marks reprints.

A marked copy is a new rendering of the same version by the same renderer, not the signed
PDF with an annotation added: PDF viewers and pyHanko judge any revision appended after an
approval signature that adds an annotation as a change to the signed document ("diubah
setelah ditandatangani"), so the stamp would make a genuine akta read as tampered. The signed
original stays as it was issued (its SHA-256 is the one the public page knows); a copy carries
the same sealed facts in its QR code, which is how paper is checked.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from akta_service.akta.models import AktaDocument
from akta_service.akta.operations import akta_pdf, sealed_issued_content
from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.db import db


def staff_copy(report: BirthReport, document: AktaDocument, actor: Actor) -> tuple[int, bytes]:
    """The version for a staff member to print or save, and which copy it is (1: the signed
    original itself). Two at the same moment get two numbers."""
    number = db.session.execute(
        sa.update(AktaDocument)
        .where(AktaDocument.id == document.id)
        .values(staff_copies=AktaDocument.staff_copies + 1)
        .returning(AktaDocument.staff_copies)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    record(
        "akta:birth_report:print",
        actor,
        report=report,
        data={"version": document.version, "copy": number, "sha256": document.sha256},
        read=True,
    )
    if number == 1:
        return number, akta_pdf(document)
    content = dataclasses.replace(sealed_issued_content(report, document), copy_number=number)
    from akta_service.akta.document import render_akta_pdf  # ReportLab, on the first copy

    return number, render_akta_pdf(content)
