"""Time to sign a one-page akta through the sandbox signing service (the passphrase's
authorisation, the hash signed in the officer's token, the timestamp, the OCSP answers:
PAdES B-LT), and to check the signature again offline."""

from __future__ import annotations

import io
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from reportlab.pdfgen import canvas

from akta_service.akta.signing import sign_pdf, validate_pdf
from akta_service.signing.gateway import signing_service, trust_root
from bench.common import BENCH_SIGNER, bench_app, bench_signer, percentiles

ITERATIONS = 50
STAMP_BOX = (330.0, 60.0, 560.0, 130.0)


def _one_page_akta() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(150, 760, "KUTIPAN AKTA KELAHIRAN")
    page.setFont("Helvetica", 12)
    page.drawString(72, 700, "Nama anak: SITI AMINAH")
    page.showPage()
    page.save()
    return buffer.getvalue()


def main() -> None:
    pdf = _one_page_akta()
    nik, _nip, passphrase = BENCH_SIGNER
    with bench_app("sqlite") as app, app.app_context():
        bench_signer(app)
        service, root = signing_service(), trust_root()
        signing_ms: list[float] = []
        checking_ms: list[float] = []
        for _ in range(ITERATIONS + 1):
            started = time.perf_counter()
            signed = sign_pdf(
                pdf,
                service.signer(nik, service.authorise(nik, passphrase)),
                timestamper=service.timestamper(),
                trust_root_pem=root,
                field_box=STAMP_BOX,
                reason="Pengesahan Kutipan Akta Kelahiran",
                location="Kota Cirebon",
                signer_name="Bench Pejabat",
                signed_at=datetime.now(ZoneInfo("Asia/Jakarta")),
            )
            signed_at = time.perf_counter()
            result = validate_pdf(signed, root)
            checking_ms.append((time.perf_counter() - signed_at) * 1000)
            signing_ms.append((signed_at - started) * 1000)
            assert result.valid, result.summary
    # The first signature opens connections and loads pyHanko's parts: left out.
    print(f"sign_pdf (B-LT, remote key, one page):  {percentiles(signing_ms[1:])}")
    print(f"validate_pdf (same document, offline):  {percentiles(checking_ms[1:])}")


if __name__ == "__main__":
    main()
