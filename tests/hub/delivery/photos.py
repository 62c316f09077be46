"""Small DICOM files made by code for the delivery tests."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit, generate_uid

VL_PHOTOGRAPHIC_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.77.1.4"


def write_photo(path: Path, *, size: tuple[int, int] = (64, 48), noise: bool = False) -> Dataset:
    """Write a small VL Photographic Image with one JPEG frame to `path`."""
    width, height = size
    if noise:
        pixels = random.Random(path.name).randbytes(width * height * 3)
        image = Image.frombytes("RGB", size, pixels)
    else:
        image = Image.new("RGB", size, (200, 40, 40))
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=95)

    ds = Dataset()
    # SOP Common
    ds.SOPClassUID = VL_PHOTOGRAPHIC_IMAGE_STORAGE
    ds.SOPInstanceUID = generate_uid()
    # Patient, General Study, General Series
    ds.PatientName = "Test^Patient"
    ds.PatientID = "HUB-TEST-1"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "XC"
    # Image Pixel
    ds.Rows = height
    ds.Columns = width
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = encapsulate([jpeg.getvalue()])

    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True)
    return ds
