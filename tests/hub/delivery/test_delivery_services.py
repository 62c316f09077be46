"""Delivery against an archive that is not there: bounded retries, then a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.captures.models import Capture, CaptureStatus
from hub.delivery.models import Delivery, DeliveryStatus
from hub.delivery.services import (
    capture_deliveries_start,
    capture_delivery_retry,
    delivery_attempt,
    delivery_retry_policy,
)
from hub.matching.services import capture_match
from hub.pipeline.steps import capture_encapsulate, capture_inspect
from tests.hub.factories import received_capture
from tests.peers.ports import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def nowhere(settings) -> str:
    """An archive URL on a loopback port where nothing listens."""
    settings.HUB_STOWRS_URL = f"http://127.0.0.1:{free_port()}/dicom-web"
    settings.HUB_STOWRS_USERNAME = settings.HUB_STOWRS_PASSWORD = None
    settings.HUB_DELIVERY_RETRY_BASE_SECONDS = 0.1
    settings.HUB_DELIVERY_MAX_ATTEMPTS = 3
    return settings.HUB_STOWRS_URL


def encapsulated(tmp_path: Path):
    capture = received_capture(tmp_path)
    capture_inspect(capture_id=capture.id)
    capture_match(capture_id=capture.id)
    capture_encapsulate(capture_id=capture.id)
    return capture


def test_without_a_destination_the_capture_waits_with_a_reason(tmp_path: Path, settings) -> None:
    settings.HUB_STOWRS_URL = None
    capture = encapsulated(tmp_path)

    assert capture_deliveries_start(capture_id=capture.id) == []

    capture.refresh_from_db()
    assert capture.status == CaptureStatus.ENCAPSULATED
    assert "HUB_STOWRS_URL" in capture.reason


def test_an_unreachable_archive_is_retried_then_given_up_with_a_reason(
    tmp_path: Path, nowhere: str
) -> None:
    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)

    delays = []
    for _ in range(3):
        Delivery.objects.filter(id=delivery_id).update(next_attempt_at=None)
        delays.append(delivery_attempt(delivery_id=delivery_id).retry_in)

    assert delays[0] is not None and delays[1] is not None and delays[2] is None
    capture.refresh_from_db()
    delivery = capture.deliveries.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert capture.status == CaptureStatus.FAILED
    assert "gave up after 3 attempts" in capture.reason
    assert "127.0.0.1" in capture.reason


def test_an_operator_retry_starts_a_failed_capture_afresh(tmp_path: Path, nowhere: str) -> None:
    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)
    Delivery.objects.filter(id=delivery_id).update(status=DeliveryStatus.FAILED, attempts=3)
    Capture.objects.filter(id=capture.id).update(status=CaptureStatus.FAILED)

    assert capture_delivery_retry(capture_id=capture.id) == [delivery_id]
    capture.refresh_from_db()
    assert capture.status == CaptureStatus.DELIVERING
    assert capture.deliveries.get().attempts == 0


def test_backoff_grows_and_is_bounded(settings) -> None:
    settings.HUB_DELIVERY_RETRY_BASE_SECONDS = 10
    settings.HUB_DELIVERY_RETRY_MAX_SECONDS = 100
    assert 8 <= delivery_retry_policy().delay(1) <= 12
    assert 16 <= delivery_retry_policy().delay(2) <= 24
    assert delivery_retry_policy().delay(30) <= 120


def test_every_write_to_a_delivery_moves_its_updated_at(tmp_path: Path, nowhere: str) -> None:
    from datetime import timedelta

    from django.utils import timezone

    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)
    long_ago = timezone.now() - timedelta(hours=1)
    Delivery.objects.filter(id=delivery_id).update(updated_at=long_ago)

    assert delivery_attempt(delivery_id=delivery_id).retry_in is not None

    delivery = Delivery.objects.get(id=delivery_id)
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.updated_at > long_ago
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > delivery.updated_at


def test_a_delivery_whose_tries_were_all_killed_fails_instead_of_looping(
    tmp_path: Path, nowhere: str
) -> None:
    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)
    # Three tries, each claimed and then lost with its worker (nothing recorded).
    Delivery.objects.filter(id=delivery_id).update(attempts=3, last_error="")

    assert delivery_attempt(delivery_id=delivery_id).retry_in is None

    capture.refresh_from_db()
    assert capture.deliveries.get().status == DeliveryStatus.FAILED
    assert capture.status == CaptureStatus.FAILED
    assert "killed or ran out of time" in capture.reason


def test_deliveries_opened_again_after_a_crash_keep_the_ones_already_there(
    tmp_path: Path, nowhere: str
) -> None:
    capture = encapsulated(tmp_path)
    (delivery_id,) = capture_deliveries_start(capture_id=capture.id)
    Delivery.objects.filter(id=delivery_id).update(attempts=2, last_error="refused")
    # The worker died after opening them and before the capture moved on: the
    # sweep runs the step again on a capture still `encapsulated`.
    Capture.objects.filter(id=capture.id).update(status=CaptureStatus.ENCAPSULATED)

    assert capture_deliveries_start(capture_id=capture.id) == [delivery_id]

    (delivery,) = capture.deliveries.all()
    assert (delivery.id, delivery.attempts, delivery.last_error) == (delivery_id, 2, "refused")
