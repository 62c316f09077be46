"""Who may call the listener: the devices of HUB_DICOM_CALLERS, the committing archives."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from hub.delivery.models import Destination
from hub.env import parse_ae_addresses
from hub.listener.callers import CallerList, Role


def test_callers_are_read_as_ae_title_at_host() -> None:
    parsed = parse_ae_addresses("HUB_DICOM_CALLERS", " POCUS 1@10.0.0.5, ENDO@localhost ,")

    assert parsed == (("POCUS 1", "10.0.0.5"), ("ENDO", "localhost"))


@pytest.mark.parametrize("value", ["POCUS", "@10.0.0.5", "POCUS@", "A_TITLE_TOO_LONG_X@h"])
def test_a_caller_that_is_not_ae_title_at_host_fails_at_start_up(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="HUB_DICOM_CALLERS"):
        parse_ae_addresses("HUB_DICOM_CALLERS", value)


@pytest.mark.django_db
def test_a_device_is_known_by_its_title_and_its_address_together() -> None:
    callers = CallerList((("POCUS", "127.0.0.1"), ("ENDO", "localhost")))

    pocus = callers.find("POCUS ", "127.0.0.1")  # AE titles come space-padded

    assert pocus is not None and pocus.roles == {Role.DEVICE}
    assert str(pocus) == "POCUS@127.0.0.1"
    assert callers.find("ENDO", "127.0.0.1") is not None  # localhost, resolved
    assert callers.find("POCUS", "127.0.0.2") is None
    assert callers.find("STRANGER", "127.0.0.1") is None


@pytest.mark.django_db
def test_the_archive_of_a_committing_destination_may_only_report() -> None:
    common = {"kind": "c-store", "host": "127.0.0.1", "port": 4242}
    Destination.objects.create(name="vna", called_aet="VNA", storage_commitment=True, **common)
    Destination.objects.create(name="pacs", called_aet="PACS", **common)
    Destination.objects.create(
        name="old", called_aet="OLD", storage_commitment=True, enabled=False, **common
    )
    callers = CallerList(())

    vna = callers.find("VNA", "127.0.0.1")

    assert vna is not None and vna.roles == {Role.ARCHIVE}
    assert callers.find("PACS", "127.0.0.1") is None  # it does not commit
    assert callers.find("OLD", "127.0.0.1") is None  # disabled


def test_a_host_that_does_not_resolve_is_named_and_never_matches() -> None:
    callers = CallerList((("GHOST", "no-such-host.invalid"),))

    assert callers.unresolved() == ["GHOST@no-such-host.invalid"]
