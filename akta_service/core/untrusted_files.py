"""Uploaded files opened where they can do no harm, and the pictures clerks are shown of them.

Every uploaded image or PDF is opened in a child process with a memory limit (RLIMIT_AS) and
a time limit, never in the process that answers requests: a decompression bomb, a PDF that
sends PDFium into a loop or a crash in a decoder costs that child, not the service. The child
is this file run as a script by the same interpreter; it imports Pillow and PDFium only, gets
none of the service's environment, and so holds no secret and no database connection.

An image is decoded only up to a number of pixels its file size makes plausible
(`allowed_pixels`): a 172 KB PNG that claims 59 megapixels is refused before one pixel is
decoded. What comes out are pictures written again from pixels alone: an image upright and at
most MAX_PICTURE_SIDE, every page of a PDF as a PNG; no EXIF, GPS, comments, trailing bytes
or anything else that rode along in the upload. The caller keeps or drops the original.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

#: The longest side of a picture made from an image: a page stays readable, the file small.
MAX_PICTURE_SIDE = 2400
#: Any image may have this many pixels, however small its file (a flat screenshot, a scan).
ALWAYS_ALLOWED_PIXELS = 8_000_000
#: Beyond that, pixels per byte of the file: real photos and scans stay far below it
#: (a phone photo has about 4, a black-and-white scan saved as PNG under 60).
MAX_PIXELS_PER_BYTE = 100
#: No image is decoded beyond this, whatever its size (an A4 page scanned at 400 dpi): with 4
#: bytes a pixel and the copies made to scale it, under 200 MB.
MAX_DECODED_PIXELS = 16_000_000
JPEG_QUALITY = 85

#: A document of more pages is refused (a PDF bomb of thousands of empty pages, say).
MAX_PDF_PAGES = 20
#: A page longer than A0 (1189 mm) is refused: no civil-registry document is that size.
MAX_PDF_PAGE_SIDE_PT = 3371.0
#: 1.5 × 72 dpi: a scanned form stays legible on screen.
PAGE_SCALE = 1.5
#: The longest side of a page picture, whatever page size the file claims.
MAX_PAGE_SIDE_PX = 2200

logger = logging.getLogger(__name__)

#: What the child may allocate beyond what it holds once started (Python, Pillow, PDFium).
MEMORY_LIMIT_BYTES = 160 * 1024 * 1024
#: Seconds the child may take, wall clock (CPU time is limited to the same).
TIME_LIMIT_SECONDS = 30.0

#: The environment the child gets: nothing of the service's (keys, database URLs), only what
#: the interpreter and coverage measurement need.
_PASSED_ENVIRONMENT = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "TMPDIR")

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
#: Leading bytes of each accepted type: what the file is, whatever it is called.
SIGNATURES = (
    (b"%PDF-", PDF, "pdf"),
    (b"\xff\xd8\xff", JPEG, "jpg"),
    (b"\x89PNG\r\n\x1a\n", PNG, "png"),
)


def sniff_content_type(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the bytes, or None for anything else."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def allowed_pixels(file_size: int) -> int:
    """How many pixels an image file of `file_size` bytes may claim. A JPEG may claim up to
    MAX_PIXELS_PER_BYTE more than MAX_DECODED_PIXELS: it is decoded at a fraction of its size."""
    return max(ALWAYS_ALLOWED_PIXELS, MAX_PIXELS_PER_BYTE * file_size)


class FileRefused(ValueError):
    """The file cannot be taken; `code` names the message (core.messages), `params` fill it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Picture:
    """A picture made from the upload: an image, or one page of a PDF."""

    data: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class Inspection:
    """What the child made of a file that can be taken."""

    content_type: str
    #: A PDF's pages; 1 for an image.
    pages: int
    #: One picture per page, in order.
    pictures: tuple[Picture, ...]
    #: The child's peak resident memory, in KiB (what opening the file cost).
    peak_memory_kib: int = field(default=0, compare=False)


def inspect_file(
    data: bytes,
    *,
    memory_limit: int = MEMORY_LIMIT_BYTES,
    time_limit: float = TIME_LIMIT_SECONDS,
) -> Inspection:
    """Open the file in a limited child process and make its pictures; raises FileRefused."""
    sniffed = sniff_content_type(data)
    if sniffed is None:
        raise FileRefused("unsupported_type")
    environment = {
        name: value
        for name, value in os.environ.items()
        if name in _PASSED_ENVIRONMENT or name.startswith("COVERAGE_")
    }
    command = [sys.executable, "-P", os.path.abspath(__file__), str(memory_limit), str(time_limit)]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter running this file
            command,
            input=data,
            capture_output=True,
            timeout=time_limit,
            env=environment,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        logger.warning("an uploaded file was still being opened after %ss: refused", time_limit)
        raise FileRefused("file_too_complex") from exc
    header, _, blobs = done.stdout.partition(b"\n")
    if done.returncode != 0 or not header:
        # Killed at its limits (SIGXCPU, the kernel) or crashed inside a decoder.
        logger.warning("opening an uploaded file ended with exit status %s", done.returncode)
        raise FileRefused("file_too_complex")
    answer = json.loads(header)
    if "refused" in answer:
        raise FileRefused(answer["refused"], **answer.get("params", {}))
    pictures = []
    offset = 0
    for content_type, width, height, length in answer["pictures"]:
        pictures.append(Picture(blobs[offset : offset + length], content_type, width, height))
        offset += length
    return Inspection(sniffed[0], answer["pages"], tuple(pictures), answer["peak_kib"])


# The child ------------------------------------------------------------------------------------


def _limit_resources(memory_limit: int, time_limit: float) -> None:
    """Address space: what the child holds now plus `memory_limit`; CPU: `time_limit`."""
    import resource

    try:
        with open("/proc/self/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux: the CPU limit and the pixel limits hold
        held = None
    if held is not None:
        resource.setrlimit(resource.RLIMIT_AS, (held + memory_limit, held + memory_limit))
    seconds = math.ceil(time_limit)
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))


def _image_picture(data: bytes, content_type: str) -> Picture:
    from PIL import Image, PngImagePlugin, UnidentifiedImageError

    # Text chunks are inflated too: no megabytes of "comments" either.
    PngImagePlugin.MAX_TEXT_CHUNK = 256 * 1024
    PngImagePlugin.MAX_TEXT_MEMORY = 1024 * 1024
    # The limits below are exact and come before decoding, as Pillow's would.
    Image.MAX_IMAGE_PIXELS = None
    try:
        opened = Image.open(io.BytesIO(data), formats=["JPEG" if content_type == JPEG else "PNG"])
        width, height = opened.size
        if width * height > allowed_pixels(len(data)):
            raise FileRefused("image_too_large")
        # A JPEG is decoded at 1/2, 1/4 or 1/8 of its size when that is still large enough.
        scale = min(1.0, MAX_PICTURE_SIDE / max(width, height))
        opened.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        if opened.width * opened.height > _decoded_pixels_limit(opened):
            raise FileRefused("image_too_large")
        orientation = _orientation(opened)
        opened.thumbnail((MAX_PICTURE_SIDE, MAX_PICTURE_SIDE), Image.Resampling.LANCZOS)
        upright = opened.transpose(orientation) if orientation is not None else opened
        mode = "RGB" if content_type == JPEG else _png_mode(upright.mode)
        pixels = upright.convert(mode)
    except FileRefused:
        raise
    except MemoryError as exc:
        raise FileRefused("image_too_large") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise FileRefused("unreadable_file") from exc
    # A new image from the pixels alone: no EXIF, GPS, ICC, comments or XMP come along.
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if content_type == JPEG:
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        clean.save(out, "PNG", compress_level=6)
    return Picture(out.getvalue(), content_type, clean.width, clean.height)


def _decoded_pixels_limit(opened: Any) -> int:
    """Transparency doubles what scaling costs (Pillow premultiplies the alpha in a copy)."""
    transparent = "A" in opened.mode or "transparency" in opened.info
    return MAX_DECODED_PIXELS // 2 if transparent else MAX_DECODED_PIXELS


def _orientation(opened: Any) -> Any:
    """The transposition that turns the picture upright, from its EXIF (the EXIF goes)."""
    from PIL import Image

    try:
        value = opened.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block only loses the orientation
        return None
    return {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(value)


def _png_mode(mode: str) -> str:
    return mode if mode in ("L", "LA", "RGB", "RGBA") else "RGBA"


def _pdf_pictures(data: bytes) -> list[Picture]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise FileRefused("pdf_encrypted") from exc
        raise FileRefused("pdf_unreadable") from exc
    try:
        count = len(pdf)
        if count == 0:
            raise FileRefused("pdf_unreadable")
        if count > MAX_PDF_PAGES:
            raise FileRefused("pdf_too_many_pages", max=MAX_PDF_PAGES)
        for index in range(count):
            width, height = pdf.get_page_size(index)
            if not (0 < width <= MAX_PDF_PAGE_SIDE_PT and 0 < height <= MAX_PDF_PAGE_SIDE_PT):
                raise FileRefused("pdf_page_too_large")
        return [_page_picture(pdf, index) for index in range(count)]
    except MemoryError as exc:
        raise FileRefused("file_too_complex") from exc
    finally:
        pdf.close()


def _page_picture(pdf: Any, index: int) -> Picture:
    page = pdf[index]
    try:
        width, height = page.get_size()
        bitmap = page.render(scale=min(PAGE_SCALE, MAX_PAGE_SIDE_PX / max(width, height)))
        try:
            # The image shares PDFium's memory: encode it before anything is freed.
            image = bitmap.to_pil()
            out = io.BytesIO()
            image.save(out, "PNG", compress_level=3)
            return Picture(out.getvalue(), PNG, image.width, image.height)
        finally:
            bitmap.close()
    finally:
        page.close()


def _peak_memory_kib() -> int:
    """The child's peak resident memory. Not getrusage's ru_maxrss: Linux carries the parent's
    peak over into a child started by fork and exec."""
    try:
        with open("/proc/self/status") as status:
            found = re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.MULTILINE)
    except OSError:  # pragma: no cover - not Linux
        found = None
    if found is None:  # pragma: no cover - not Linux
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(found.group(1))


def _child(arguments: list[str]) -> int:
    """Read a file on stdin, write the header line and the pictures' bytes on stdout."""
    _limit_resources(int(arguments[0]), float(arguments[1]))
    data = sys.stdin.buffer.read()
    sniffed = sniff_content_type(data)
    try:
        if sniffed is None:
            raise FileRefused("unsupported_type")
        content_type = sniffed[0]
        pictures = (
            _pdf_pictures(data) if content_type == PDF else [_image_picture(data, content_type)]
        )
    except FileRefused as refused:
        sys.stdout.buffer.write(
            json.dumps({"refused": refused.code, "params": refused.params}).encode()
        )
        sys.stdout.buffer.write(b"\n")
        return 0
    header = {
        "pages": len(pictures),
        "pictures": [[p.content_type, p.width, p.height, len(p.data)] for p in pictures],
        "peak_kib": _peak_memory_kib(),
    }
    sys.stdout.buffer.write(json.dumps(header).encode() + b"\n")
    for picture in pictures:
        sys.stdout.buffer.write(picture.data)
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
