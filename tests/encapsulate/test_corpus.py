"""The corpus: every specialty x media kind x context shape through dciodvfy.

Small generated media (tests/media*.py), so it runs in CI: each combination is
written, read back with pydicom and checked by dciodvfy with no error and no
warning beyond the documented ones (tests/dicom_checks.py). What the standard
cannot hold (an ophthalmic photo without an eye and its side) must be refused
with a reason a person can act on, and nothing written.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pydicom
import pytest

from encapsulate import ContextError, InstanceIdentity, Specialty, parse_context, wrap
from tests.dicom_checks import assert_dciodvfy_clean
from tests.media import make_jpeg
from tests.media_documents import make_pdf
from tests.media_photos import make_device_png, make_png
from tests.media_video import make_h264

# A body site per specialty: (code, paired).
SITES = {
    Specialty.WOUND: ("SCT:30021000", True),  # lower leg
    Specialty.BURN: ("SCT:85562004", True),  # hand
    Specialty.DERMATOLOGY: ("SCT:73897004", False),  # skin of face
    Specialty.DERMOSCOPY: ("SCT:66643007", False),  # skin of back
    Specialty.OPHTHALMOLOGY: ("SCT:5665001", True),  # retina
    Specialty.POCUS: ("SCT:818981001", False),  # abdomen
    Specialty.ENDOSCOPY: ("SCT:69695003", False),  # stomach
    Specialty.GENERAL: ("SCT:816094009", False),  # chest
}
PATIENT = {"id": "MRN-7", "issuer": "HOSP", "birth_date": "1961-04-02", "sex": "M"}
ORDER = {
    "accession_number": "ACC-1",
    "issuer": "HOSP",
    "requested_procedure_id": "RP-1",
    "scheduled_procedure_step_id": "SPS-1",
}
ENCOUNTER = {"id": "ENC-1", "issuer": "HOSP"}
DEVICE_MODALITIES = {
    Specialty.POCUS: "US",
    Specialty.ENDOSCOPY: "ES",
    Specialty.OPHTHALMOLOGY: "OP",
    Specialty.DERMOSCOPY: "DMS",
}
DEVICE_MODALITIES.update({s: "XC" for s in Specialty if s not in DEVICE_MODALITIES})


def _context(specialty: Specialty, shape: str) -> dict[str, Any]:
    code, paired = SITES[specialty]
    data: dict[str, Any] = {
        "patient": {**PATIENT, "name": "DOE^JOHN"},
        "specialty": specialty.value,
        "captured_at": "2026-11-28T10:15:00+01:00",
    }
    if shape == "full":  # order and encounter, a side, non-ASCII names
        data.update(order=ORDER, encounter=ENCOUNTER, institution="Hôpital Saint-Éloi")
        data["patient"]["name"] = "ÅSTRÖM^ZOË"
        data.update(operator="MÜLLER^JÖRG", description="Plaie de pression, 2ᵉ contrôle")
        data["body_site"] = {"code": code, "laterality": "L"} if paired else {"code": code}
    elif shape == "encounter":  # encounter-based imaging, a site without a side of its own
        data.update(encounter=ENCOUNTER, description="Review")
        data["body_site"] = {"code": code, "laterality": "R"} if paired else {"code": code}
    elif shape == "order":  # an order, both sides, a site the hub does not know
        data.update(order=ORDER)
        data["body_site"] = (
            {"code": code, "laterality": "B"}
            if paired
            else {"code": "SCT:12738006", "meaning": "Brain structure", "laterality": "U"}
        )
    elif shape == "device":  # a device's drop folder, matched to the patient
        data["device"] = {"station_aet": "DOCK1", "modality": DEVICE_MODALITIES[specialty]}
        data["body_site"] = {"code": code, "laterality": "L"} if paired else {"code": code}
    # "bare": patient only, nothing else
    return data


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    return {
        "photo": make_jpeg(folder / "photo.jpg", width=64, height=48),
        "screen": make_png(folder / "screen.png", width=48, height=32),
        "export": make_device_png(folder / "export.png", width=48, height=32),
        "video": make_h264(folder / "video.mp4", width=64, height=48, seconds=0.2),
        "document": make_pdf(folder / "document.pdf"),
    }


def _refusal(specialty: Specialty, kind: str, shape: str) -> str | None:
    """The reason a combination is refused, or None when it must be written."""
    photo = kind in ("photo", "screen", "export")
    if specialty is Specialty.OPHTHALMOLOGY and photo and shape == "bare":
        return "context.body_site is required for ophthalmic photos"
    return None


@pytest.mark.parametrize("shape", ["full", "encounter", "order", "device", "bare"])
@pytest.mark.parametrize("kind", ["photo", "screen", "export", "video", "document"])
@pytest.mark.parametrize("specialty", list(Specialty), ids=lambda s: s.value)
def test_corpus(media, tmp_path, specialty: Specialty, kind: str, shape: str) -> None:
    data = _context(specialty, shape)
    context = parse_context(copy.deepcopy(data))
    out = tmp_path / "out"
    out.mkdir()
    identity = InstanceIdentity.mint()
    reason = _refusal(specialty, kind, shape)
    if reason is not None:
        with pytest.raises(ContextError, match=reason):
            wrap(media[kind], context=context, identity=identity, out_dir=out)
        assert not list(out.iterdir())
        return
    written = wrap(media[kind], context=context, identity=identity, out_dir=out)
    assert written
    for instance in written:
        assert_dciodvfy_clean(instance.path)
        ds = pydicom.dcmread(instance.path, stop_before_pixels=True)
        assert ds.SOPClassUID == instance.sop_class_uid
        assert str(ds.PatientName) == data["patient"]["name"]
        assert ds.StudyInstanceUID == identity.study_instance_uid
        if shape == "full":
            assert ds.SpecificCharacterSet == "ISO_IR 192"
            assert ds.AdmissionID == "ENC-1"
        if "order" in data:
            assert ds.AccessionNumber == "ACC-1"
            assert ds.RequestAttributesSequence[0].RequestedProcedureID == "RP-1"
        else:
            assert ds.AccessionNumber == ""
        if specialty is Specialty.POCUS and kind != "document":
            # Only a device's own export is US data (iods.choice.probe_export).
            probe = shape == "device" and kind in ("export", "video")
            assert (ds.SOPClassUID.name.startswith("Ultrasound")) is probe
