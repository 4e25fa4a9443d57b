"""Calling addresses that others chose (facilities' webhooks): public hosts only.

A URL is checked when it is registered and again before every call. Its host is resolved,
every address it resolves to must be public, and the call connects to the address that was
checked while the Host header and the TLS name (SNI and certificate check) stay the URL's
host. A DNS answer that changes between the check and the connection (rebinding) therefore
cannot turn the call towards the service's own network or the cloud's metadata endpoint.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud instance metadata (AWS, GCP, Azure, OpenStack; AWS's IPv6 one): refused always.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
#: Carrier-grade NAT (RFC 6598): not private in Python's tables, not public either.
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
DEFAULT_PORTS = {"http": 80, "https": 443}


class AddressRefused(Exception):
    """The URL may not be called; `code` is a core.messages code naming why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CheckedUrl:
    """A URL whose host resolved to public addresses only, and the one to connect to."""

    url: str
    scheme: str
    host: str
    #: host[:port] as the URL wrote it: the Host header of the call.
    authority: str
    port: int
    address: IPAddress

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parts = urlsplit(self.url)
        ip = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return urlunsplit((self.scheme, f"{ip}:{self.port}", parts.path, parts.query, ""))


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host name resolves to, through the system's resolver."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The addresses a connection to `ip` may end up at: an IPv4-mapped IPv6 address is its
    IPv4 address; a 6to4 or Teredo one is itself and the IPv4 address it carries."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    inner = [ip.sixtofour, ip.teredo[1] if ip.teredo else None]
    return [ip, *(a for a in inner if a is not None)]


def _never(ip: IPAddress) -> bool:
    return ip in METADATA_ADDRESSES or ip.is_link_local or ip.is_multicast or ip.is_unspecified


def _inward(ip: IPAddress) -> bool:
    return ip.is_loopback or ip.is_private or ip in SHARED_ADDRESS_SPACE or not ip.is_global


def address_problem(address: str, *, allow_private: bool) -> str | None:
    """Why the service may not connect to this address, as a message code; None if it may.

    Loopback, private (RFC 1918, IPv6 unique local) and carrier-grade NAT addresses are
    allowed only with `allow_private` (local test receivers); link-local, metadata,
    multicast, reserved and unspecified addresses never.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "webhook_host_internal"
    for candidate in _embedded(ip):
        if _never(candidate) or (candidate.is_reserved and not candidate.is_loopback):
            return "webhook_host_internal"
        if _inward(candidate) and not allow_private:
            return "webhook_host_internal"
    return None


def _addresses(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        addresses = resolve_host(host, port)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused("webhook_host_unknown") from exc
    if not addresses:
        raise AddressRefused("webhook_host_unknown")
    return addresses


def check_url(url: str, *, require_https: bool, allow_private: bool) -> CheckedUrl:
    """Resolve the URL's host and check every address; raise AddressRefused if any is not
    allowed (or the URL is not an http(s) URL, or not https where that is required)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused("url") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise AddressRefused("url")
    if require_https and scheme != "https":
        raise AddressRefused("webhook_https_required")
    port = port or DEFAULT_PORTS[scheme]
    addresses = _addresses(parts.hostname, port)
    for address in addresses:
        problem = address_problem(address, allow_private=allow_private)
        if problem is not None:
            raise AddressRefused(problem)
    return CheckedUrl(
        url=url,
        scheme=scheme,
        host=parts.hostname,
        authority=parts.netloc.rpartition("@")[2],
        port=port,
        address=ipaddress.ip_address(addresses[0].split("%", 1)[0]),
    )
