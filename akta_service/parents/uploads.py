"""Photos and scans from a phone: judged by content, opened where they can do no harm, large
photos made smaller, metadata gone.

A phone photo carries EXIF, often with the GPS position of the family's home; it is never
stored. Every file is opened in a limited child process (core.untrusted_files); a photo is
stored as the picture made there from its pixels only (upright, at most MAX_PHOTO_SIDE), a PDF
byte for byte once it opened and every page could be drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from akta_service.births.documents import MAX_DOCUMENT_BYTES, sniff_content_type
from akta_service.core.errors import FieldError
from akta_service.core.untrusted_files import (
    MAX_PICTURE_SIDE,
    PDF,
    FileRefused,
    Inspection,
    inspect_file,
)

#: The longest side of a stored photo: a page stays readable, the file stays small.
MAX_PHOTO_SIDE = MAX_PICTURE_SIDE


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
    #: The stored bytes as opened: the pictures clerks will see.
    inspection: Inspection


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
    try:
        inspection = inspect_file(data)
    except FileRefused as refused:
        raise UploadRefused(refused.code, **refused.params) from refused
    if content_type == PDF:
        return PreparedUpload(data, content_type, extension, inspection)
    (photo,) = inspection.pictures
    return PreparedUpload(photo.data, content_type, extension, inspection)
