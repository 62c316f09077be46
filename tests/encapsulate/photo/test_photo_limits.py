"""Bad photos are refused with one line and nothing written; sites and privacy rules."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encapsulate import (
    ContextError,
    InstanceIdentity,
    MediaError,
    UnsupportedMediaError,
    parse_context,
    wrap,
)
from encapsulate.context.body_sites import all_sites, body_site, find_site
from encapsulate.media.exif import read_exif
from encapsulate.media.sniff import sniff
from encapsulate.photo.structure import walk_isobmff, walk_png, walk_webp
from tests.dicom_checks import dciodvfy_errors
from tests.media import make_jpeg
from tests.media_photos import (
    make_heic,
    make_jpeg_zip_polyglot,
    make_png,
    make_png_bomb,
    make_png_html_polyglot,
    make_tiff,
    make_webp,
    truncate,
)

BAD: dict[str, tuple[Callable[[Path], Path], str, type[Exception], str]] = {
    "bomb": (make_png_bomb, "b.png", UnsupportedMediaError, "the PNG declares 60000 x 60000"),
    "png-cut": (lambda p: truncate(make_png(p)), "t.png", MediaError, "the PNG is truncated"),
    "tiff-cut": (lambda p: truncate(make_tiff(p)), "t.tif", MediaError, "the TIFF"),
    "webp-cut": (lambda p: truncate(make_webp(p, lossless=True)), "t.webp", MediaError, "the WebP"),
    "heic-cut": (lambda p: truncate(make_heic(p)), "t.heic", MediaError, "the HEIF"),
    "jpeg-zip": (make_jpeg_zip_polyglot, "z.jpg", UnsupportedMediaError, "the file is both"),
    "png-html": (make_png_html_polyglot, "h.png", UnsupportedMediaError, "the file is a PNG with"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_with_one_line(tmp_path: Path, case: str) -> None:
    make, name, error, reason = BAD[case]
    source = make(tmp_path / name)
    out = tmp_path / "out"
    out.mkdir()
    context = parse_context({"patient": {"id": "M1"}})
    with pytest.raises(error) as caught:
        wrap(source, context=context, identity=InstanceIdentity.mint(), out_dir=out)
    assert caught.value.reason.startswith(reason), caught.value.reason
    assert "\n" not in caught.value.reason
    assert list(out.iterdir()) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=600),
    st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBP"]),
)
def test_sniffer_and_metadata_readers_only_raise_media_errors(blob: bytes, prefix: bytes) -> None:
    data = prefix + blob
    sniff(data[:512])
    read_exif(b"Exif\x00\x00" + blob)
    for walker in (walk_png, walk_webp, walk_isobmff):
        with contextlib.suppress(MediaError):
            walker(data)


def test_body_site_table() -> None:
    assert body_site("SCT:30021000") == ("Lower leg", "4031")
    assert body_site("SCT:110861005") == ("Esophagus, stomach and duodenum", "4040")
    assert body_site("SCT:22180002") == ("Skin of buttock", "4029")
    assert find_site("fundus").meaning == "Retina"
    assert len({s.code for s in all_sites()}) == len(all_sites())
    with pytest.raises(ContextError):
        body_site("SCT:1")


def _wrap(tmp_path: Path, context: dict) -> pydicom.Dataset:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    source = make_jpeg(tmp_path / "p.jpg", width=64, height=48)
    [written] = wrap(
        source, context=parse_context(context), identity=InstanceIdentity.mint(), out_dir=out
    )
    assert dciodvfy_errors(written.path) == []
    return pydicom.dcmread(written.path)


def test_code_only_site_gets_its_meaning_and_modifier(tmp_path: Path) -> None:
    ds = _wrap(
        tmp_path,
        {
            "patient": {"id": "M1"},
            "specialty": "dermoscopy",
            "body_site": {"code": "SCT:22180002", "laterality": "R"},
        },
    )
    region = ds.AnatomicRegionSequence[0]
    assert (region.CodeValue, region.CodeMeaning) == ("22180002", "Skin of buttock")
    assert region.AnatomicRegionModifierSequence[0].CodeMeaning == "Right"
    assert ds.Modality == "DMS" and ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.7"
    assert (ds.RecognizableVisualFeatures, ds.BurnedInAnnotation) == ("NO", "NO")


def test_paired_site_needs_a_side(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="paired structure"):
        _wrap(tmp_path, {"patient": {"id": "M1"}, "body_site": {"code": "SCT:30021000"}})


@pytest.mark.parametrize(
    ("specialty", "sop_class", "burned_in"),
    [
        ("endoscopy", "1.2.840.10008.5.1.4.1.1.77.1.1", "YES"),
        # A phone's photo of the scanner: a screen capture (iods.choice.probe_export).
        ("pocus", "1.2.840.10008.5.1.4.1.1.7", "YES"),
        ("ophthalmology", "1.2.840.10008.5.1.4.1.1.77.1.5.1", "NO"),
    ],
)
def test_specialty_iods(tmp_path: Path, specialty: str, sop_class: str, burned_in: str) -> None:
    context = {"patient": {"id": "M1"}, "specialty": specialty}
    if specialty == "ophthalmology":
        context["body_site"] = {"code": "SCT:5665001", "laterality": "L"}
    ds = _wrap(tmp_path, context)
    assert ds.SOPClassUID == sop_class
    assert ds.BurnedInAnnotation == burned_in
