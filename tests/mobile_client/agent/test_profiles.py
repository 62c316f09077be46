"""Device profiles: the shipped ones, a site's own, and mistakes reported by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobile_client.agent.profiles import ContextSource, ProfileError, load_profiles, parse_profile


def test_shipped_profiles_cover_tower_dock_and_photo_folder() -> None:
    profiles = load_profiles()

    tower = profiles["endoscopy-tower"]
    assert tower.specialty == "endoscopy"
    assert tower.context is ContextSource.SIDECAR_JSON
    assert {"*.mpg", "*.mp4", "*.jpg"} <= set(tower.patterns)
    assert tower.marker_for(Path("/x/clip01.mpg")) == Path("/x/clip01.mpg.done")
    dock = profiles["pocus-dock"]
    assert dock.context is ContextSource.FILENAME
    assert dock.filename_pattern is not None
    assert {"*.dcm", "*.mp4"} <= set(dock.patterns)
    assert dock.defaults["patient"]["issuer"] == "HOSP"
    assert profiles["photo-folder"].context is ContextSource.FILENAME
    assert all(p.quiet_seconds == 5.0 for p in profiles.values())


def test_a_site_file_adds_and_overrides(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text(
        """
[profiles.endoscopy-tower]
specialty = "endoscopy"
patterns = ["*.MPG"]
context = "sidecar-xml"
done_marker = "{stem}.ok"
quiet_seconds = 2
xml_map = { "patient.id" = "Patient/ID", "order.accession_number" = "Order/Accession" }

[profiles.ward-camera]
patterns = ["*.jpg"]
station = "WARD-7"
defaults = { institution = "General Hospital" }
"""
    )
    profiles = load_profiles(site)

    tower = profiles["endoscopy-tower"]
    assert tower.context is ContextSource.SIDECAR_XML
    assert tower.quiet_seconds == 2.0
    assert tower.marker_for(Path("/x/clip01.mpg")) == Path("/x/clip01.ok")
    assert dict(tower.xml_map)["patient.id"] == "Patient/ID"
    camera = profiles["ward-camera"]
    assert (camera.context, camera.specialty, camera.station) == (
        ContextSource.NONE,
        "general",
        "WARD-7",
    )
    assert "pocus-dock" in profiles


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"patterns": ["*.jpg"], "colour": "red"}, "unknown key 'colour'"),
        ({"patterns": []}, "patterns must be a non-empty list"),
        ({"patterns": ["*.jpg"], "specialty": "cardiology"}, "specialty must be one of"),
        ({"patterns": ["*.jpg"], "context": "psychic"}, "context must be one of"),
        ({"patterns": ["*.jpg"], "context": "filename"}, "needs a filename_pattern"),
        (
            {"patterns": ["*.jpg"], "context": "filename", "filename_pattern": "(?P<mrm>.+)"},
            "group 'mrm' is not one of",
        ),
        (
            {"patterns": ["*.jpg"], "context": "filename", "filename_pattern": "(unclosed"},
            "not a regular expression",
        ),
        ({"patterns": ["*.jpg"], "context": "sidecar-xml"}, 'needs xml_map."patient.id"'),
        ({"patterns": ["*.jpg"], "quiet_seconds": -1}, "quiet_seconds must be a number"),
    ],
)
def test_mistakes_name_the_profile_and_key(table: dict, message: str) -> None:
    with pytest.raises(ProfileError, match="profile 'tower'") as raised:
        parse_profile("tower", table)
    assert message in str(raised.value)


def test_an_unreadable_site_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[profiles.x\n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profiles(bad)
    with pytest.raises(ProfileError, match="cannot read"):
        load_profiles(tmp_path / "missing.toml")
