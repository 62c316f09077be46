"""The Acquisition Context Sequence (0040,0555) of the VL image and video IODs
(PS3.3 C.7.6.14): empty, or the wound the photo shows.

A wound's photos carry its Tracking Identifier and Tracking Unique Identifier
(DCM 112039, 112040) as its SR Measurement Reports do in their TID 1410 group,
so an archive can follow the wound from the photos alone. Each item is a
Content Item Macro (PS3.3 Table 10-2), with the Value Types TID 1410 gives the
two concepts: TEXT (Text Value) and UIDREF (UID (0040,A124), type 1C on
UIDREF). dciodvfy's Content Item Macro takes UIDREF among its enumerated Value
Types (it refuses, say, SCOORD there) and asks for the UID with it.

The two concepts are written out rather than taken from
``pydicom.sr.codedict``: any ``pydicom.sr`` import loads its whole concept
dictionary, about a tenth of the command line's start-up for every photo
(tests/encapsulate/test_cli_imports.py).
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from encapsulate.context.capture import WoundTracking

# (Code Value, Coding Scheme Designator, Code Meaning), as PS3.16 Annex D lists them.
Concept = tuple[str, str, str]
TRACKING_IDENTIFIER: Concept = ("112039", "DCM", "Tracking Identifier")
TRACKING_UNIQUE_IDENTIFIER: Concept = ("112040", "DCM", "Tracking Unique Identifier")


def _concept(code: Concept) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code
    return item


def _item(value_type: str, name: Concept) -> Dataset:
    item = Dataset()
    item.ValueType = value_type
    item.ConceptNameCodeSequence = [_concept(name)]
    return item


def acquisition_context(tracking: WoundTracking | None) -> Sequence:
    """The sequence's items: none without a wound, else its two tracking items."""
    if tracking is None:
        return Sequence()
    identifier = _item("TEXT", TRACKING_IDENTIFIER)
    identifier.TextValue = tracking.identifier
    uid = _item("UIDREF", TRACKING_UNIQUE_IDENTIFIER)
    uid.UID = tracking.uid
    return Sequence([identifier, uid])
