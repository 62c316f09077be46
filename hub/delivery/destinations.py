"""The destinations named in settings, and the one factory that builds their clients."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings

from hub.delivery.stowrs import DeliveryError, StowReceipt, StowRsClient

ARCHIVE = "archive"


class InstanceSender(Protocol):
    def store(self, paths: Sequence[Path]) -> StowReceipt: ...


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    url: str


def configured_destinations() -> list[Destination]:
    if not settings.HUB_STOWRS_URL:
        return []
    return [Destination(name=ARCHIVE, kind="stow-rs", url=settings.HUB_STOWRS_URL)]


def destination_sender(name: str) -> InstanceSender:
    for destination in configured_destinations():
        if destination.name == name:
            return StowRsClient(
                destination.url,
                username=settings.HUB_STOWRS_USERNAME,
                password=settings.HUB_STOWRS_PASSWORD,
                timeout=settings.HUB_STOWRS_TIMEOUT,
            )
    raise DeliveryError(
        f"destination {name!r} is no longer configured (check HUB_STOWRS_URL)", transient=False
    )
