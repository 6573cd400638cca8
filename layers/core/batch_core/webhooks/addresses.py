"""Where a webhook may be sent: a public address only, so a tenant cannot make the service call into its own
network (instance metadata, VPC hosts, the function's loopback). The check resolves the host, and the request
then goes to the address checked, so a name that changes its answer afterwards cannot redirect it."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from batch_core.errors import InvalidInput
from batch_core.models.bounds import echo

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(InvalidInput):
    def __init__(self, reason: str):
        super().__init__(f"webhook url refused: {reason}", param="url")
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """A checked webhook url: its scheme, host name, port and path, and the address the request goes to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def checked_target(url: str, *, allow_loopback: bool) -> Target:
    """The url's target, or RefusedAddress naming why it may not be called."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise RefusedAddress("the url must start with https://")
    if not parts.hostname:
        raise RefusedAddress("the url has no host")
    if parts.username or parts.password:
        raise RefusedAddress("the url must not hold a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedAddress("the url's port is not a number from 1 to 65535") from None
    host = parts.hostname
    addresses = _resolve(host, port)
    for address in addresses:
        kind = _not_public(address)
        if kind and not (kind == "loopback" and allow_loopback):
            raise RefusedAddress(
                f"'{echo(host)}' resolves to a {kind} address ({address}); webhooks call public addresses only"
            )
    if parts.scheme == "http" and not (allow_loopback and all(address.is_loopback for address in addresses)):
        raise RefusedAddress("the url must start with https://")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, str(addresses[0]))


def _resolve(host: str, port: int) -> list[IpAddress]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedAddress(f"'{echo(host)}' does not resolve to an address") from None
    addresses = []
    for *_, socket_address in found:
        address = ipaddress.ip_address(str(socket_address[0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        addresses.append(address)
    return addresses


def _not_public(address: IpAddress) -> str | None:
    """What kind of non-public address it is; None for a public one."""
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    if address.is_multicast:
        return "multicast"
    if not address.is_global:
        return "reserved"
    return None
