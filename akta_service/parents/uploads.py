"""Photos and scans from a phone: judged by content, large photos made smaller, metadata gone.

A phone photo carries EXIF, often with the GPS position of the family's home; it is never
stored. Photos are decoded and written again from their pixels only (turned upright first,
since the EXIF orientation goes too). PDFs are kept byte for byte.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from akta_service.births.documents import MAX_DOCUMENT_BYTES, sniff_content_type
from akta_service.core.errors import FieldError

#: The longest side of a stored photo: a page stays readable, the file stays small.
MAX_PHOTO_SIDE = 2400
#: Larger pictures are refused before they are decoded (no decompression bombs).
MAX_PHOTO_PIXELS = 60_000_000
JPEG_QUALITY = 85


class UploadRefused(ValueError):
    """The file cannot be stored; `code` says why (core.messages has the words)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def at(self, field: str) -> FieldError:
        """The refusal as the message shown next to the upload field `field`."""
        return FieldError(field, self.code, self.params)


@dataclass(frozen=True)
class PreparedUpload:
    data: bytes
    content_type: str
    extension: str


def prepare_upload(data: bytes) -> PreparedUpload:
    """The bytes to store for an uploaded document, or UploadRefused."""
    if not data:
        raise UploadRefused("upload_missing")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UploadRefused("too_large")
    sniffed = sniff_content_type(data)
    if sniffed is None:
        raise UploadRefused("upload_unsupported_type")
    content_type, extension = sniffed
    if content_type == "application/pdf":
        return PreparedUpload(data, content_type, extension)
    return _clean_photo(data, content_type, extension)


def _unreadable() -> UploadRefused:
    return UploadRefused("unreadable")


def _clean_photo(data: bytes, content_type: str, extension: str) -> PreparedUpload:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                width, height = opened.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise UploadRefused("too_many_pixels")
                opened.load()
                upright = ImageOps.exif_transpose(opened)
                upright.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE), Image.Resampling.LANCZOS)
                mode = "RGB" if content_type == "image/jpeg" else _png_mode(upright.mode)
                pixels = upright.convert(mode)
    except UploadRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _unreadable() from exc
    # A new image from the pixels alone: no EXIF, GPS, comments or XMP come along.
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if content_type == "image/jpeg":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        clean.save(out, "PNG", optimize=True)
    return PreparedUpload(out.getvalue(), content_type, extension)


def _png_mode(mode: str) -> str:
    return mode if mode in ("L", "LA", "RGB", "RGBA") else "RGBA"
