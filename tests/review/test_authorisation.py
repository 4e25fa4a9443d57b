"""Every office endpoint × every role (and anonymous): the expected answer."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from akta_service.accounts.operations import create_user
from akta_service.births.documents import attach_document
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from tests.factories import BirthReportFactory
from tests.files import jpeg_bytes, pdf_bytes
from tests.web import STAFF_PASSWORD, csrf_token, sign_in

PASSWORD = STAFF_PASSWORD
ROLES = ["anonymous", "operator", "pejabat", "admin", "viewer"]

#: (method, path, {role: expected status}); {code} is a report in review of the role's region,
#: {facility} a facility there with the live credential {key_id}, {region} the region itself.
TABLE: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/kantor/", {"operator": 200, "pejabat": 200, "admin": 200, "viewer": 200}),
    # A viewer has the dashboard only: no queue, no report.
    ("GET", "/kantor/antrian", {"operator": 200, "pejabat": 200, "admin": 200, "viewer": 403}),
    (
        "GET",
        "/kantor/laporan/{code}",
        {"operator": 200, "pejabat": 200, "admin": 200, "viewer": 403},
    ),
    (
        "POST",
        "/kantor/laporan/{code}/klaim",
        {"operator": 302, "pejabat": 302, "admin": 403, "viewer": 403},
    ),
    (
        "POST",
        "/kantor/laporan/{code}/lepas",
        {"operator": 302, "pejabat": 302, "admin": 302, "viewer": 403},
    ),
    (
        "POST",
        "/kantor/laporan/{code}/approve",
        # A pejabat may not approve: the page comes back with the refusal, answered 403.
        {"operator": 302, "pejabat": 403, "admin": 403, "viewer": 403},
    ),
    (
        "POST",
        "/kantor/laporan/{code}/ganda",
        {"operator": 302, "pejabat": 403, "admin": 403, "viewer": 403},
    ),
    (
        "GET",
        "/kantor/laporan/{code}/dokumen/{document}",
        {"operator": 200, "pejabat": 200, "admin": 200, "viewer": 403},
    ),
    (
        "GET",
        "/kantor/laporan/{code}/dokumen/{pdf}/halaman/1",
        {"operator": 200, "pejabat": 200, "admin": 200, "viewer": 403},
    ),
    ("GET", "/kantor/dasbor", {"operator": 200, "pejabat": 200, "admin": 200, "viewer": 200}),
    (
        "GET",
        "/kantor/dasbor/ekspor.csv",
        {"operator": 200, "pejabat": 200, "admin": 200, "viewer": 200},
    ),
    (
        "GET",
        "/kantor/admin/pengguna",
        {"operator": 403, "pejabat": 403, "admin": 200, "viewer": 403},
    ),
    ("POST", "/kantor/keluar", {"operator": 302, "pejabat": 302, "admin": 302, "viewer": 302}),
    (
        "GET",
        "/kantor/admin/fasilitas",
        {"operator": 403, "pejabat": 403, "admin": 200, "viewer": 403},
    ),
    # The table's form carries no facility fields: the admin's answer is "invalid input".
    (
        "POST",
        "/kantor/admin/fasilitas",
        {"operator": 403, "pejabat": 403, "admin": 422, "viewer": 403},
    ),
    (
        "GET",
        "/kantor/admin/fasilitas/{facility}",
        {"operator": 403, "pejabat": 403, "admin": 200, "viewer": 403},
    ),
    (
        "POST",
        "/kantor/admin/fasilitas/{facility}/aktif",
        {"operator": 403, "pejabat": 403, "admin": 302, "viewer": 403},
    ),
    (
        "POST",
        "/kantor/admin/fasilitas/{facility}/kredensial",
        {"operator": 403, "pejabat": 403, "admin": 200, "viewer": 403},
    ),
    (
        "GET",
        "/kantor/admin/fasilitas/{facility}/kredensial/{key_id}/cabut",
        {"operator": 403, "pejabat": 403, "admin": 200, "viewer": 403},
    ),
    (
        "POST",
        "/kantor/admin/fasilitas/{facility}/kredensial/{key_id}/cabut",
        {"operator": 403, "pejabat": 403, "admin": 302, "viewer": 403},
    ),
    (
        "GET",
        "/kantor/admin/wilayah",
        {"operator": 403, "pejabat": 403, "admin": 200, "viewer": 403},
    ),
    (
        "GET",
        "/kantor/admin/wilayah/{region}",
        {"operator": 403, "pejabat": 403, "admin": 200, "viewer": 403},
    ),
    # Fields left out of the form keep their stored values: nothing changes.
    (
        "POST",
        "/kantor/admin/wilayah/{region}",
        {"operator": 403, "pejabat": 403, "admin": 302, "viewer": 403},
    ),
]


def _anonymous(method: str) -> int:
    # Pages send strangers to the login; a form post without a session has no valid CSRF
    # token and is refused before anything else is looked at.
    return 302 if method == "GET" else 400


def _cases() -> list[Any]:
    return [
        pytest.param(
            method, path, role, expected.get(role, _anonymous(method)), id=f"{method}-{path}-{role}"
        )
        for method, path, expected in TABLE
        for role in ROLES
    ]


@pytest.mark.parametrize(("method", "path", "role", "status"), _cases())
def test_authorisation_table(
    client: FlaskClient, session: Any, method: str, path: str, role: str, status: int
) -> None:
    report = BirthReportFactory(status="in_review")
    photo = attach_document(report, "kk", jpeg_bytes(), Actor.system("t"))
    letter = attach_document(report, "birth_letter", pdf_bytes(), Actor.system("t"))
    create_facility("RS-UJI", "RS Uji", "hospital", "3274", Actor.system("t"))
    key_id = issue_credential("RS-UJI", Actor.system("t")).credential.key_id
    if role != "anonymous":
        create_user("petugas", "Petugas Uji", role, PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()
    token = ""
    if role != "anonymous":
        assert sign_in(client, "petugas", PASSWORD) == 302
        # A sign-in rotates the CSRF token: the one of the signed-in pages.
        token = csrf_token(client.get("/kantor/").get_data(as_text=True))
    url = path.format(
        code=report.tracking_code,
        facility="RS-UJI",
        key_id=key_id,
        region="3274",
        document=photo.id,
        pdf=letter.id,
    )
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(
            url, data={"csrf_token": token, "version": "1", "decision": "not_duplicate"}
        )
    assert response.status_code == status
    if role == "anonymous" and method == "GET":
        assert "/kantor/masuk" in response.headers["Location"]
