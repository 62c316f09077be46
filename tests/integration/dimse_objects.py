"""DICOM objects a device would send by C-STORE, made by code for the listener's tests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from tests.media import picture


def _patient_study_series(ds: Dataset, *, patient_id: str) -> None:
    # Patient, General Study, General Series, SC Equipment
    ds.PatientName = "DOE^JANE"
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19800101"
    ds.PatientSex = "F"
    ds.StudyInstanceUID = generate_uid()
    ds.StudyDate = "20261201"
    ds.StudyTime = "101500"
    ds.AccessionNumber = "ACC-7"
    ds.ReferringPhysicianName = ""
    ds.StudyID = "1"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 1
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""


def _saved(ds: Dataset, path: Path, transfer_syntax: str) -> Dataset:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True)
    return ds


def write_sc_photo(path: Path, *, patient_id: str = "MRN-0042") -> Dataset:
    """A Secondary Capture of a photo (JPEG baseline), as a phone app or a scanner sends one."""
    jpeg = io.BytesIO()
    picture(320, 240).convert("RGB").save(jpeg, "JPEG", quality=90)
    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    _patient_study_series(ds, patient_id=patient_id)
    # Image Pixel
    ds.Rows, ds.Columns = 240, 320
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.LossyImageCompression = "01"
    ds.PixelData = encapsulate([jpeg.getvalue()])
    return _saved(ds, path, JPEGBaseline8Bit)


def write_multiframe(path: Path, *, frames: int, rows: int = 480, columns: int = 640) -> Dataset:
    """A Multi-frame True Color SC, uncompressed: `frames` x rows x columns x 3 bytes of pixels."""
    ds = Dataset()
    ds.SOPClassUID = MultiFrameTrueColorSecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    _patient_study_series(ds, patient_id="MRN-0043")
    ds.Rows, ds.Columns = rows, columns
    ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.FrameIncrementPointer = 0x00181063
    ds.FrameTime = 40.0
    generator = np.random.default_rng(7)
    ds.PixelData = generator.integers(0, 255, rows * columns * 3 * frames, dtype=np.uint8).tobytes()
    return _saved(ds, path, ExplicitVRLittleEndian)
