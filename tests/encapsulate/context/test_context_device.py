"""Device captures: no patient, a station to match by; never written as DICOM unmatched."""

from __future__ import annotations

from pathlib import Path

import pytest

from encapsulate import ContextError, InstanceIdentity, context_to_json, parse_context, wrap
from tests.media import make_jpeg

DEVICE = {"station_aet": "ENDO1", "station_name": "ENDO ROOM 1", "modality": "ES"}


def test_a_device_context_needs_no_patient_and_round_trips() -> None:
    context = parse_context({"device": DEVICE, "specialty": "endoscopy"})

    assert context.patient is None
    assert context.device is not None and context.device.station_aet == "ENDO1"
    assert parse_context(context_to_json(context)) == context


@pytest.mark.parametrize(
    ("device", "words"),
    [
        ({"station_aet": "A" * 17}, "AE title"),
        ({"station_aet": "ENDO1", "modality": "endo"}, "modality code"),
        ({"station_name": "X"}, "context.device.station_aet is required"),
        ({"station_aet": "ENDO1", "room": "3"}, "room"),
    ],
)
def test_a_bad_device_is_refused(device: dict, words: str) -> None:
    with pytest.raises(ContextError, match=words):
        parse_context({"device": device})


def test_without_device_the_patient_is_still_required() -> None:
    with pytest.raises(ContextError, match=r"context\.patient is required"):
        parse_context({"specialty": "wound"})


def test_an_unmatched_device_capture_is_never_written(tmp_path: Path) -> None:
    photo = make_jpeg(tmp_path / "still.jpg", width=64, height=48)
    out = tmp_path / "out"
    out.mkdir()

    with pytest.raises(ContextError, match="patient is required to write DICOM"):
        wrap(
            photo,
            context=parse_context({"device": DEVICE}),
            identity=InstanceIdentity.mint(),
            out_dir=out,
        )
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("consent", [True, False, None])
def test_consent_round_trips(consent: bool | None) -> None:
    context = parse_context({"patient": {"id": "X"}, "consent": consent})
    assert context.consent is consent
    assert parse_context(context_to_json(context)) == context


def test_consent_must_be_a_boolean() -> None:
    with pytest.raises(ContextError, match=r"context\.consent must be true, false or null"):
        parse_context({"patient": {"id": "X"}, "consent": "yes"})
