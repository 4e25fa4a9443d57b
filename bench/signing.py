"""Time to sign a one-page akta with the demo PKI, and to check the signature again."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from reportlab.pdfgen import canvas

from akta_service.akta.signing import ensure_demo_pki, sign_pdf, validate_pdf
from bench.common import percentiles

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
    with tempfile.TemporaryDirectory(prefix="akta-bench-signing-") as folder:
        identity = ensure_demo_pki(Path(folder), "3274", "Kota Cirebon", "Drs. Budi Santoso")
        # The first signature decrypts the PKCS#12 file once per process; not measured.
        sign_pdf(pdf, identity, reason="Pengesahan", location="Kota Cirebon", signer_name="X")
        signing_ms: list[float] = []
        checking_ms: list[float] = []
        for _ in range(ITERATIONS):
            started = time.perf_counter()
            signed = sign_pdf(
                pdf,
                identity,
                field_box=STAMP_BOX,
                reason="Pengesahan Kutipan Akta Kelahiran",
                location="Kota Cirebon",
                signer_name="Drs. Budi Santoso",
            )
            signed_at = time.perf_counter()
            result = validate_pdf(signed, identity.trust_root_pem)
            checking_ms.append((time.perf_counter() - signed_at) * 1000)
            signing_ms.append((signed_at - started) * 1000)
            assert result.valid, result.summary
    print(f"sign_pdf (one page, visible stamp):  {percentiles(signing_ms)}")
    print(f"validate_pdf (same document):        {percentiles(checking_ms)}")


if __name__ == "__main__":
    main()
