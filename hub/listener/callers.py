"""Who may associate with the hub's listener, and for what.

Devices listed in HUB_DICOM_CALLERS (`AET@host`) may store. The archives of
enabled C-STORE destinations with Storage Commitment may send their reports
(N-EVENT-REPORT) and nothing else: their AE title and host are the
destination's. A caller is known by the pair: the AE title it gives and the
address it calls from (a host name is resolved when the listener starts).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from enum import StrEnum

from hub.delivery.commitment import committing_archives


class Role(StrEnum):
    DEVICE = "device"  # stores instances (C-STORE)
    ARCHIVE = "archive"  # reports Storage Commitment results (N-EVENT-REPORT)


@dataclass(frozen=True)
class Caller:
    ae_title: str
    host: str  # as configured: a name or an address
    roles: frozenset[Role]

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.host}"


def host_addresses(host: str) -> frozenset[str]:
    """Every address `host` resolves to (itself when it is one); none if it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return frozenset()
    return frozenset(str(info[4][0]) for info in infos)


class CallerList:
    """The devices from the settings, resolved once; the archives, read per association."""

    def __init__(self, devices: tuple[tuple[str, str], ...]) -> None:
        self._devices = [(title, host, host_addresses(host)) for title, host in devices]

    def unresolved(self) -> list[str]:
        return [f"{title}@{host}" for title, host, addresses in self._devices if not addresses]

    def find(self, ae_title: str, address: str) -> Caller | None:
        """The caller with this AE title calling from this address, or None: refuse it."""
        title = ae_title.strip()
        roles: dict[Role, str] = {}
        for device_title, host, addresses in self._devices:
            if device_title == title and address in addresses:
                roles.setdefault(Role.DEVICE, host)
        for archive_title, host in committing_archives():
            if archive_title == title and address in host_addresses(host):
                roles.setdefault(Role.ARCHIVE, host)
        if not roles:
            return None
        return Caller(title, next(iter(roles.values())), frozenset(roles))
