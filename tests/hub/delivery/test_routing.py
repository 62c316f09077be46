"""Routing rules choose a capture's destinations; the settings seed two of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.captures.models import Capture
from hub.delivery.destinations import configured_destinations, destination_secret
from hub.delivery.models import Destination, RoutingRule
from hub.delivery.routing import CaptureFacts, capture_destinations, rule_matches
from hub.matching.services import capture_match
from hub.pipeline.steps import capture_encapsulate, capture_inspect
from tests.hub.factories import received_capture

pytestmark = pytest.mark.django_db

VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"


def _facts(**changes: object) -> CaptureFacts:
    base = {
        "specialty": "dermatology",
        "department": "Dermatology",
        "media_kind": "photo",
        "sop_class_uids": frozenset({VL_PHOTO}),
        "source": "user",
        "size": 1000,
        "has_dicom": True,
        "has_original": False,
    }
    return CaptureFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_a_rule_matches_only_when_every_criterion_it_sets_matches() -> None:
    rule = RoutingRule(specialty="dermatology", media_kind="photo", source="user")
    assert rule_matches(rule, _facts())
    assert not rule_matches(rule, _facts(specialty="endoscopy"))
    assert not rule_matches(rule, _facts(media_kind="video"))
    assert not rule_matches(rule, _facts(source="device"))
    assert rule_matches(RoutingRule(department="dermatology"), _facts())  # any case
    assert rule_matches(RoutingRule(sop_class_uid=VL_PHOTO), _facts())
    assert not rule_matches(RoutingRule(sop_class_uid="1.2.3"), _facts())
    assert not rule_matches(RoutingRule(max_size_bytes=999), _facts())
    assert rule_matches(RoutingRule(), _facts())


def _encapsulated(tmp_path: Path, specialty: str) -> Capture:
    capture = received_capture(
        tmp_path / specialty, context={"patient": {"id": "R-1"}, "specialty": specialty}
    )
    capture_inspect(capture_id=capture.id)
    capture_match(capture_id=capture.id)
    capture_encapsulate(capture_id=capture.id)
    capture.refresh_from_db()
    return capture


def test_dermatology_goes_to_the_vna_and_its_pacs_endoscopy_to_the_vna_only(
    tmp_path: Path, settings
) -> None:
    settings.HUB_STOWRS_URL = "http://127.0.0.1:9/dicom-web"
    vna = Destination.objects.create(name="vna", kind="folder", folder=str(tmp_path))
    pacs = Destination.objects.create(
        name="derm-pacs", kind="c-store", host="127.0.0.1", port=11112, called_aet="PACS"
    )
    derm = RoutingRule.objects.create(name="derm", specialty="dermatology")
    derm.destinations.set([vna, pacs])
    endo = RoutingRule.objects.create(name="endo", specialty="endoscopy")
    endo.destinations.set([vna])
    # An original-only rule never sends DICOM to a DICOM destination by accident.
    odd = RoutingRule.objects.create(name="odd", specialty="wound", content="original")
    odd.destinations.set([pacs])

    names = {
        specialty: [d.name for d in capture_destinations(_encapsulated(tmp_path, specialty))]
        for specialty in ("dermatology", "endoscopy", "wound")
    }
    assert names == {"dermatology": ["derm-pacs", "vna"], "endoscopy": ["vna"], "wound": []}


def test_without_rules_the_seeded_archive_takes_the_dicom_as_before(
    tmp_path: Path, settings
) -> None:
    settings.HUB_STOWRS_URL = "http://127.0.0.1:9/dicom-web"
    settings.HUB_STOWRS_USERNAME, settings.HUB_STOWRS_PASSWORD = "hub", "s3cret"
    capture = _encapsulated(tmp_path, "wound")

    (archive,) = capture_destinations(capture)

    assert (archive.name, archive.kind) == ("archive", "stow-rs")
    assert archive.url == settings.HUB_STOWRS_URL
    assert destination_secret(archive) == "s3cret"
    row = Destination.objects.get(name="archive")
    assert row.from_settings and row.secret_setting == "HUB_STOWRS_PASSWORD"
    assert "s3cret" not in str(Destination.objects.values().get(name="archive"))

    settings.HUB_STOWRS_URL = None
    assert configured_destinations() == []
    assert not Destination.objects.get(name="archive").enabled


def test_a_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("abc\n")
    destination = Destination(name="x", kind="mhd", secret_file=str(secret))
    assert destination_secret(destination) == "abc"


def test_seeded_rows_in_step_with_the_settings_cost_one_read(settings) -> None:
    settings.HUB_STOWRS_URL = "http://127.0.0.1:9/dicom-web"
    settings.HUB_MHD_URL = None
    (seeded,) = configured_destinations()  # the first call writes the row

    with CaptureQueriesContext(connection) as queries:
        (again,) = configured_destinations()

    assert len(queries) == 1
    assert (again.name, again.url) == (seeded.name, seeded.url)
    # A setting changed: the row follows it, and what is returned is the row as written.
    settings.HUB_STOWRS_URL = "http://127.0.0.1:10/dicom-web"
    (moved,) = configured_destinations()
    assert moved.url == Destination.objects.get(name="archive").url == settings.HUB_STOWRS_URL
