"""The IHE WIC form with XML metadata (PS3.19 Native DICOM Model), one dataset per part."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pydicom
import pytest

from hub.accounts.roles import Role
from hub.captures.models import Capture
from hub.captures.storage import data_path
from tests.capture_api.test_dicomweb_wic import (
    ENCAPSULATED_PDF,
    LOWER_LEG_LEFT,
    VL_PHOTO,
    bulk_part,
    dataset,
    post_parts,
)
from tests.conftest import api_client_for
from tests.media import make_jpeg
from tests.media_documents import make_pdf

pytestmark = pytest.mark.django_db(transaction=True)

XML = "application/dicom+xml"
NAMESPACE = "http://dicom.nema.org/PS3.19/models/NativeDICOM"


@pytest.fixture
def token(transactional_db: None) -> str:
    return api_client_for("wic-xml-app", Role.CAPTURER).token  # type: ignore[attr-defined]


def native_xml(item: dict) -> bytes:
    """A DICOM JSON dataset written as the Native DICOM Model (PS3.19 A.1), as a client would."""
    root = ElementTree.Element("NativeDicomModel", xmlns=NAMESPACE)
    _attributes(root, item)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, "utf-8")


def _attributes(parent: ElementTree.Element, item: dict) -> None:
    for tag, element in item.items():
        attribute = ElementTree.SubElement(parent, "DicomAttribute", tag=tag, vr=element["vr"])
        if "BulkDataURI" in element:
            ElementTree.SubElement(attribute, "BulkData", uri=element["BulkDataURI"])
        for number, value in enumerate(element.get("Value", []), start=1):
            if element["vr"] == "SQ":
                _attributes(ElementTree.SubElement(attribute, "Item", number=str(number)), value)
            elif element["vr"] == "PN":
                name = ElementTree.SubElement(attribute, "PersonName", number=str(number))
                group = ElementTree.SubElement(name, "Alphabetic")
                components = ("FamilyName", "GivenName", "MiddleName", "NamePrefix", "NameSuffix")
                for component, text in zip(
                    components, value["Alphabetic"].split("^"), strict=False
                ):
                    ElementTree.SubElement(group, component).text = text
            else:
                ElementTree.SubElement(attribute, "Value", number=str(number)).text = str(value)


def test_xml_metadata_and_bulk_become_captures_with_the_metadata_context(
    live_server, token: str, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    pdf = make_pdf(tmp_path / "a.pdf").read_bytes()
    photo = dataset(VL_PHOTO, "bulk/photo", **LOWER_LEG_LEFT)
    report = dataset(ENCAPSULATED_PDF, "bulk/report", bulk_tag="00420011")

    response = post_parts(
        live_server,
        token,
        [
            ({"Content-Type": XML}, native_xml(photo)),
            bulk_part("bulk/report", "application/pdf", pdf),
            bulk_part("bulk/photo", "image/jpeg", jpeg),
            ({"Content-Type": f"{XML}; charset=utf-8"}, native_xml(report)),
        ],
        root_type=XML,
        query="?specialty=wound",
    )

    assert response.status_code == 200, response.text
    answer = pydicom.Dataset.from_json(response.json())
    assert "FailedSOPSequence" not in answer
    captured = Capture.objects.get(mime_type="image/jpeg")
    assert data_path(captured.original_path).read_bytes() == jpeg
    assert data_path(Capture.objects.get(mime_type="application/pdf").original_path).exists()
    context = captured.context
    patient = context["patient"]
    assert (patient["id"], patient["name"]) == ("MRN-0042", "DOE^JANE")
    assert (patient["birth_date"], patient["sex"]) == ("1950-01-31", "F")
    assert context["order"]["accession_number"] == "ACC-7"
    assert context["body_site"]["code"] == "SCT:30021000"
    assert context["body_site"]["laterality"] == "L"
    assert context["specialty"] == "wound"


def test_xml_with_an_entity_is_400_and_stores_nothing(
    live_server, token: str, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "a.jpg", width=64, height=48).read_bytes()
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<NativeDicomModel><DicomAttribute tag="00100020" vr="LO"><Value number="1">&e;'
        b"</Value></DicomAttribute></NativeDicomModel>"
    )
    response = post_parts(
        live_server,
        token,
        [({"Content-Type": XML}, hostile), bulk_part("bulk/1", "image/jpeg", jpeg)],
        root_type=XML,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_request"
    assert "refused" in response.json()["error"]["message"]
    assert Capture.objects.count() == 0
