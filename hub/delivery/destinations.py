"""The destinations named in settings, and the one factory that builds their senders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from hub.captures.models import Capture, OriginalDocument
from hub.captures.storage import data_path
from hub.delivery.errors import DeliveryError
from hub.delivery.senders.base import Receipt
from hub.delivery.senders.mhd import MhdSender
from hub.delivery.senders.stowrs import StowRsClient

ARCHIVE = "archive"
MHD = "mhd"


class Sender(Protocol):
    def send(self, capture: Capture) -> Receipt: ...


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    url: str

    def applies_to(self, capture: Capture) -> bool:
        """DICOM goes to the archive, the kept original to the MHD recipient."""
        if self.kind == "mhd":
            return OriginalDocument.objects.filter(capture=capture).exists()
        return capture.instances.exists()


@dataclass(frozen=True)
class StowSender:
    client: StowRsClient

    def send(self, capture: Capture) -> Receipt:
        paths = [data_path(instance.path) for instance in capture.instances.all()]
        if not paths:
            raise DeliveryError("the capture has no DICOM instance to send", transient=False)
        return self.client.store(paths)


def configured_destinations() -> list[Destination]:
    destinations = []
    if settings.HUB_STOWRS_URL:
        destinations.append(Destination(name=ARCHIVE, kind="stow-rs", url=settings.HUB_STOWRS_URL))
    if settings.HUB_MHD_URL:
        destinations.append(Destination(name=MHD, kind="mhd", url=settings.HUB_MHD_URL))
    return destinations


def destination_sender(name: str) -> Sender:
    for destination in configured_destinations():
        if destination.name != name:
            continue
        if destination.kind == "mhd":
            return MhdSender(destination.url)
        return StowSender(
            StowRsClient(
                destination.url,
                username=settings.HUB_STOWRS_USERNAME,
                password=settings.HUB_STOWRS_PASSWORD,
                timeout=settings.HUB_STOWRS_TIMEOUT,
            )
        )
    raise DeliveryError(
        f"destination {name!r} is no longer configured (check HUB_STOWRS_URL / HUB_MHD_URL)",
        transient=False,
    )
