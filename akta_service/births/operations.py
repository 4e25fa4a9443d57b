"""Submitting a birth report and finding one."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from akta_service.births.codes import new_tracking_code, normalise_tracking_code
from akta_service.births.models import BirthReport, Channel
from akta_service.births.schemas import BirthReportInput
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import record
from akta_service.core.clock import local_today
from akta_service.core.config import current_settings
from akta_service.core.db import add_loaded_row, db, utcnow
from akta_service.core.errors import DomainError, InvalidInput, NotFound, TryAgain, field_errors
from akta_service.core.jobs import enqueue
from akta_service.core.lockout import Counter
from akta_service.verification.operations import VERIFY_JOB
from akta_service.workflow.engine import fire
from akta_service.workflow.signals import status_changed

#: Built once: a marshmallow schema copies its declared fields on every instantiation,
#: and loading keeps no state on the instance.
_REPORT_INPUT = BirthReportInput()


def load_report_input(payload: Any) -> dict[str, Any]:
    """Validate a submitted report; raise InvalidInput listing every bad field at once."""
    try:
        data: dict[str, Any] = _REPORT_INPUT.load(payload)
    except ValidationError as exc:
        errors = field_errors(
            exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        )
        raise InvalidInput("report_invalid", errors=errors) from exc
    return data


def region_for_kk(kk_number: str) -> str:
    """The served region a KK belongs to; else the default region, whose verification
    then refuses it with the name of the office that serves that KK."""
    served = current_settings().region_codes
    return kk_number[:4] if kk_number[:4] in served else served[0]


def report_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The report's columns from validated input (new reports and corrections alike)."""
    child, mother, father = data["child"], data["mother"], data["father"]
    marriage, informant = data["marriage"], data["informant"]
    first, second = data["witnesses"]
    on_time_days = current_settings().on_time_days
    return {
        "region_code": region_for_kk(data["kk_number"]),
        "child_name": child["name"].strip(),
        "child_sex": child["sex"],
        "child_birth_date": child["birth_date"],
        "child_birth_time": child["birth_time"],
        "child_birth_place": child["birth_place"].strip(),
        "child_birth_place_kind": child["birth_place_kind"],
        "child_birth_order": child["birth_order"],
        "child_birth_type": child["birth_type"],
        "child_weight_grams": child["weight_grams"],
        "child_length_cm": child["length_cm"],
        "child_attendant": child["attendant"],
        "mother_nik": mother["nik"],
        "mother_name": mother["name"].strip(),
        "mother_birth_date": mother["birth_date"],
        "father_nik": father["nik"] if father else None,
        "father_name": father["name"].strip() if father else None,
        "father_birth_date": father["birth_date"] if father else None,
        "kk_number": data["kk_number"],
        "marriage_recorded": marriage["recorded"],
        "marriage_certificate_number": marriage["certificate_number"],
        "marriage_date": marriage["date"],
        "informant_relation": informant["relation"],
        "informant_nik": informant["nik"],
        "informant_name": informant["name"].strip(),
        "informant_phone": informant["phone"],
        "informant_email": informant["email"],
        "witness1_nik": first["nik"],
        "witness1_name": first["name"].strip(),
        "witness2_nik": second["nik"],
        "witness2_name": second["name"].strip(),
        "birth_letter_number": data["birth_letter_number"],
        "is_late": local_today() - child["birth_date"] > timedelta(days=on_time_days),
    }


#: A new report is written by a Core INSERT, not by the unit of work, and put into the
#: session as the row it is: the flush of a new 58-column object (sorting the flush,
#: collecting its values, returning its defaults) cost more Python than the rest of the
#: submission's database work together.
_REPORTS = cast(sa.Table, BirthReport.__table__)
_INSERT_REPORT = sa.insert(_REPORTS)
#: The columns a new report's INSERT leaves NULL in its SQL (`FILLED_LATER`): they are
#: not among its parameters. A generated column (the names a search reads) is the
#: database's: it stays unloaded, and is read from the database if ever asked for.
_UNSET_COLUMNS = dict.fromkeys(column.key for column in _REPORTS.columns if column.computed is None)


def submit_birth_report(
    data: dict[str, Any],
    channel: Channel,
    actor: Actor,
    facility_code: str | None = None,
    tracking_code: str | None = None,
) -> BirthReport:
    """Record a new report in status `submitted` and journal it.

    :param data: output of :func:`load_report_input`.
    :param tracking_code: the code the birth already has (a facility's notification).
    """
    now = utcnow()
    values = {
        # Random, and unique by the database's index rather than by asking first: a query
        # per submission to rule out what happens about once in 10^8 submissions (30^10
        # codes, a million reports) cost more than the rare retry.
        "tracking_code": tracking_code or new_tracking_code(),
        "channel": channel,
        "facility_code": facility_code,
        "submitted_at": now,
        "next_verification_at": now,
        **report_fields(data),
    }
    session = db.session()
    session.flush()  # what is pending goes first, as the unit of work would send it
    try:
        result = session.connection().execute(_INSERT_REPORT, values)
    except IntegrityError as exc:
        if "tracking_code" not in str(exc.orig):
            raise
        raise TryAgain("report_not_stored") from exc
    # The row as written: what was given, the defaults the INSERT filled in, its id.
    # (One set of parameters, so one dict; a one-row INSERT always has its key.)
    row = {**_UNSET_COLUMNS, **cast(dict[str, Any], result.last_inserted_params())}
    row["id"] = cast(sa.Row[Any], result.inserted_primary_key)[0]
    report = add_loaded_row(session, BirthReport, row)
    enqueue(VERIFY_JOB, report.id)
    if actor.role == Role.INFORMANT:
        # A person on the web form is known by the code they were just given.
        actor = Actor.informant(report.tracking_code, report.informant_name)
    status_changed.send(
        report,
        from_state=None,
        to_state=str(report.status),
        trigger="submit",
        reason=None,
        actor=actor,
    )
    record(
        "workflow:birth_report:submit",
        actor,
        report=report,
        to_state=str(report.status),
        data={"channel": str(channel), "late": report.is_late},
        starts_chain=True,
    )
    return report


def resubmit_corrected(
    report: BirthReport, data: dict[str, Any], actor: Actor, expected_version: int | None = None
) -> BirthReport:
    """Replace the data of a report that needs correction and send it to verification again.

    :param data: output of :func:`load_report_input`; the whole report, corrected.
    """
    changed = {
        name: value for name, value in report_fields(data).items() if getattr(report, name) != value
    }
    for name, value in changed.items():
        setattr(report, name, value)
    fire(
        report,
        "resubmit",
        actor,
        data={"changed_fields": sorted(changed)},
        expected_version=expected_version,
    )
    return report


def find_report(code: str) -> BirthReport | None:
    """The report with this tracking code, however the person typed it; None if none has."""
    return db.session.scalar(
        sa.select(BirthReport).where(BirthReport.tracking_code == normalise_tracking_code(code))
    )


def get_report_by_tracking_code(code: str) -> BirthReport:
    """The report with this tracking code, however the person typed it."""
    report = find_report(code)
    if report is None:
        raise NotFound("tracking_code_unknown")
    return report


#: Wrong PINs in a row before the status page of a report is locked, and for how long.
MAX_PIN_FAILURES = 5
PIN_LOCKOUT = timedelta(minutes=15)
_pin_hasher = PasswordHasher()
#: Checked against when there is no report to check against: every refusal costs the same.
_NO_PIN_HASH = _pin_hasher.hash(secrets.token_hex(8))


class StatusRefused(DomainError):
    """Tracking code and PIN do not open a report; one answer for every reason."""

    status = 401
    code = "status_refused"


def _write_pin_state(report: BirthReport, **values: Any) -> None:
    """PIN bookkeeping is not a change of the report: no new version, no new updated_at, so a
    stranger's wrong guesses never make a clerk's next action a conflict."""
    db.session.execute(
        sa.update(BirthReport)
        .where(BirthReport.id == report.id)
        .values(**values, updated_at=BirthReport.updated_at, version=BirthReport.version)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        set_committed_value(report, name, value)


def issue_status_pin(report: BirthReport) -> str:
    """A new 6-digit PIN for the informant's status page; only its hash is kept. The count of
    wrong PINs and a lock stay as they are: asking for a new PIN never buys more guesses."""
    pin = f"{secrets.randbelow(1_000_000):06d}"
    _write_pin_state(report, pin_hash=_pin_hasher.hash(pin))
    return pin


def _pin_matches(pin_hash: str | None, pin: str) -> bool:
    try:
        return _pin_hasher.verify(pin_hash or _NO_PIN_HASH, pin) and pin_hash is not None
    except (VerificationError, InvalidHashError):
        return False


#: Wrong PINs are counted in the report's row, one UPDATE per guess (core.lockout); a guess
#: never makes a new version of the report.
PIN_GUESSES = Counter(
    BirthReport,
    BirthReport.pin_failures,
    BirthReport.pin_locked_until,
    limit=MAX_PIN_FAILURES,
    lockout=PIN_LOCKOUT,
    keep=(BirthReport.updated_at, BirthReport.version),
)


def open_with_pin(tracking_code: str, pin: str) -> BirthReport:
    """The report whose code and PIN these are. Unknown code, wrong PIN and a locked report all
    raise the same StatusRefused, so codes cannot be probed; MAX_PIN_FAILURES wrong PINs lock
    the report's status page for PIN_LOCKOUT, however many guesses arrive at once."""
    refused = StatusRefused("wrong_code_or_pin")
    report = find_report(tracking_code)
    now = utcnow()
    pin = "".join(ch for ch in pin if ch.isdigit())[:12]
    if report is None or report.pin_hash is None:
        _pin_matches(None, pin)
        raise refused
    guess = PIN_GUESSES.take_guess(report, now)
    if guess is None:  # locked: the PIN is not even checked
        _pin_matches(None, pin)
        raise refused
    if not _pin_matches(report.pin_hash, pin):
        informant = Actor.system("halaman status")
        record("public:birth_report:wrong_pin", informant, report=report, read=True)
        if guess >= MAX_PIN_FAILURES:
            until = now + PIN_LOCKOUT
            data = {"until": until.isoformat()}
            record(
                "public:birth_report:status_locked", informant, report=report, data=data, read=True
            )
        raise refused
    PIN_GUESSES.clear(report)
    return report
