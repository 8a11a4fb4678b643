"""Which hosts a build may reach: public addresses, plus what the admin lists.

A user names the repository, and the service's `git ls-remote` and repo2docker's `git clone`
fetch it from the service's own network. Without a check, a `git/` URL reaches the hub's
loopback services, the cloud's metadata address (169.254.169.254) and the private network,
and git's answers tell an open port from a closed one. So every address a host name resolves
to must be global, unless the admin lists the host (by name, address or network) in
`HubExtensionsBuilds.allowed_internal_hosts`.

Addresses are read the way git's resolver reads them: the host is passed to getaddrinfo(), so
odd IPv4 forms (`2130706433`, `0x7f.1`, `127.1`) resolve to what git would connect to, and
IPv4-mapped IPv6 (`[::ffff:127.0.0.1]`) is checked as the IPv4 address it carries.

Over http(s), git connects to the addresses checked here and no others: they are pinned with
`http.curloptResolve` (git >= 2.37), for the service's `git ls-remote` and for repo2docker's
clone, so a DNS server that answers a public address to the check and a private one to git
(DNS rebinding) gains nothing. Residual risk (docs/builds.md): `git://` URLs, which git
resolves itself again, and submodules, which repo2docker fetches from wherever they point
(on an allowed scheme). Run the service where its network reaches nothing it must not (a
firewall or a network namespace) when users are untrusted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

# What a user learns when a repository cannot be read, whatever git said or why the host was
# refused: git's own lines tell a closed port from a web server, which would make the build
# endpoint a port scanner. The service's log keeps the detail.
UNREADABLE = "could not be read; check the URL and that the repository is public"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class HostRefused(Exception):
    """The host is internal and not listed; `str()` is for the log, never for the user."""


def parse_allowlist(entries: Iterable[str]) -> tuple[set[str], list[IPNetwork]]:
    """Host names (lowercased) and networks; raises ValueError naming a bad entry."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in entries:
        text = entry.strip().lower().strip("[]")
        if not text:
            raise ValueError(f"{entry!r} is empty")
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
            continue
        except ValueError:
            pass
        if "/" in text or " " in text or ":" in text:
            raise ValueError(f"{entry!r} is neither a host name, an address nor a network")
        names.add(text.rstrip("."))
    return names, networks


def unmapped(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped or -compatible IPv6 one, else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def is_internal(address: IPAddress) -> bool:
    """Loopback, link-local, private, shared, unspecified, multicast, reserved: not global."""
    address = unmapped(address)
    return not address.is_global or address.is_multicast


async def check_host(
    host: str, allowed: Iterable[str], port: int | None = None
) -> list[IPAddress] | None:
    """HostRefused unless every address `host` resolves to is global or listed; the addresses
    checked (None for a host listed by name, which is not looked up)."""
    names, networks = parse_allowlist(allowed)
    name = host.lower().strip("[]").rstrip(".")
    if name in names:
        return None
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(name, port or 0, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise HostRefused(f"{host!r} does not resolve: {err}") from None
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}
    if not addresses:
        raise HostRefused(f"{host!r} resolves to no address")
    for address in sorted(addresses, key=str):
        if not is_internal(address):
            continue
        plain = unmapped(address)
        if any(plain in net or address in net for net in networks):
            continue
        raise HostRefused(
            f"{host!r} resolves to {address}, which is internal (loopback, link-local or "
            "private) and not in HubExtensionsBuilds.allowed_internal_hosts"
        )
    return sorted(addresses, key=str)


def curl_resolve(url_host: str, port: int, addresses: list[IPAddress] | None) -> str | None:
    """The `http.curloptResolve` value that makes git's http(s) connect to `addresses` only
    ("HOST:PORT:ADDR[,ADDR]"), or None when there is nothing to pin (an address literal, a
    host listed by name)."""
    if not addresses:
        return None
    try:
        ipaddress.ip_address(url_host.strip("[]"))
        return None  # nothing to resolve
    except ValueError:
        pass
    listed = ",".join(f"[{a}]" if a.version == 6 else str(a) for a in addresses)
    return f"{url_host.lower()}:{port}:{listed}"


async def pin_for(url: str, allowed: Iterable[str]) -> str | None:
    """check_host() for an http(s) or git URL's host; the curl pin for http(s) URLs."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    addresses = await check_host(parts.hostname or "", allowed, parts.port)
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    port = parts.port or (443 if scheme == "https" else 80)
    return curl_resolve(parts.hostname, port, addresses)
