"""Words, not codes: no internal name reaches the text a clerk reads on an office page."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.akta.models import CorrectionStatus
from akta_service.births.models import (
    BirthReport,
    BirthType,
    Channel,
    CheckOutcome,
    ReportStatus,
    Sex,
    VerificationCheck,
    WordingModel,
)
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import record
from akta_service.core.db import db, utcnow
from akta_service.core.errors import DomainError
from akta_service.core.labels import LABELS, journal_label, label
from akta_service.review.queries import TAB_LABELS
from akta_service.workflow.definition import birth_registration
from akta_service.workflow.engine import fire
from tests.factories import BirthReportFactory
from tests.web import STAFF_PASSWORD, sign_in

#: Every check a verification stores (verification.operations.run_checks).
CHECK_NAMES = (
    "mother_nik_structure",
    "mother_registry",
    "father_nik_structure",
    "father_registry",
    "kk",
    "marriage",
    "timeliness",
    "plausibility",
    "duplicate",
)
#: Journal actions that are not workflow moves, as the code writes them.
OTHER_ACTIONS = (
    "review:birth_report:claim",
    "review:birth_report:release",
    "review:birth_report:not_duplicate",
    "births:document:attach",
    "akta:birth_report:correct",
    "akta:birth_report:request_correction",
    "akta:birth_report:approve_correction",
    "akta:birth_report:refuse_correction",
    "akta:birth_report:sign_correction",
    "akta:birth_report:print",
    "verification:birth_report:dukcapil_unavailable",
    "workflow:birth_report:submit",
)


def _internal_names() -> set[str]:
    """Every internal name a page could let through. The roles "operator", "pejabat" and
    "admin" and the channel "web" are words of the office's own Indonesian, so not here."""
    workflow = birth_registration()
    names = {
        *(str(s) for s in ReportStatus),
        *workflow.flags,
        *workflow.triggers,
        *CHECK_NAMES,
        *(str(o) for o in CheckOutcome),
        *(str(m) for m in WordingModel),
        *(str(c) for c in CorrectionStatus),
        *(str(t) for t in BirthType),
        *(str(s) for s in Sex),
        *(str(c) for c in Channel if c != Channel.WEB),
        *(str(r) for r in Role if r not in {Role.OPERATOR, Role.PEJABAT, Role.ADMIN}),
        *(action.rsplit(":", 1)[-1] for action in OTHER_ACTIONS),
        *OTHER_ACTIONS,
    }
    return names


class _VisibleText(HTMLParser):
    """The text a person sees or hears: text nodes and the alt, title and aria-label
    attributes; not what is inside <script>, <style> or <title>-less markup."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._hidden += 1
        for name, value in attrs:
            if name in {"alt", "title", "aria-label"} and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def raw_names_in(html: str) -> list[str]:
    text = visible_text(html)
    return sorted(
        name
        for name in _internal_names()
        # Case matters: internal names are lower case ("KK" is Indonesian, "kk" is not).
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)
    )


def test_every_internal_name_has_an_indonesian_label() -> None:
    workflow = birth_registration()
    kinds = {
        "status": {str(s) for s in ReportStatus} | set(workflow.states),
        "flag": set(workflow.flags),
        "trigger": set(workflow.triggers),
        "check": set(CHECK_NAMES),
        "outcome": {str(o) for o in CheckOutcome},
        "channel": {str(c) for c in Channel},
        "role": {str(r) for r in Role},
        "sex": {str(s) for s in Sex},
        "birth_type": {str(t) for t in BirthType},
        "wording_model": {str(m) for m in WordingModel},
        "correction_status": {str(c) for c in CorrectionStatus},
    }
    for kind, names in kinds.items():
        assert names <= set(LABELS[kind]), (kind, names - set(LABELS[kind]))
    for action in OTHER_ACTIONS:
        assert journal_label(action) != label("?", "action"), action
    assert label("something_new", "status") == "lainnya"  # never the name itself
    assert label(None, "status") == "—"


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    people = {
        role: create_user(
            role, f"Petugas {role.title()}", role, STAFF_PASSWORD, ["3274"], Actor.system("t")
        )
        for role in ("operator", "pejabat", "admin", "viewer")
    }
    db.session.commit()
    return people


def _rich_reports(staff: dict[str, User]) -> list[BirthReport]:
    """A report in every status, every flag set on the open ones, every check in every
    outcome, every wording and birth type and channel, and a journal of every trigger."""
    workflow = birth_registration()
    reports = []
    channels = list(Channel)
    types = list(BirthType)
    wordings = list(WordingModel)
    for index, status in enumerate(ReportStatus):
        report = BirthReportFactory(
            status=status,
            channel=channels[index % len(channels)],
            child_birth_type=types[index % len(types)],
            child_sex=list(Sex)[index % 2],
            wording_model=wordings[index % len(wordings)],
            is_late=True,
            potential_duplicate=True,
            dukcapil_unavailable=True,
            submitted_at=utcnow() - timedelta(hours=5 + index),
            assigned_to_id=staff["operator"].id if index % 2 else None,
        )
        outcomes = list(CheckOutcome)
        for position, name in enumerate(CHECK_NAMES):
            db.session.add(
                VerificationCheck(
                    report_id=report.id,
                    report_version=report.version,
                    name=name,
                    outcome=outcomes[(position + index) % len(outcomes)],
                    message="Pesan pemeriksaan.",
                )
            )
        actors = [
            Actor.system("verifikasi"),
            staff["operator"].as_actor(),
            staff["pejabat"].as_actor(),
            Actor.informant(report.tracking_code, "Pelapor"),
        ]
        for position, trigger in enumerate(workflow.triggers.values()):
            record(
                f"workflow:birth_report:{trigger.name}",
                actors[position % len(actors)],
                report=report,
                trigger=trigger.name,
                from_state=trigger.sources[0],
                to_state=trigger.dest,
                reason="Alasan tertulis.",
            )
        for position, action in enumerate(OTHER_ACTIONS):
            record(action, actors[position % len(actors)], report=report)
        reports.append(report)
    db.session.commit()
    return reports


def test_no_office_page_shows_an_internal_name(client: FlaskClient, staff: dict[str, User]) -> None:
    reports = _rich_reports(staff)
    pages: dict[str, str] = {}
    for role in ("operator", "pejabat", "admin"):
        assert sign_in(client, role) == 302
        for url in (
            ["/kantor/", "/kantor/dasbor", "/kantor/antrian?q=Aisyah"]
            + [
                f"/kantor/antrian?tab={tab}&urut={sort}"
                for tab in TAB_LABELS
                for sort in ("longest", "shortest")
            ]
            + [f"/kantor/laporan/{r.tracking_code}" for r in reports]
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            pages[f"{role} {url}"] = response.get_data(as_text=True)
        client.post("/kantor/keluar", data={"csrf_token": _token(pages[f"{role} /kantor/"])})
    assert sign_in(client, "viewer") == 302
    pages["viewer dashboard"] = client.get("/kantor/dasbor").get_data(as_text=True)

    leaks = {where: raw_names_in(html) for where, html in pages.items()}
    assert not {where: names for where, names in leaks.items() if names}
    # The rich data did reach the pages, in words.
    every = " ".join(visible_text(html) for html in pages.values())
    for words in (
        "Susunan NIK ibu",
        "Kewajaran data",
        "tidak sesuai",
        "perlu diperhatikan",
        "Dikembalikan ke operator",
        "Mulai ditangani",
        "Pemeriksaan Dukcapil dimulai",
        "Kemungkinan ganda",
        "Terlambat",
        "Fasilitas (API)",
        "kembar dua",
        "anak seorang ibu",
        "Petugas Operator (operator)",
        "Pelapor (pelapor)",
    ):
        assert words in every, words


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_every_workflow_refusal_names_states_actions_and_roles_in_words(
    session: Any, actors: dict[str, Actor]
) -> None:
    """Each trigger tried in each state by each role: the refusal a clerk reads carries
    labels, never the internal names its parameters hold for the API."""
    workflow = birth_registration()
    seen = set()
    for status in ReportStatus:
        report = BirthReportFactory(status=status)
        for trigger in workflow.triggers:
            for actor in actors.values():
                if status in workflow.triggers[trigger].sources and actor.role in (
                    workflow.triggers[trigger].roles
                ):
                    continue  # allowed: the guards speak for themselves
                with pytest.raises(DomainError) as refused:
                    fire(report, trigger, actor, reason="Alasan.")
                seen.add(refused.value.reason)
                text = refused.value.message
                assert raw_names_in(text) == [], (status, trigger, actor.role, text)
                assert refused.value.to_problem()["detail"] == text
    assert {"trigger_not_in_status", "no_trigger_in_status", "role_may_not"} <= seen


def test_a_refused_action_on_the_report_page_is_said_in_words(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status=ReportStatus.AWAITING_SIGNATURE)
    db.session.commit()
    assert sign_in(client, "operator") == 302
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    refused = client.post(
        f"/kantor/laporan/{report.tracking_code}/approve", data={"csrf_token": _token(page)}
    )
    html = refused.get_data(as_text=True)
    text = " ".join(visible_text(html).split())
    assert (
        "Tindakan 'setujui' tidak berlaku untuk laporan berstatus 'Menunggu tanda tangan'" in text
    )
    assert "tanda tangani, tolak" in text
    assert raw_names_in(html) == []
