"""The sealed QR: the akta's printed facts, signed by the office, readable without us.

The QR code holds `AK1:` + base45(zlib(COSE_Sign1)), as the EU digital COVID certificate
does (RFC 9052 COSE_Sign1, algorithm ES256, the key id in the protected header). Its
payload is a CBOR Web Token (RFC 8392) with the issuer (1), the time of issue (6) and the
akta's facts under the private claim `FACTS_CLAIM`, a map with integer keys:

====  =====================================================================
 1    registration number                 7   father's name as printed (or null)
 2    version (1, then 2 after the first  8   mother's name as printed (or null)
      correction, ...)                    9   issue date, YYYY-MM-DD
 3    child's name as printed            10   printed-text digest (32 bytes, below)
 4    sex as printed ("laki-laki", ...)  11   URL of the public verification page
 5    birth date, YYYY-MM-DD
 6    birth place as printed
====  =====================================================================

**What the digest covers.** The SHA-256 of a PDF cannot sit inside the PDF it hashes, so
the digest is over the printed text instead (`printed_text`): the child's NIK as printed
(empty when none), every line of the body and the closing line in Indonesian, the
officer's name and "NIP. <nip>", joined with a line feed, UTF-8. Anyone holding the paper
can type it again and compare; the service recomputes it from the stored report. The
signed PDF's own SHA-256 is on the public page, as before.

The status list (`status_list`) is a COSE_Sign1 over a CWT too, signed with the same keys:
its claim `STATUS_CLAIM` lists each akta version that is no longer valid as
[registration number, version, status code, YYYY-MM-DD]; a version not listed is valid.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Final

import base45
import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    encode_dss_signature,
)

from akta_service.akta.document import (
    AktaContent,
    akta_sentences,
    printed_names,
)
from akta_service.akta.seal_keys import SealKey, active_kid, key_id_bytes, published_keys, sign

PREFIX: Final = "AK1:"
#: RFC 9052: protected header labels, the ES256 algorithm, the COSE_Sign1 tag.
_ALG, _KID, _ES256, _SIGN1_TAG = 1, 4, -7, 18
#: RFC 8392 claims.
_ISS, _IAT = 1, 6
FACTS_CLAIM: Final = -65537
STATUS_CLAIM: Final = -65538
#: A QR payload inflates to no more than this: a bigger one is refused, not unpacked.
_MAX_INFLATED = 4096

VALID, INVALID, ANNULLED, SUPERSEDED = "valid", "invalid", "annulled", "superseded"
STATUS_CODES: Final = {ANNULLED: 1, SUPERSEDED: 2}
_STATUS_BY_CODE: Final = {code: name for name, code in STATUS_CODES.items()}


@dataclass(frozen=True)
class SealedFacts:
    """What the QR vouches for, exactly as the akta prints it."""

    registration_number: str
    version: int
    child_name: str
    child_sex: str
    birth_date: str
    birth_place: str
    father_name: str | None
    mother_name: str | None
    issue_date: str
    text_sha256: str
    verification_url: str


@dataclass(frozen=True)
class QrCheck:
    """The verdict on a scanned or pasted code."""

    #: valid, invalid, annulled or superseded.
    status: str
    facts: SealedFacts | None = None
    kid: str | None = None
    #: Why the code is invalid (a message code), when it is.
    problem: str | None = None
    #: When an annulment or a newer version took effect (from the status list).
    status_date: str | None = None
    #: When the status list consulted was issued (None: no list known).
    status_as_of: datetime | None = None


class SealError(ValueError):
    """The text is not a sealed akta code, or its seal does not hold; `code` says which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def printed_text(content: AktaContent) -> str:
    """The printed text the seal's digest covers (see the module's documentation)."""
    lines = [
        content.child_nik or "",
        *akta_sentences(content),
        content.officer_name,
        f"NIP. {content.officer_nip}",
    ]
    return "\n".join(lines)


def printed_text_sha256(content: AktaContent) -> bytes:
    """SHA-256 of `printed_text`."""
    return hashlib.sha256(printed_text(content).encode("utf-8")).digest()


def _facts_claim(content: AktaContent) -> dict[int, Any]:
    names = printed_names(content)
    return {
        1: content.registration_number,
        2: content.version,
        3: names["child_name"],
        4: names["child_sex"],
        5: content.birth_date.isoformat(),
        6: names["birth_place"],
        7: names["father_name"],
        8: names["mother_name"],
        9: content.issue_date.isoformat(),
        10: printed_text_sha256(content),
        11: content.verification_url,
    }


def _sign1(claims: dict[int, Any]) -> bytes:
    kid = active_kid()
    protected = cbor2.dumps({_ALG: _ES256, _KID: key_id_bytes(kid)})
    payload = cbor2.dumps(claims)
    signature = sign(kid, cbor2.dumps(["Signature1", protected, b"", payload]))
    return cbor2.dumps(cbor2.CBORTag(_SIGN1_TAG, [protected, {}, payload, signature]))


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def seal_text(content: AktaContent, issuer: str) -> str:
    """The text of the akta's QR code: its facts, sealed with the office's active key."""
    sealed = _sign1({_ISS: issuer, _IAT: _now(), FACTS_CLAIM: _facts_claim(content)})
    return PREFIX + base45.b45encode(zlib.compress(sealed, 9)).decode("ascii")


def sealed_content(content: AktaContent, issuer: str) -> AktaContent:
    """The content with its QR code sealed."""
    return replace(content, seal=seal_text(content, issuer))


def _open_sign1(sealed: bytes, keys: list[SealKey]) -> tuple[Mapping[Any, Any], str]:
    """Check a COSE_Sign1 against the published keys; its claims and the key id."""
    try:
        message = cbor2.loads(sealed)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError):
        raise SealError("seal_not_cbor") from None
    if not (
        isinstance(message, cbor2.CBORTag)
        and message.tag == _SIGN1_TAG
        and isinstance(message.value, list | tuple)
        and len(message.value) == 4
        and all(isinstance(part, bytes) for part in (*message.value[:1], *message.value[2:]))
    ):
        raise SealError("seal_not_cose")
    protected, _unprotected, payload, signature = message.value
    try:
        header = cbor2.loads(protected)
        claims = cbor2.loads(payload)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError):
        raise SealError("seal_not_cose") from None
    if not isinstance(header, Mapping) or header.get(_ALG) != _ES256 or len(signature) != 64:
        raise SealError("seal_algorithm_unknown")
    key = next((k for k in keys if k.kid == header.get(_KID)), None)
    if key is None:
        raise SealError("seal_key_unknown")
    to_verify = cbor2.dumps(["Signature1", protected, b"", payload])
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.public_key.verify(der, to_verify, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SealError("seal_signature_invalid") from None
    if not isinstance(claims, Mapping):
        raise SealError("seal_not_cose")
    return claims, key.kid_text


def _inflate(text: str) -> bytes:
    # Base45 has a space among its letters: only line breaks and tabs (a pasted code) go.
    compact = text.translate({ord(c): None for c in "\r\n\t"}).lstrip(" ")
    if not compact.upper().startswith(PREFIX):
        raise SealError("seal_prefix_missing")
    try:
        packed = base45.b45decode(compact[len(PREFIX) :])
    except ValueError:
        raise SealError("seal_not_base45") from None
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(packed, _MAX_INFLATED)
    except zlib.error:
        raise SealError("seal_not_zlib") from None
    if inflater.unconsumed_tail:
        raise SealError("seal_too_large")
    return raw


def _facts(claims: Mapping[Any, Any]) -> SealedFacts:
    facts = claims.get(FACTS_CLAIM)
    if not isinstance(facts, Mapping):
        raise SealError("seal_facts_missing")
    try:
        return SealedFacts(
            registration_number=str(facts[1]),
            version=int(facts[2]),
            child_name=str(facts[3]),
            child_sex=str(facts[4]),
            birth_date=str(facts[5]),
            birth_place=str(facts[6]),
            father_name=None if facts[7] is None else str(facts[7]),
            mother_name=None if facts[8] is None else str(facts[8]),
            issue_date=str(facts[9]),
            text_sha256=bytes(facts[10]).hex(),
            verification_url=str(facts[11]),
        )
    except (KeyError, TypeError, ValueError):
        raise SealError("seal_facts_missing") from None


@dataclass(frozen=True)
class StatusList:
    """A checked status list: when it was issued and each listed version's status."""

    issued_at: datetime
    entries: dict[tuple[str, int], tuple[str, str]]


def status_list(entries: list[tuple[str, int, str, date]], issuer: str) -> bytes:
    """The signed status list (COSE_Sign1 bytes) of the versions that are no longer valid."""
    listed = [
        [number, version, STATUS_CODES[status], day.isoformat()]
        for number, version, status, day in entries
    ]
    return _sign1({_ISS: issuer, _IAT: _now(), STATUS_CLAIM: listed})


def read_status_list(sealed: bytes, keys: list[SealKey] | None = None) -> StatusList:
    """Check a status list's seal and read it. :raises SealError: it does not hold."""
    claims, _kid = _open_sign1(sealed, published_keys() if keys is None else keys)
    listed = claims.get(STATUS_CLAIM)
    if not isinstance(listed, list | tuple) or not isinstance(claims.get(_IAT), int):
        raise SealError("status_list_malformed")
    entries = {}
    for entry in listed:
        if not (
            isinstance(entry, list | tuple) and len(entry) == 4 and entry[2] in _STATUS_BY_CODE
        ):
            raise SealError("status_list_malformed")
        entries[(str(entry[0]), int(entry[1]))] = (_STATUS_BY_CODE[entry[2]], str(entry[3]))
    return StatusList(datetime.fromtimestamp(claims[_IAT], UTC), entries)


def check_qr(
    text: str, keys: list[SealKey] | None = None, statuses: StatusList | None = None
) -> QrCheck:
    """Valid, invalid, annulled or superseded: the seal against the published keys, then
    the version against the status list, when one is known."""
    try:
        claims, kid = _open_sign1(_inflate(text), published_keys() if keys is None else keys)
        facts = _facts(claims)
    except SealError as error:
        return QrCheck(INVALID, problem=error.code)
    if statuses is None:
        return QrCheck(VALID, facts, kid)
    status, day = statuses.entries.get((facts.registration_number, facts.version), (VALID, None))
    return QrCheck(status, facts, kid, status_date=day, status_as_of=statuses.issued_at)
