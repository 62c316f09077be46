"""Well-known DICOM UIDs (PS3.6 Annex A) that pydicom has no constant for.

SOP classes and transfer syntaxes come from ``pydicom.uid`` itself.
"""

from __future__ import annotations

from pydicom.uid import UID

# PS3.3 C.7.4.2: a synchronization frame of reference for UTC-stamped acquisitions.
UTC_SYNCHRONIZATION_FRAME_OF_REFERENCE = UID("1.2.840.10008.15.1.1")
