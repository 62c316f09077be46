"""A camera JPEG becomes a valid VL Photographic Image without its private metadata."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import generate_frames

from encapsulate import (
    CaptureContext,
    InstanceIdentity,
    MediaError,
    UnsupportedMediaError,
    WrittenInstance,
    parse_context,
    wrap,
)
from encapsulate.media.privacy import face_detection_available
from encapsulate.photo.jpeg_markers import parse_jpeg
from tests.dicom_checks import assert_no_private_metadata, dciodvfy_errors, psnr, upright
from tests.media import make_jpeg, make_text_as_jpg, make_truncated_jpeg, srgb_profile

VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"
BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_LS = "1.2.840.10008.1.2.4.80"
EXTENDED = "1.2.840.10008.1.2.4.51"


def _wrap(
    source: Path, context: CaptureContext, out: Path, identity: InstanceIdentity | None = None
) -> tuple[WrittenInstance, pydicom.Dataset, bytes]:
    out.mkdir(exist_ok=True)
    [written] = wrap(
        source, context=context, identity=identity or InstanceIdentity.mint(), out_dir=out
    )
    # The digest taken while writing is the file's (the hub stores it, reading nothing again).
    assert written.sha256 == hashlib.sha256(written.path.read_bytes()).hexdigest()
    dataset = pydicom.dcmread(written.path)
    fragment = next(generate_frames(dataset.PixelData, number_of_frames=1))
    return written, dataset, fragment


def _decoded(stream: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(stream)))


def _check_common(
    written: WrittenInstance, dataset: pydicom.Dataset, fragment: bytes, source: Path
) -> float:
    """Validity, privacy and pixels; returns the PSNR against the upright source."""
    assert dciodvfy_errors(written.path) == []
    assert written.sop_class_uid == dataset.SOPClassUID == VL_PHOTO
    assert dataset.file_meta.TransferSyntaxUID == written.transfer_syntax_uid
    assert dataset.SOPInstanceUID == written.sop_instance_uid
    assert_no_private_metadata(written.path.read_bytes())
    reference = upright(Image.open(source))
    assert (dataset.Rows, dataset.Columns) == (reference.height, reference.width)
    lossless = dataset.file_meta.TransferSyntaxUID == JPEG_LS
    decoded = dataset.pixel_array if lossless else _decoded(fragment)
    quality = psnr(decoded, np.asarray(reference))
    assert quality >= 45
    assert list(written.path.parent.glob(".*.part")) == []
    return quality


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(("width", "height"), [(320, 240), (333, 251)], ids=["aligned", "ragged"])
def test_every_orientation_is_applied(
    tmp_path: Path, context: CaptureContext, orientation: int, width: int, height: int
) -> None:
    source = make_jpeg(tmp_path / "photo.jpg", width=width, height=height, orientation=orientation)
    written, dataset, fragment = _wrap(source, context, tmp_path / "out")
    quality = _check_common(written, dataset, fragment, source)
    # Transpose never needs whole edge MCUs; the other transforms do.
    lossless = (width, height) == (320, 240) or orientation in (1, 5)
    assert written.derived is not lossless
    assert dataset.LossyImageCompression == "01"
    assert dataset.LossyImageCompressionMethod == "ISO_10918_1"  # one lossy step
    if lossless:
        assert written.transfer_syntax_uid == BASELINE
        assert list(dataset.ImageType) == ["ORIGINAL", "PRIMARY"]
        if orientation == 1:
            assert "DerivationDescription" not in dataset
        else:
            # The turn is recorded, though no pixel value changed (issue 12, item 12).
            assert f"EXIF orientation {orientation} applied losslessly" in (
                dataset.DerivationDescription
            )
        # The transform moves DCT blocks; decoding after a rotation rounds slightly differently.
        assert quality == float("inf") if orientation == 1 else quality > 50
    else:
        # Decoded, turned and stored losslessly: no 4:4:4 JPEG labelled YBR_FULL_422.
        assert written.transfer_syntax_uid == JPEG_LS
        assert dataset.PhotometricInterpretation == "RGB"
        assert list(dataset.ImageType) == ["DERIVED", "PRIMARY"]
        assert f"EXIF orientation {orientation} applied by decoding" in (
            dataset.DerivationDescription
        )
        assert quality == float("inf")


def test_camera_bitstream_is_kept_byte_for_byte(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "photo.jpg", width=320, height=240, icc=True)
    data = source.read_bytes()
    structure = parse_jpeg(data)
    first_table = next(s.start for s in structure.segments if s.marker == 0xDB)
    _, _, fragment = _wrap(source, context, tmp_path / "out")
    # An odd-length stream gets one trailing NUL in its fragment (PS3.5 A.4).
    assert fragment.removesuffix(b"\x00").endswith(data[first_table : structure.end])


def test_progressive_becomes_baseline_losslessly(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "p.jpg", width=320, height=240, progressive=True)
    assert parse_jpeg(source.read_bytes()).frame.process == "progressive"
    written, dataset, fragment = _wrap(source, context, tmp_path / "out")
    assert _check_common(written, dataset, fragment, source) == float("inf")
    assert parse_jpeg(fragment).frame.process == "baseline"
    assert written.transfer_syntax_uid == BASELINE and not written.derived


def test_progressive_and_rotated(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "p.jpg", width=320, height=240, progressive=True, orientation=6)
    written, dataset, fragment = _wrap(source, context, tmp_path / "out")
    _check_common(written, dataset, fragment, source)
    assert parse_jpeg(fragment).frame.process == "baseline"


def test_grayscale_is_monochrome2(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "g.jpg", width=320, height=240, grayscale=True)
    written, dataset, fragment = _wrap(source, context, tmp_path / "out")
    assert _check_common(written, dataset, fragment, source) == float("inf")
    assert dataset.PhotometricInterpretation == "MONOCHROME2"
    assert dataset.SamplesPerPixel == 1
    assert "PlanarConfiguration" not in dataset


@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:2", "4:2:0"])
def test_colour_is_ybr_full_422(tmp_path: Path, context: CaptureContext, subsampling: str) -> None:
    source = make_jpeg(tmp_path / "c.jpg", width=320, height=240, subsampling=subsampling)
    written, dataset, fragment = _wrap(source, context, tmp_path / "out")
    assert _check_common(written, dataset, fragment, source) == float("inf")
    assert dataset.PhotometricInterpretation == "YBR_FULL_422"
    assert dataset.SamplesPerPixel == 3 and dataset.PlanarConfiguration == 0
    assert parse_jpeg(fragment).frame.subsampling == subsampling


def test_extended_keeps_its_transfer_syntax(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "e.jpg", width=320, height=240, extended=True)
    written, dataset, fragment = _wrap(source, context, tmp_path / "out")
    assert _check_common(written, dataset, fragment, source) == float("inf")
    assert written.transfer_syntax_uid == EXTENDED
    assert parse_jpeg(fragment).frame.process == "extended"


@pytest.mark.parametrize("orientation", [1, 6])
def test_icc_profile_is_kept_and_equal(
    tmp_path: Path, context: CaptureContext, orientation: int
) -> None:
    source = make_jpeg(tmp_path / "i.jpg", width=320, height=240, icc=True, orientation=orientation)
    written, dataset, fragment = _wrap(source, context, tmp_path / "out")
    _check_common(written, dataset, fragment, source)
    assert dataset.ICCProfile == srgb_profile() == parse_jpeg(fragment).icc_profile


def test_no_icc_profile_means_no_attribute(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "n.jpg", width=320, height=240)
    _, dataset, _ = _wrap(source, context, tmp_path / "out")
    assert "ICCProfile" not in dataset


@pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file")
def test_trailer_image_is_dropped(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "t.jpg", width=320, height=240, trailer=True)
    assert source.read_bytes().count(b"\xff\xd8\xff") >= 3  # main, thumbnail, trailer
    written, dataset, fragment = _wrap(source, context, tmp_path / "out")
    assert _check_common(written, dataset, fragment, source) == float("inf")


def test_order_attributes(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "o.jpg", width=320, height=240)
    identity = InstanceIdentity.mint()
    _, ds, _ = _wrap(source, context, tmp_path / "out", identity)
    assert ds.AccessionNumber == "ACC-7"
    assert ds.IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID == "HOSP"
    request = ds.RequestAttributesSequence[0]
    assert request.AccessionNumber == "ACC-7"
    assert request.StudyInstanceUID == ds.StudyInstanceUID == identity.study_instance_uid
    assert "PlacerOrderNumberImagingServiceRequest" not in request  # not in the macro


def test_encounter_based_imaging_attributes(
    tmp_path: Path, encounter_context: CaptureContext
) -> None:
    source = make_jpeg(tmp_path / "e.jpg", width=320, height=240)
    written, ds, fragment = _wrap(source, encounter_context, tmp_path / "out")
    _check_common(written, ds, fragment, source)
    assert ds.AccessionNumber == ""
    assert "RequestAttributesSequence" not in ds
    assert "IssuerOfAccessionNumberSequence" not in ds
    assert ds.AdmissionID == "ENC-9"
    assert ds.IssuerOfAdmissionIDSequence[0].LocalNamespaceEntityID == "HOSP"
    assert ds.IssuerOfPatientID == "HOSP"


def test_image_attributes(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "a.jpg", width=320, height=240)
    _, ds, _ = _wrap(source, context, tmp_path / "out")
    assert ds.Modality == "XC"
    assert (ds.PatientID, ds.PatientName, ds.PatientSex) == ("MRN-0042", "DOE^JANE", "F")
    assert ds.PatientBirthDate == "19500131"
    assert ds.ImageLaterality == "L"
    assert (0x0020, 0x0060) not in ds  # series Laterality: see PEERS.md
    region = ds.AnatomicRegionSequence[0]
    assert (region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning) == (
        "30021000",
        "SCT",
        "Lower leg",
    )
    assert ds.AcquisitionContextSequence == []
    assert ds.AcquisitionDateTime == "20261128101500+0100"
    assert (ds.StudyDate, ds.StudyTime, ds.ContentDate) == ("20261128", "101500", "20261128")
    assert ds.TimezoneOffsetFromUTC == "+0100"
    assert (ds.Manufacturer, ds.ManufacturerModelName) == ("FixtureCam", "FC-12 Pro")
    assert ds.ContributingEquipmentSequence[0].Manufacturer == "Capture Hub"
    assert (ds.InstitutionName, ds.InstitutionalDepartmentName) == (
        "General Hospital",
        "Wound care",
    )
    assert ds.OperatorsName == "NURSE^ANN"
    assert ds.SeriesDescription == ds.StudyDescription == "Pressure ulcer"
    # No face in the picture; without a detector a face cannot be ruled out (privacy.py).
    expected = "NO" if face_detection_available() else "YES"
    assert (ds.BurnedInAnnotation, ds.RecognizableVisualFeatures) == ("NO", expected)
    assert "SpecificCharacterSet" not in ds


def test_minimal_context_and_no_exif_time(tmp_path: Path) -> None:
    source = tmp_path / "plain.jpg"
    Image.new("RGB", (64, 48), (10, 120, 200)).save(source, quality=90)
    ctx = parse_context({"patient": {"id": "M1"}, "captured_at": "2026-01-02T03:04:05-05:00"})
    written, ds, _ = _wrap(source, ctx, tmp_path / "out")
    assert dciodvfy_errors(written.path) == []
    assert ds.AcquisitionDateTime == "20260102030405-0500"
    assert ds.ImageLaterality == "U"
    assert ds.Manufacturer == ""
    assert "AnatomicRegionSequence" not in ds


def test_non_ascii_sets_utf8(tmp_path: Path) -> None:
    source = make_jpeg(tmp_path / "u.jpg", width=64, height=48)
    ctx = parse_context({"patient": {"id": "M1", "name": "MÜLLER^JÖRG"}})
    written, ds, _ = _wrap(source, ctx, tmp_path / "out")
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert ds.PatientName == "MÜLLER^JÖRG"
    assert dciodvfy_errors(written.path) == []


def test_same_identity_same_instance(tmp_path: Path, context: CaptureContext) -> None:
    source = make_jpeg(tmp_path / "r.jpg", width=320, height=240, orientation=6)
    identity = InstanceIdentity.mint()
    first, _, _ = _wrap(source, context, tmp_path / "one", identity)
    second, _, _ = _wrap(source, context, tmp_path / "two", identity)
    assert first.sop_instance_uid == second.sop_instance_uid == identity.sop_instance_uid
    assert first.path.read_bytes() == second.path.read_bytes()


@pytest.mark.parametrize(
    ("make", "error", "reason"),
    [
        (lambda p: make_truncated_jpeg(p), MediaError, "the JPEG is truncated"),
        (lambda p: make_text_as_jpg(p), UnsupportedMediaError, "the file is text"),
        (lambda p: p.write_bytes(b"") and p, MediaError, "the file is empty"),
    ],
    ids=["truncated", "text", "empty"],
)
def test_bad_input_writes_nothing(
    tmp_path: Path, context: CaptureContext, make, error: type[Exception], reason: str
) -> None:
    source = tmp_path / "bad.jpg"
    make(source)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(error) as caught:
        wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert caught.value.reason.startswith(reason)
    assert list(out.iterdir()) == []


def test_unsupported_formats(tmp_path: Path, context: CaptureContext) -> None:
    animated = tmp_path / "a.gif"
    frames = [Image.new("RGB", (8, 8), (80 * i, 0, 255 - 80 * i)) for i in range(3)]
    frames[0].save(animated, save_all=True, append_images=frames[1:])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsupportedMediaError, match="holds 3 images"):
        wrap(animated, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert list(out.iterdir()) == []


def test_failed_write_leaves_no_file(
    tmp_path: Path, context: CaptureContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_jpeg(tmp_path / "w.jpg", width=64, height=48)

    def broken_save(self: pydicom.Dataset, stream: io.BufferedWriter, **_: object) -> None:
        stream.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pydicom.Dataset, "save_as", broken_save)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError, match="disk full"):
        wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert list(out.iterdir()) == []
