"""IHE IOCM rejection notes: a Key Object Selection that withdraws instances.

A rejection note (PS3.3 A.35.4, Key Object Selection Document; IHE RAD TF-1
IOCM) lists the instances an archive must stop showing, under a document
title from CID 7010 (Key Object Selection Document Title; the IOCM titles
are also CID 7031, Reason for Removal from Operational Use) saying why. It
lives in the rejected instances' own study and patient, which is why it is
built from their datasets, and carries their identifiers with the same
issuers, so an archive keyed on ID plus issuer finds them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from enum import Enum

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

from encapsulate.errors import MediaError


class RejectionReason(Enum):
    """The IOCM document titles of CID 7010 (Key Object Selection Document Title)."""

    PATIENT_SAFETY = Code("113037", "DCM", "Rejected for Patient Safety Reasons")
    INCORRECT_WORKLIST_ENTRY = Code("113038", "DCM", "Incorrect Modality Worklist Entry")
    QUALITY = Code("113001", "DCM", "Rejected for Quality Reasons")
    # The retention purge: instances removed because their retention period ended.
    DATA_RETENTION_POLICY_EXPIRED = Code("113039", "DCM", "Data Retention Policy Expired")


# Identifiers and their issuers the note repeats from the rejected instances
# (Patient C.7.1.1, General Study C.7.2.1, Patient Study C.7.2.2).
_IDENTITY = (
    "SpecificCharacterSet",
    "IssuerOfPatientID",
    "IssuerOfPatientIDQualifiersSequence",
    "AccessionNumber",
    "IssuerOfAccessionNumberSequence",
    "AdmissionID",
    "IssuerOfAdmissionIDSequence",
)


def build_rejection_note(
    rejected: Sequence[Dataset],
    *,
    reason: RejectionReason,
    series_instance_uid: str,
    sop_instance_uid: str,
    description: str,
    manufacturer: str = "Capture Hub",
) -> Dataset:
    """The KOS withdrawing `rejected` (all of one study)."""
    if not rejected:
        raise MediaError("a rejection note needs at least one instance to reject")
    studies = {str(ds.StudyInstanceUID) for ds in rejected}
    if len(studies) != 1:
        raise MediaError("a rejection note covers instances of one study; got several")
    content = hd.ko.KeyObjectSelection(
        document_title=reason.value,
        referenced_objects=list(rejected),
        description=description[:1024],
    )
    first = rejected[0]
    for keyword in ("PatientID", "IssuerOfPatientID", "AccessionNumber", "AdmissionID"):
        if len({str(ds.get(keyword, "")) for ds in rejected}) != 1:
            raise MediaError(f"the instances to reject differ in {keyword}; reject them apart")
    note = hd.ko.KeyObjectSelectionDocument(
        evidence=list(rejected),
        content=content,
        series_instance_uid=series_instance_uid,
        series_number=999,
        sop_instance_uid=sop_instance_uid,
        instance_number=1,
        manufacturer=manufacturer,
    )
    for keyword in _IDENTITY:
        if keyword in first:
            note[keyword] = copy.deepcopy(first[keyword])
    return note
