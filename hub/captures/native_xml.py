"""The Native DICOM Model in XML (PS3.19 A.1) as DICOM JSON (PS3.18 F.2), to read it once.

A STOW-RS client may send its metadata as `application/dicom+xml`, one
`NativeDicomModel` per part (PS3.18 10.5.1.4). Converted here to the DICOM
JSON form, it then takes the same path as JSON metadata (`pydicom`'s
`Dataset.from_json`). The XML comes from the network: defusedxml parses it,
with no DTD, no entity and no external reference allowed.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

NAMESPACE = "http://dicom.nema.org/PS3.19/models/NativeDICOM"
INTEGER_VRS = frozenset({"IS", "SL", "SS", "UL", "US", "SV", "UV"})
DECIMAL_VRS = frozenset({"DS", "FL", "FD"})
# PS3.19 Table A.1.5-2 / PS3.5 6.2: the components of one person name group, in order.
NAME_COMPONENTS = ("FamilyName", "GivenName", "MiddleName", "NamePrefix", "NameSuffix")
NAME_GROUPS = ("Alphabetic", "Ideographic", "Phonetic")


class NativeXmlInvalid(Exception):
    """The part is not a Native DICOM Model document."""


def native_xml_to_json(raw: bytes) -> dict:
    """One `NativeDicomModel` document as one DICOM JSON dataset; raises NativeXmlInvalid."""
    try:
        root = defusedxml.ElementTree.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as error:
        raise NativeXmlInvalid(f"the XML is refused ({type(error).__name__})") from None
    except ParseError as error:
        raise NativeXmlInvalid(f"the metadata is not well-formed XML ({error})") from None
    if _name(root) != "NativeDicomModel":
        raise NativeXmlInvalid(f"the XML root is {_name(root)}, not NativeDicomModel")
    return _dataset(root)


def _name(element: Element) -> str:
    """The local name: the PS3.19 namespace is optional in what clients send."""
    return element.tag.rsplit("}", 1)[-1]


def _numbered(element: Element, name: str) -> list[Element]:
    children = [child for child in element if _name(child) == name]
    try:
        return sorted(children, key=lambda child: int(child.get("number", "0")))
    except ValueError:
        raise NativeXmlInvalid(f"a {name} has a number that is not an integer") from None


def _dataset(element: Element) -> dict:
    dataset: dict[str, dict] = {}
    for attribute in element:
        if _name(attribute) != "DicomAttribute":
            continue
        tag = (attribute.get("tag") or "").upper()
        if len(tag) != 8 or any(char not in "0123456789ABCDEF" for char in tag):
            raise NativeXmlInvalid(f"a DicomAttribute has tag {tag!r}, not 8 hexadecimal digits")
        vr = attribute.get("vr") or ""
        if len(vr) != 2:
            raise NativeXmlInvalid(f"DicomAttribute {tag} has no two-letter vr")
        dataset[tag] = _attribute(attribute, tag, vr)
    return dataset


def _attribute(attribute: Element, tag: str, vr: str) -> dict:
    out: dict[str, object] = {"vr": vr}
    if (bulk := next((c for c in attribute if _name(c) == "BulkData"), None)) is not None:
        if not bulk.get("uri"):
            raise NativeXmlInvalid(f"the BulkData of {tag} has no uri")
        out["BulkDataURI"] = bulk.get("uri")
        return out
    if (inline := next((c for c in attribute if _name(c) == "InlineBinary"), None)) is not None:
        out["InlineBinary"] = "".join((inline.text or "").split())
        return out
    if vr == "SQ":
        values: list[object] = [_dataset(item) for item in _numbered(attribute, "Item")]
    elif vr == "PN":
        values = [_person_name(name) for name in _numbered(attribute, "PersonName")]
    else:
        values = [_value(value.text or "", vr, tag) for value in _numbered(attribute, "Value")]
    if values:
        out["Value"] = values
    return out


def _value(text: str, vr: str, tag: str) -> object:
    try:
        if vr in INTEGER_VRS:
            return int(text.strip())
        if vr in DECIMAL_VRS:
            return float(text.strip())
    except ValueError:
        raise NativeXmlInvalid(f"{tag} ({vr}) has the value {text[:40]!r}") from None
    return text


def _person_name(element: Element) -> dict:
    name: dict[str, str] = {}
    for group in NAME_GROUPS:
        found = next((c for c in element if _name(c) == group), None)
        if found is None:
            continue
        parts = {_name(c): (c.text or "") for c in found}
        components = [parts.get(component, "") for component in NAME_COMPONENTS]
        name[group] = "^".join(components).rstrip("^")
    return name
