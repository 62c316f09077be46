"""Reading a dropped file's capture context: file name, JSON sidecar, XML sidecar, none."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from mobile_client.agent.context_reading import (
    ContextRefused,
    SidecarMissing,
    read_context,
)
from mobile_client.agent.profiles import load_profiles, parse_profile

PROFILES = load_profiles()


def test_the_pocus_dock_reads_mrn_accession_and_time_from_the_name(tmp_path: Path) -> None:
    clip = tmp_path / "MRN-0042_ACC-7_20261128_101500_lung.mp4"
    clip.write_bytes(b"x")

    found = read_context(clip, PROFILES["pocus-dock"])

    assert found.companions == ()
    context = found.context
    assert context["patient"] == {"id": "MRN-0042", "issuer": "HOSP"}
    assert context["order"] == {"accession_number": "ACC-7"}
    assert context["specialty"] == "pocus"
    captured = datetime.fromisoformat(context["captured_at"])
    assert captured.utcoffset() is not None  # the contract wants an offset
    assert captured.replace(tzinfo=None) == datetime(2026, 11, 28, 10, 15)


def test_a_name_that_does_not_match_has_no_patient_context(tmp_path: Path) -> None:
    clip = tmp_path / "export_0001.mp4"
    clip.write_bytes(b"x")

    with pytest.raises(ContextRefused, match=r"^no patient context: the file name does not match"):
        read_context(clip, PROFILES["pocus-dock"])


def test_an_impossible_date_in_the_name_is_refused(tmp_path: Path) -> None:
    clip = tmp_path / "MRN-0042_ACC-7_20261399_101500.mp4"
    clip.write_bytes(b"x")

    with pytest.raises(ContextRefused, match="not valid"):
        read_context(clip, PROFILES["pocus-dock"])


def test_the_tower_takes_the_json_sidecar_over_the_profile(tmp_path: Path) -> None:
    clip = tmp_path / "clip01.mpg"
    clip.write_bytes(b"x")
    sidecar = tmp_path / "clip01.json"
    sidecar.write_text(
        json.dumps(
            {
                "patient": {"id": "MRN-0042", "issuer": "HOSP"},
                "order": {"accession_number": "ACC-9"},
                "description": "Colonoscopy",
            }
        )
    )

    found = read_context(clip, PROFILES["endoscopy-tower"])

    assert found.companions == (sidecar,)
    assert found.context == {
        "specialty": "endoscopy",
        "patient": {"id": "MRN-0042", "issuer": "HOSP"},
        "order": {"accession_number": "ACC-9"},
        "description": "Colonoscopy",
    }


def test_a_missing_or_broken_sidecar(tmp_path: Path) -> None:
    clip = tmp_path / "clip02.mpg"
    clip.write_bytes(b"x")
    with pytest.raises(SidecarMissing) as missing:
        read_context(clip, PROFILES["endoscopy-tower"])
    assert missing.value.sidecar == tmp_path / "clip02.json"

    (tmp_path / "clip02.json").write_text("{not json")
    with pytest.raises(ContextRefused, match=r"clip02\.json is not valid JSON"):
        read_context(clip, PROFILES["endoscopy-tower"])


def test_without_a_patient_a_station_profile_sends_a_device_context(tmp_path: Path) -> None:
    """The hub then matches the station's worklist by capture time."""
    clip = tmp_path / "clip02.mpg"
    clip.write_bytes(b"x")
    (tmp_path / "clip02.json").write_text('{"description": "no patient"}')

    found = read_context(clip, PROFILES["endoscopy-tower"])

    assert "patient" not in found.context
    assert found.context["device"] == {"station_aet": "ENDO-TOWER", "modality": "ES"}
    assert found.context["description"] == "no patient"


def test_an_xml_sidecar_through_the_profile_mapping(tmp_path: Path) -> None:
    profile = parse_profile(
        "legacy-tower",
        {
            "patterns": ["*.mpg"],
            "specialty": "endoscopy",
            "context": "sidecar-xml",
            "xml_map": {
                "patient.id": "Patient/ID",
                "patient.name": "Patient/Name",
                "order.accession_number": "Study/Accession",
                "department": "Station/Department",
            },
            "defaults": {"institution": "General Hospital", "patient": {"issuer": "HOSP"}},
        },
    )
    clip = tmp_path / "case.mpg"
    clip.write_bytes(b"x")
    (tmp_path / "case.xml").write_text(
        "<Export><Patient><ID> MRN-0042 </ID><Name>DOE^JANE</Name></Patient>"
        "<Study><Accession>ACC-7</Accession></Study><Station><Department/></Station></Export>"
    )

    found = read_context(clip, profile)

    assert found.context == {
        "specialty": "endoscopy",
        "institution": "General Hospital",
        "patient": {"issuer": "HOSP", "id": "MRN-0042", "name": "DOE^JANE"},
        "order": {"accession_number": "ACC-7"},
    }


def test_no_context_source_needs_a_patient_from_the_profile(tmp_path: Path) -> None:
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(b"x")
    bare = parse_profile("ward-camera", {"patterns": ["*.jpg"]})
    station = parse_profile("ward-dock", {"patterns": ["*.jpg"], "station": "WARD-7"})

    with pytest.raises(ContextRefused, match=r"^no patient context: profile 'ward-camera'"):
        read_context(photo, bare)
    assert read_context(photo, station).context["device"] == {"station_aet": "WARD-7"}

    research = parse_profile(
        "phantom-bench", {"patterns": ["*.jpg"], "defaults": {"patient": {"id": "PHANTOM-1"}}}
    )
    assert read_context(photo, research).context == {
        "specialty": "general",
        "patient": {"id": "PHANTOM-1"},
    }
