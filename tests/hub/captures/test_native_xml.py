"""PS3.19 Native DICOM Model XML read as the DICOM JSON it stands for; hostile XML refused."""

from __future__ import annotations

import pydicom
import pytest

from hub.captures.native_xml import NativeXmlInvalid, native_xml_to_json

PHOTO_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">
  <DicomAttribute tag="00080016" vr="UI" keyword="SOPClassUID">
    <Value number="1">1.2.840.10008.5.1.4.1.1.77.1.4</Value>
  </DicomAttribute>
  <DicomAttribute tag="00080008" vr="CS" keyword="ImageType">
    <Value number="2">PRIMARY</Value>
    <Value number="1">ORIGINAL</Value>
  </DicomAttribute>
  <DicomAttribute tag="00100010" vr="PN" keyword="PatientName">
    <PersonName number="1">
      <Alphabetic><FamilyName>M\xc3\xbcller</FamilyName><GivenName>J\xc3\xbcrgen</GivenName></Alphabetic>
    </PersonName>
  </DicomAttribute>
  <DicomAttribute tag="00100020" vr="LO" keyword="PatientID">
    <Value number="1">MRN-0042</Value>
  </DicomAttribute>
  <DicomAttribute tag="00200013" vr="IS" keyword="InstanceNumber">
    <Value number="1">7</Value>
  </DicomAttribute>
  <DicomAttribute tag="00280030" vr="DS" keyword="PixelSpacing">
    <Value number="1">0.25</Value><Value number="2">0.5</Value>
  </DicomAttribute>
  <DicomAttribute tag="00082218" vr="SQ" keyword="AnatomicRegionSequence">
    <Item number="1">
      <DicomAttribute tag="00080100" vr="SH"><Value number="1">30021000</Value></DicomAttribute>
      <DicomAttribute tag="00080102" vr="SH"><Value number="1">SCT</Value></DicomAttribute>
      <DicomAttribute tag="00080104" vr="LO"><Value number="1">Lower leg</Value></DicomAttribute>
    </Item>
  </DicomAttribute>
  <DicomAttribute tag="00081030" vr="LO" keyword="StudyDescription"/>
  <DicomAttribute tag="00291010" vr="OB" privateCreator="ACME"><InlineBinary>AAEC
  Aw==</InlineBinary></DicomAttribute>
  <DicomAttribute tag="7FE00010" vr="OB" keyword="PixelData">
    <BulkData uri="http://client/bulk/photo"/>
  </DicomAttribute>
</NativeDicomModel>
"""

PHOTO_JSON = {
    "00080016": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.77.1.4"]},
    "00080008": {"vr": "CS", "Value": ["ORIGINAL", "PRIMARY"]},
    "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Müller^Jürgen"}]},
    "00100020": {"vr": "LO", "Value": ["MRN-0042"]},
    "00200013": {"vr": "IS", "Value": [7]},
    "00280030": {"vr": "DS", "Value": [0.25, 0.5]},
    "00082218": {
        "vr": "SQ",
        "Value": [
            {
                "00080100": {"vr": "SH", "Value": ["30021000"]},
                "00080102": {"vr": "SH", "Value": ["SCT"]},
                "00080104": {"vr": "LO", "Value": ["Lower leg"]},
            }
        ],
    },
    "00081030": {"vr": "LO"},
    "00291010": {"vr": "OB", "InlineBinary": "AAECAw=="},
    "7FE00010": {"vr": "OB", "BulkDataURI": "http://client/bulk/photo"},
}


def test_the_xml_is_the_dataset_its_json_form_is() -> None:
    converted = native_xml_to_json(PHOTO_XML)

    assert converted == PHOTO_JSON
    uris: list[str] = []

    def bulk(tag: str, vr: str, uri: str) -> bytes:
        uris.append(uri)
        return b""

    ds = pydicom.Dataset.from_json(converted, bulk_data_uri_handler=bulk)
    assert str(ds.PatientName) == "Müller^Jürgen"
    assert ds.AnatomicRegionSequence[0].CodeValue == "30021000"
    assert ds.PixelSpacing == [0.25, 0.5]
    assert ds[0x00291010].value == b"\x00\x01\x02\x03"
    assert uris == ["http://client/bulk/photo"]


def test_the_namespace_may_be_left_out() -> None:
    xml = (
        b'<NativeDicomModel><DicomAttribute tag="00100020" vr="LO"><Value number="1">X</Value>'
        b"</DicomAttribute></NativeDicomModel>"
    )
    assert native_xml_to_json(xml) == {"00100020": {"vr": "LO", "Value": ["X"]}}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE NativeDicomModel [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<NativeDicomModel><DicomAttribute tag="00100020" vr="LO">
<Value number="1">&c;</Value></DicomAttribute></NativeDicomModel>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE NativeDicomModel [<!ENTITY id SYSTEM "file:///etc/hostname">]>
<NativeDicomModel><DicomAttribute tag="00100020" vr="LO">
<Value number="1">&id;</Value></DicomAttribute></NativeDicomModel>
"""
DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE NativeDicomModel SYSTEM "http://127.0.0.1:9/native.dtd">
<NativeDicomModel/>
"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY, DTD_ONLY])
def test_entities_and_document_types_are_refused(xml: bytes) -> None:
    with pytest.raises(NativeXmlInvalid, match="refused"):
        native_xml_to_json(xml)


@pytest.mark.parametrize(
    ("xml", "why"),
    [
        (b"<NativeDicomModel><DicomAttribute", "not well-formed"),
        (b"<Dataset/>", "not NativeDicomModel"),
        (b'<NativeDicomModel><DicomAttribute tag="0010" vr="LO"/></NativeDicomModel>', "tag"),
        (
            b'<NativeDicomModel><DicomAttribute tag="00200013" vr="IS"><Value number="1">seven'
            b"</Value></DicomAttribute></NativeDicomModel>",
            "value",
        ),
        (
            b'<NativeDicomModel><DicomAttribute tag="7FE00010" vr="OB"><BulkData uuid="x"/>'
            b"</DicomAttribute></NativeDicomModel>",
            "no uri",
        ),
    ],
)
def test_what_is_not_the_native_model_is_refused_with_its_reason(xml: bytes, why: str) -> None:
    with pytest.raises(NativeXmlInvalid, match=why):
        native_xml_to_json(xml)
