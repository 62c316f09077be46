"""Destinations: the rows operators manage, the two the settings seed, and the
one factory that builds a destination's sender.

HUB_STOWRS_URL seeds the destination "archive" (STOW-RS) and HUB_MHD_URL the
destination "mhd"; those rows follow their settings (and are disabled when
the setting is removed), so a hub configured by environment alone behaves as
it always did. Every other destination is an operator's row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction

from hub.captures.models import Capture
from hub.captures.storage import data_path
from hub.delivery.errors import DeliveryError
from hub.delivery.models import Destination, DestinationKind
from hub.delivery.senders.base import Receipt
from hub.delivery.senders.cstore import CStoreClient, TlsOptions
from hub.delivery.senders.folder import FolderSender
from hub.delivery.senders.mhd import MhdSender
from hub.delivery.senders.stowrs import StowRsClient

ARCHIVE = "archive"
MHD = "mhd"


class Sender(Protocol):
    def send(self, capture: Capture) -> Receipt: ...


def _seeds() -> dict[str, dict[str, Any] | None]:
    """The rows the settings describe (None: the setting is not set)."""
    archive = mhd = None
    if settings.HUB_STOWRS_URL:
        archive = {
            "kind": DestinationKind.STOW_RS,
            "url": settings.HUB_STOWRS_URL,
            "username": settings.HUB_STOWRS_USERNAME or "",
            "secret_setting": "HUB_STOWRS_PASSWORD" if settings.HUB_STOWRS_PASSWORD else "",
            "timeout_seconds": settings.HUB_STOWRS_TIMEOUT,
        }
    if settings.HUB_MHD_URL:
        mhd = {
            "kind": DestinationKind.MHD,
            "url": settings.HUB_MHD_URL,
            "secret_setting": "HUB_MHD_TOKEN" if settings.HUB_MHD_TOKEN else "",
        }
    return {ARCHIVE: archive, MHD: mhd}


def destinations_seed(rows: dict[str, Destination]) -> bool:
    """Keeps the rows seeded from the settings in step with them (writes only on a
    change); ``rows``: every destination row by name, as just read. True if it wrote."""
    wrote = False
    for name, wanted in _seeds().items():
        row = rows.get(name)
        if row is not None and not row.from_settings:
            continue  # an operator's own row of that name wins
        if wanted is None:
            if row is not None and row.enabled:
                Destination.objects.filter(id=row.id).update(enabled=False)
                wrote = True
            continue
        wanted = {**wanted, "enabled": True, "from_settings": True}
        if row is not None and all(getattr(row, k) == v for k, v in wanted.items()):
            continue
        wrote = True
        try:
            with transaction.atomic():
                Destination.objects.update_or_create(name=name, defaults=wanted)
        except IntegrityError:
            pass  # another process seeded it at the same moment
    return wrote


def _as_this_process_sees_it(destination: Destination) -> Destination | None:
    """A seeded row as this process's settings say (None: not set here), else the row.

    Each process sends by its own settings, whatever another process with
    other settings last wrote into the shared row.
    """
    if not destination.from_settings:
        return destination if destination.enabled else None
    wanted = _seeds().get(destination.name)
    if wanted is None:
        return None
    for field, value in wanted.items():
        setattr(destination, field, value)
    destination.enabled = True
    return destination


def configured_destinations() -> list[Destination]:
    """Every enabled destination, the seeded ones brought up to date first."""
    # One read in the usual case, where the seeded rows are as the settings say.
    rows = list(Destination.objects.all())
    if destinations_seed({d.name: d for d in rows}):
        rows = list(Destination.objects.all())
    seen = (_as_this_process_sees_it(d) for d in rows)
    return [d for d in seen if d is not None]


def destination_secret(destination: Destination) -> str | None:
    """The password or token: from the named setting or environment variable, or a file."""
    if destination.secret_setting:
        name = destination.secret_setting
        value = getattr(settings, name, None) if name.startswith("HUB_") else None
        return value or os.environ.get(name) or None
    if destination.secret_file:
        try:
            return Path(destination.secret_file).read_text().strip() or None
        except OSError as error:
            raise DeliveryError(
                f"cannot read the secret of destination {destination.name}: {error.strerror}",
                transient=False,
            ) from None
    return None


@dataclass(frozen=True)
class StowSender:
    client: StowRsClient

    def send(self, capture: Capture) -> Receipt:
        paths = [data_path(instance.path) for instance in capture.instances.all()]
        if not paths:
            raise DeliveryError("the capture has no DICOM instance to send", transient=False)
        return self.client.store(paths)


@dataclass(frozen=True)
class CStoreSender:
    client: CStoreClient
    storage_commitment: bool = False  # the caller mints the Transaction UID (commitment_begin)

    def send(self, capture: Capture, *, commitment_uid: str | None = None) -> Receipt:
        paths = [data_path(instance.path) for instance in capture.instances.all()]
        if not paths:
            raise DeliveryError("the capture has no DICOM instance to send", transient=False)
        return self.client.store(paths, commitment_uid=commitment_uid)


def sender_for(destination: Destination) -> Sender:
    secret = destination_secret(destination)
    timeout = destination.timeout_seconds
    if destination.kind == DestinationKind.STOW_RS:
        return StowSender(
            StowRsClient(
                destination.url,
                username=destination.username or None,
                password=secret,
                timeout=timeout,
                verify_tls=destination.verify_tls,
            )
        )
    if destination.kind == DestinationKind.C_STORE:
        if not (destination.host and destination.port and destination.called_aet):
            raise DeliveryError(
                f"destination {destination.name} needs a host, a port and an AE title",
                transient=False,
            )
        tls = None
        if destination.tls:
            tls = TlsOptions(
                ca_file=destination.tls_ca_file or None,
                cert_file=destination.tls_cert_file or None,
                key_file=destination.tls_key_file or None,
                verify=destination.verify_tls,
            )
        return CStoreSender(
            CStoreClient(
                destination.host,
                destination.port,
                called_aet=destination.called_aet,
                calling_aet=settings.HUB_AE_TITLE,
                timeout=timeout,
                tls=tls,
            ),
            storage_commitment=destination.storage_commitment,
        )
    if destination.kind == DestinationKind.MHD:
        return MhdSender(
            destination.url,
            token=secret,
            timeout_seconds=timeout,
            verify_tls=destination.verify_tls,
        )
    if destination.kind == DestinationKind.FOLDER:
        return FolderSender(Path(destination.folder))
    raise DeliveryError(f"destination {destination.name} has an unknown kind", transient=False)


def destination_sender(name: str) -> Sender:
    row = Destination.objects.filter(name=name).first()
    destination = _as_this_process_sees_it(row) if row is not None else None
    if destination is None:
        raise DeliveryError(
            f"destination {name!r} is disabled or no longer exists (see the admin's "
            "destinations, or HUB_STOWRS_URL / HUB_MHD_URL)",
            transient=False,
        )
    return sender_for(destination)
