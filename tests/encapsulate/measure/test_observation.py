"""The FHIR WoundSize Observation: LOINC-coded components, references, R4 validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.observation import Observation

from encapsulate import BodySite, ContextError
from encapsulate.measure import measure_pixels
from encapsulate.measure.observation import WOUND_SIZE_PROFILE, wound_size_observation
from tests.encapsulate.measure.conftest import bgr, scene


@pytest.fixture(scope="module")
def measurement():
    shot = scene()
    return measure_pixels(bgr(shot.image), outline=shot.outline.tolist())


def test_observation_is_a_valid_wound_size_panel(measurement) -> None:
    resource = wound_size_observation(
        measurement,
        subject="Patient/p1",
        effective=datetime(2026, 11, 28, 9, 15, tzinfo=UTC),
        derived_from=["ImagingStudy/s1", "DocumentReference/d1"],
        encounter="Encounter/e1",
        body_site=BodySite(code="SCT:30021000", meaning="Lower leg", laterality="L"),
        focus="Condition/wound-1",
        identifier="urn:oid:2.25.42",
    )
    parsed = Observation.model_validate(resource)
    assert parsed.meta.profile == [WOUND_SIZE_PROFILE]
    assert (parsed.code.coding[0].system, parsed.code.coding[0].code) == (
        "http://loinc.org",
        "72287-6",
    )
    components = {c.code.coding[0].code: c.valueQuantity for c in parsed.component}
    assert set(components) == {"39126-8", "39125-0", "89260-4"}
    assert components["89260-4"].code == "cm2"
    assert float(components["89260-4"].value) == pytest.approx(measurement.size.area_cm2, abs=0.01)
    assert float(components["39126-8"].value) == pytest.approx(measurement.size.length_cm, abs=0.01)
    assert components["39125-0"].system == "http://unitsofmeasure.org"
    assert [r.reference for r in parsed.derivedFrom] == ["ImagingStudy/s1", "DocumentReference/d1"]
    assert parsed.subject.reference == "Patient/p1"
    assert parsed.encounter.reference == "Encounter/e1"
    assert parsed.focus[0].reference == "Condition/wound-1"
    assert parsed.bodySite.coding[0].code == "30021000"
    assert parsed.bodySite.text == "Lower leg, left"
    assert parsed.effectiveDateTime.isoformat().startswith("2026-11-28T09:15:00")


def test_observation_needs_the_photo_it_was_derived_from(measurement) -> None:
    with pytest.raises(ContextError, match="derived from the photo"):
        wound_size_observation(
            measurement, subject="Patient/p1", effective=datetime.now(UTC), derived_from=[]
        )


def test_observation_needs_an_effective_time_with_its_timezone(measurement) -> None:
    with pytest.raises(ContextError, match="timezone"):
        wound_size_observation(
            measurement,
            subject="Patient/p1",
            effective=datetime(2026, 11, 28, 9, 15),
            derived_from=["ImagingStudy/s1"],
        )


def test_observation_with_a_bad_reference_does_not_validate(measurement) -> None:
    with pytest.raises(ContextError, match="does not validate"):
        wound_size_observation(
            measurement,
            subject="Patient/p1",
            effective=datetime.now(UTC),
            derived_from=["ImagingStudy/s1"],
            encounter="",
        )
