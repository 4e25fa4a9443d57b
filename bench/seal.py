"""`python -m bench.seal`: the sealed QR on the issue path. Per akta: seal the printed
facts (COSE_Sign1, ES256), draw the QR (segno) and render the page (ReportLab), sign it as
PAdES B-LT through the
sandbox signing service (SoftHSM2 where installed: authorise, sign the hash, timestamp,
OCSP). Each akta's own figures; the first, which starts the service and loads the fonts,
is left out.

Target: seal + QR + render + sign <= 150 ms per akta at p95."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from datetime import UTC, date, datetime

from akta_service.akta.document import SIGNATURE_BOX, AktaContent, render_akta_pdf
from akta_service.akta.operations import authorise_signature
from akta_service.akta.seal import seal_text
from akta_service.akta.signing import sign_pdf
from akta_service.core.config import current_settings
from akta_service.signing.gateway import signing_service, trust_root
from bench.common import BENCH_SIGNER, bench_app, bench_signer, machine_line, percentiles

AKTA = 41
TARGET_P95_MS = 150.0


def akta_content(index: int) -> AktaContent:
    """The akta of the benches that render one: a long name, every field filled."""
    return AktaContent(
        registration_number=f"3274-LU-01122026-{index:04d}",
        child_nik=f"32740541121{index:05d}"[:16],
        child_name="Muhammad Rizky Pratama Adiwijaya",
        child_sex="male",
        birth_place="Cirebon",
        birth_date=date(2026, 11, 21),
        birth_order=2,
        wording_model="recorded_marriage",
        father_name="Bambang Sutrisno Hadiningrat",
        mother_name="Siti Nurhaliza Kartika Dewi",
        region_name="Kota Cirebon",
        issue_place="Cirebon",
        issue_date=date(2026, 12, 1),
        officer_title="Kepala Dinas Kependudukan dan Pencatatan Sipil Kota Cirebon",
        officer_name="Drs. Budi Santoso, M.Si.",
        officer_nip=BENCH_SIGNER[1],
        verification_url="https://akta.cirebonkota.go.id/verifikasi/" + "Ab3_x-" * 5 + "Ab",
    )


def main() -> None:
    print(machine_line())
    with bench_app("sqlite", {"AKTA_JOBS": "manual"}) as app, app.app_context():
        signer = bench_signer(app)
        service = signing_service()
        authorisation = authorise_signature(signer, BENCH_SIGNER[2], AKTA)
        remote = service.signer(BENCH_SIGNER[0], authorisation)
        issuer = current_settings().public_base_url
        seal_ms, render_ms, sign_ms, total_ms = [], [], [], []
        for index in range(AKTA):
            content = akta_content(index)
            started = time.perf_counter()
            sealed = replace(content, seal=seal_text(content, issuer))
            sealed_at = time.perf_counter()
            pdf = render_akta_pdf(sealed)
            rendered = time.perf_counter()
            sign_pdf(
                pdf,
                remote,
                timestamper=service.timestamper(),
                trust_root_pem=trust_root(),
                field_box=SIGNATURE_BOX,
                reason="bench",
                location="Cirebon",
                signer_name=content.officer_name,
                signed_at=datetime.now(UTC),
            )
            done = time.perf_counter()
            seal_ms.append((sealed_at - started) * 1000)
            render_ms.append((rendered - sealed_at) * 1000)
            sign_ms.append((done - rendered) * 1000)
            total_ms.append((done - started) * 1000)
        print(f"seal: seal (COSE_Sign1 ES256, zlib, base45): {percentiles(seal_ms[1:])}")
        print(f"seal: QR + render (segno, ReportLab): {percentiles(render_ms[1:])}")
        print(f"seal: sign (PAdES B-LT, signing service): {percentiles(sign_ms[1:])}")
        print(f"seal: seal + QR + render + sign: {percentiles(total_ms[1:])}")
        p95 = statistics.quantiles(sorted(total_ms[1:]), n=100, method="inclusive")[94]
        verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
        print(f"seal: target p95 <= {TARGET_P95_MS:.0f} ms per akta: {verdict} ({p95:.1f} ms)")


if __name__ == "__main__":
    main()
