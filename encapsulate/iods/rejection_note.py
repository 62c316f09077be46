"""IHE IOCM rejection notes: a Key Object Selection that withdraws instances.

A rejection note (PS3.3 A.35.4, Key Object Selection Document; IHE RAD TF-1
IOCM) lists the instances an archive must stop showing, under a document
title from CID 7011 saying why. It lives in the rejected instances' own
study and patient, which is why it is built from their datasets.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.coding import Code

from encapsulate.errors import MediaError


class RejectionReason(Enum):
    """CID 7011 Rejected for Quality Reasons / IOCM document titles."""

    PATIENT_SAFETY = Code("113037", "DCM", "Rejected for Patient Safety Reasons")
    INCORRECT_WORKLIST_ENTRY = Code("113038", "DCM", "Incorrect Modality Worklist Entry")
    QUALITY = Code("113001", "DCM", "Rejected for Quality Reasons")


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
    return hd.ko.KeyObjectSelectionDocument(
        evidence=list(rejected),
        content=content,
        series_instance_uid=series_instance_uid,
        series_number=999,
        sop_instance_uid=sop_instance_uid,
        instance_number=1,
        manufacturer=manufacturer,
    )
