"""The VL Photographic Image IOD (PS3.3 A.32.4) for a camera JPEG.

Attributes are grouped under the name of the module (PS3.3 section) they
belong to. The output is byte-for-byte reproducible from the same inputs (no
creation timestamps), so a retried task re-sends an identical instance.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence
from pydicom.uid import UID, JPEGBaseline8Bit, JPEGExtended12Bit

from encapsulate.context import CaptureContext
from encapsulate.dicom_modules import (
    add_anatomic_region,
    add_equipment,
    add_patient,
    add_series,
    add_sop_common,
    add_study,
    da,
    dt,
    new_dataset,
    tm,
)
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.media_info import MediaInfo
from encapsulate.photo import PixelStream

VL_PHOTOGRAPHIC_IMAGE = UID("1.2.840.10008.5.1.4.1.1.77.1.4")
# PS3.5 A.4.1: process 1 (SOF0) is .50, process 2 & 4 (SOF1, 8-bit) is .51.
TRANSFER_SYNTAX = {"baseline": JPEGBaseline8Bit, "extended": JPEGExtended12Bit}


def _ratio(uncompressed: int, compressed: int) -> str:
    return f"{uncompressed / max(compressed, 1):.2f}"


def build_vl_photographic(
    *,
    pixels: PixelStream,
    info: MediaInfo,
    camera_stream_size: int,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    sop_class_uid: str = VL_PHOTOGRAPHIC_IMAGE,
    modality: str = "XC",
) -> Dataset:
    """A VL Photographic Image dataset, with file meta, holding ``pixels``.

    ``sop_class_uid`` and ``modality`` let the other VL IODs that share these
    modules (VL Endoscopic, for one) use it; IOD-specific modules are the
    caller's to add.
    """
    frame = pixels.frame
    samples = len(frame.components)
    ts = TRANSFER_SYNTAX[frame.process]
    acquired = info.captured_at or context.captured_at
    site = context.body_site

    ds = new_dataset(sop_class_uid, identity, ts)
    add_sop_common(
        ds,
        context=context,
        producer=producer,
        contribution="Wrapped a camera JPEG as DICOM",
        acquired=acquired,
        extra_texts=(info.make, info.model),
    )
    add_patient(ds, context)
    add_study(ds, context, identity, acquired)
    add_series(ds, context, identity, modality=modality)
    add_equipment(ds, context, make=info.make, model=info.model)

    # General Image (C.7.6.1) and VL Image (C.8.12.1)
    ds.InstanceNumber = identity.instance_number
    ds.PatientOrientation = ""
    ds.ContentDate = da(acquired)
    ds.ContentTime = tm(acquired)
    if acquired is not None:
        ds.AcquisitionDateTime = dt(acquired)
    ds.ImageType = ["DERIVED" if pixels.derived else "ORIGINAL", "PRIMARY"]
    ds.ImageLaterality = (site.laterality if site else None) or "U"
    ds.BurnedInAnnotation = "NO"
    ds.RecognizableVisualFeatures = "NO"
    # The camera's JPEG is already lossy (PS3.3 C.7.6.1.1.5).
    ds.LossyImageCompression = "01"
    raw_size = info.rows * info.columns * samples
    if pixels.derived:
        ds.DerivationDescription = pixels.derivation
        ds.LossyImageCompressionRatio = [
            _ratio(raw_size, camera_stream_size),
            _ratio(raw_size, len(pixels.stream)),
        ]
        ds.LossyImageCompressionMethod = ["ISO_10918_1", "ISO_10918_1"]
    else:
        ds.LossyImageCompressionRatio = _ratio(raw_size, len(pixels.stream))
        ds.LossyImageCompressionMethod = "ISO_10918_1"
    add_anatomic_region(ds, site)

    # Acquisition Context (C.7.6.14): required, may be empty
    ds.AcquisitionContextSequence = Sequence()

    # Image Pixel (C.7.6.3) as constrained by VL Image (C.8.12.1.1)
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "MONOCHROME2" if samples == 1 else "YBR_FULL_422"
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.Rows = frame.rows
    ds.Columns = frame.columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if pixels.icc_profile is not None:
        # ICC Profile must equal the stream's APP2 profile (STANDARDS.md, Photos).
        ds.ICCProfile = pixels.icc_profile
    ds.PixelData = encapsulate([pixels.stream])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds
