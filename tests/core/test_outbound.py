"""Which addresses the service may call out to: public ones, whatever the URL spells."""

from __future__ import annotations

import pytest

from akta_service.core import outbound
from akta_service.core.outbound import AddressRefused, address_problem, check_url

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.20",
        "100.64.0.1",  # carrier-grade NAT
        "100.127.255.254",
        "::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "fd12:3456::1",  # unique local
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    ],
)
def test_loopback_private_and_cgnat_addresses_are_refused_unless_allowed(address: str) -> None:
    assert address_problem(address, allow_private=False) == "webhook_host_internal"
    assert address_problem(address, allow_private=True) is None


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",  # cloud metadata
        "fd00:ec2::254",  # AWS metadata over IPv6
        "::ffff:169.254.169.254",
        "169.254.10.1",  # link-local
        "fe80::1",
        "fe80::1%eth0",
        "0.0.0.0",  # noqa: S104 - an address refused, not one bound
        "::",
        "224.0.0.1",  # multicast
        "ff02::1",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "not an address",
    ],
)
def test_metadata_link_local_multicast_reserved_and_unspecified_are_refused_always(
    address: str,
) -> None:
    assert address_problem(address, allow_private=True) == "webhook_host_internal"


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_problem(address, allow_private=False) is None


def test_a_host_is_refused_when_any_of_its_addresses_is_internal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbound, "resolve_host", lambda host, port: [PUBLIC, "10.0.0.7"])
    with pytest.raises(AddressRefused) as refused:
        check_url("https://hooks.rs.example/akta", require_https=True, allow_private=False)
    assert refused.value.code == "webhook_host_internal"


def test_localhost_is_resolved_and_refused() -> None:
    """`localhost` is a name: it is resolved (the system's hosts file) and its addresses
    checked, never trusted by its spelling."""
    with pytest.raises(AddressRefused) as refused:
        check_url("http://localhost:8080/hook", require_https=False, allow_private=False)
    assert refused.value.code == "webhook_host_internal"


@pytest.mark.parametrize(
    "url", ["http://2130706433/hook", "http://0x7f.0.0.1/hook", "http://127.1/hook"]
)
def test_other_spellings_of_loopback_are_refused(url: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_url(url, require_https=False, allow_private=False)
    assert refused.value.code == "webhook_host_internal"


def test_a_checked_url_connects_to_the_checked_address_under_the_hosts_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbound, "resolve_host", lambda host, port: ["2606:4700::6810:84e5"])
    checked = check_url(
        "https://user@hooks.rs.example:8443/akta?x=1#part", require_https=True, allow_private=False
    )
    assert checked.pinned_url == "https://[2606:4700::6810:84e5]:8443/akta?x=1"
    assert checked.authority == "hooks.rs.example:8443"
    assert checked.host == "hooks.rs.example"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://hooks.rs.example/akta", "url"),
        ("https:///akta", "url"),
        ("https://hooks.rs.example:99999/akta", "url"),
        ("http://hooks.rs.example/akta", "webhook_https_required"),
        ("https://no-such-host.invalid/akta", "webhook_host_unknown"),
    ],
)
def test_what_is_not_an_https_url_of_a_known_host_is_refused_with_its_reason(
    url: str, code: str
) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_url(url, require_https=True, allow_private=False)
    assert refused.value.code == code
