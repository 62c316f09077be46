"""A wound's photo objects carry its Tracking Identifier and Tracking UID in the
Acquisition Context Sequence (PS3.3 C.7.6.14), as its SR does in TID 1410."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pydicom
import pytest
from pydicom.sr.codedict import codes

from encapsulate import ContextError, InstanceIdentity, parse_context, wrap
from encapsulate.context.capture import WoundTracking
from tests.dicom_checks import assert_dciodvfy_clean
from tests.encapsulate.conftest import FULL_CONTEXT
from tests.media import make_jpeg, picture
from tests.media_video import make_h264

WOUND = WoundTracking(identifier="Wound 2, Lower leg, left", uid="2.25.31415926535897932384")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    png = folder / "p.png"
    picture(160, 120).save(png)
    return {
        "jpeg": make_jpeg(folder / "p.jpg", width=320, height=240),
        "png": png,
        "video": make_h264(folder / "v.mp4", seconds=0.3),
    }


def _wrapped(path: Path, tracking: WoundTracking | None, out: Path) -> pydicom.Dataset:
    out.mkdir()
    context = dataclasses.replace(
        parse_context(copy.deepcopy(FULL_CONTEXT)), wound_tracking=tracking
    )
    [written] = wrap(path, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert_dciodvfy_clean(written.path)
    return pydicom.dcmread(written.path, stop_before_pixels=True)


def _concept(item: pydicom.Dataset) -> tuple[str, str]:
    name = item.ConceptNameCodeSequence[0]
    return name.CodingSchemeDesignator, name.CodeValue


@pytest.mark.parametrize("kind", ["jpeg", "png", "video"])
def test_the_photo_object_carries_the_wounds_tracking_items(media, tmp_path, kind) -> None:
    ds = _wrapped(media[kind], WOUND, tmp_path / kind)
    identifier, uid = ds.AcquisitionContextSequence
    assert _concept(identifier) == ("DCM", codes.DCM.TrackingIdentifier.value) == ("DCM", "112039")
    assert (identifier.ValueType, identifier.TextValue) == ("TEXT", WOUND.identifier)
    assert _concept(uid) == ("DCM", codes.DCM.TrackingUniqueIdentifier.value) == ("DCM", "112040")
    assert (uid.ValueType, uid.UID) == ("UIDREF", WOUND.uid)
    assert "TextValue" not in uid


def test_without_a_wound_the_acquisition_context_stays_empty(media, tmp_path) -> None:
    ds = _wrapped(media["jpeg"], None, tmp_path / "plain")
    assert "AcquisitionContextSequence" in ds
    assert len(ds.AcquisitionContextSequence) == 0


def test_a_wound_tracking_needs_a_uid_and_a_short_label() -> None:
    with pytest.raises(ContextError, match="not a DICOM UID"):
        WoundTracking(identifier="Wound 1", uid="wound-1")
    with pytest.raises(ContextError, match="1 to 64"):
        WoundTracking(identifier="W" * 65, uid=WOUND.uid)
