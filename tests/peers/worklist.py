"""Worklist entries for Orthanc's worklist plugin, and an Orthanc that checks who asks.

The plugin reads every `*.wl` file in its database folder on each C-FIND, so
entries written here are answered by the next query without a restart. Each
file is a PS3.10 file holding one worklist item (PS3.4 Table K.6-1), as
`dump2dcm +te` would write it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.peers.orthanc import OrthancPeer

# What dump2dcm puts in Media Storage SOP Class UID when the data set has no
# SOP Class UID (a worklist item has none): DCMTK's private "generic file".
DCMTK_GENERIC_FILE = "1.2.276.0.7230010.3.1.0.1"


class WorklistOrthancPeer(OrthancPeer):
    """Orthanc configured like a hospital's worklist provider.

    The base peer always allows C-FIND, which lets any calling AE title read
    the worklist; here only the titles in DicomModalities may (PS3.4 K.6 leaves
    that to the provider). Orthanc's DefaultEncoding is Latin1, and it
    re-encodes every answer to it, silently dropping characters Latin-1 lacks
    ("Łukasz" comes back as "ukasz"); Utf8 keeps every name.
    """

    def configuration(self) -> dict:
        config = super().configuration()
        config.update(
            DicomAlwaysAllowFind=False,
            DicomAlwaysAllowFindWorklist=False,
            DicomCheckCalledAet=True,
            DefaultEncoding="Utf8",
        )
        return config


@dataclass(frozen=True)
class WorklistEntry:
    """One scheduled procedure step as the order system would schedule it."""

    patient_id: str
    patient_name: str
    accession_number: str
    scheduled_start: datetime
    modality: str = "XC"
    station_aet: str = "WOUNDCAM"
    station_name: str = "WOUND CLINIC"
    issuer_of_patient_id: str = "HOSP"
    accession_number_issuer: str = "HOSP"
    birth_date: date | None = date(1970, 1, 1)
    sex: str = "O"
    requested_procedure_id: str = "RP1"
    requested_procedure_description: str = "Wound photography"
    step_id: str = "SPS1"
    step_description: str = "Wound photo"
    referring_physician: str = "Referrer^Rita"
    study_instance_uid: str = field(default_factory=lambda: str(generate_uid()))

    def dataset(self) -> Dataset:
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 192"
        # Patient Identification / Demographic (PS3.4 Table K.6-1)
        ds.PatientName = self.patient_name
        ds.PatientID = self.patient_id
        ds.IssuerOfPatientID = self.issuer_of_patient_id
        ds.PatientBirthDate = self.birth_date.strftime("%Y%m%d") if self.birth_date else ""
        ds.PatientSex = self.sex
        # Imaging Service Request
        ds.AccessionNumber = self.accession_number
        issuer = Dataset()
        issuer.LocalNamespaceEntityID = self.accession_number_issuer
        ds.IssuerOfAccessionNumberSequence = [issuer]
        ds.ReferringPhysicianName = self.referring_physician
        # Requested Procedure
        ds.RequestedProcedureID = self.requested_procedure_id
        ds.RequestedProcedureDescription = self.requested_procedure_description
        ds.StudyInstanceUID = self.study_instance_uid
        # Scheduled Procedure Step
        step = Dataset()
        step.Modality = self.modality
        step.ScheduledStationAETitle = self.station_aet
        step.ScheduledStationName = self.station_name
        step.ScheduledProcedureStepStartDate = self.scheduled_start.strftime("%Y%m%d")
        step.ScheduledProcedureStepStartTime = self.scheduled_start.strftime("%H%M%S")
        step.ScheduledProcedureStepID = self.step_id
        step.ScheduledProcedureStepDescription = self.step_description
        ds.ScheduledProcedureStepSequence = [step]
        return ds


def write_worklist(peer: OrthancPeer, entries: Iterable[WorklistEntry]) -> list[Path]:
    """Add each entry to the peer's worklist as `<accession>.wl`."""
    return [write_worklist_file(peer, entry.dataset(), entry.accession_number) for entry in entries]


def write_worklist_file(peer: OrthancPeer, ds: Dataset, name: str) -> Path:
    """Write any worklist data set, for entries `WorklistEntry` cannot describe."""
    ds.file_meta = Dataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = DCMTK_GENERIC_FILE
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    path = Path(peer.worklist_dir) / f"{name}.wl"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: the plugin may read the folder at any moment,
    # and it only reads names ending in .wl.
    partial = path.with_name(f".{uuid.uuid4().hex}.tmp")
    ds.save_as(partial, enforce_file_format=True)
    partial.replace(path)
    return path


def clear_worklist(peer: OrthancPeer) -> None:
    for path in Path(peer.worklist_dir).glob("*.wl"):
        path.unlink()
