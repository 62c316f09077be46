"""The Secondary Capture Image IOD (PS3.3 A.8.1) for screenshots, built with highdicom.

highdicom's ``SCImage`` lays out the SC Equipment, SC Image and Image Pixel
modules and encodes the pixels; the hub then fills the common modules from
the capture context as for every other object (``dicom.modules``), and pins
the dates highdicom takes from the clock to the capture time, so the same
inputs give the same bytes. SC is the one photo IOD that takes 16-bit grey.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from highdicom.sc import SCImage
from pydicom.dataset import Dataset

from encapsulate.context.body_sites import anatomic_region_sequence, resolve_site
from encapsulate.context.capture import CaptureContext
from encapsulate.dicom.enums import (
    ConversionType,
    ImageLaterality,
    PatientExaminationCharacteristics,
    PhotometricInterpretation,
    PixelDataCharacteristics,
)
from encapsulate.dicom.modules import (
    add_common_modules,
    capture_moment,
    da,
    lossy_image_compression,
    tm,
)
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.iods.choice import SECONDARY_CAPTURE, IodChoice
from encapsulate.media.privacy import PrivacyFlags

if TYPE_CHECKING:
    # Only the type: the photo path decodes the image and calls this module.
    from encapsulate.photo.decode import RasterImage

# PS3.3 C.8.6.1: WSD, workstation — the image came from a screen; SI, scanned
# image — a camera's picture of a scanner's screen (a POCUS screen capture).
CONVERSION_TYPE = ConversionType.WORKSTATION
SCREEN_PICTURE_CONVERSION = ConversionType.SCANNED_IMAGE
_CLOCK_TIMES = ("InstanceCreationDate", "InstanceCreationTime")


def build_secondary_capture(
    *,
    raster: RasterImage,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    privacy: PrivacyFlags,
    transfer_syntax: str,
    iod: IodChoice = SECONDARY_CAPTURE,
) -> Dataset:
    """A Secondary Capture Image dataset with file meta; the pixels are stored losslessly."""
    pixels = raster.pixels
    colour = pixels.ndim == 3
    bits = 16 if pixels.dtype.itemsize == 2 else 8
    acquired = capture_moment(context, raster.info.captured_at)
    site = resolve_site(context.body_site)
    ds = SCImage(
        pixel_array=pixels,
        photometric_interpretation=(
            PhotometricInterpretation.RGB if colour else PhotometricInterpretation.MONOCHROME2
        ),
        bits_allocated=bits,
        coordinate_system="PATIENT",
        study_instance_uid=identity.study_instance_uid,
        series_instance_uid=identity.series_instance_uid,
        series_number=identity.series_number,
        sop_instance_uid=identity.sop_instance_uid,
        instance_number=identity.instance_number,
        manufacturer=raster.info.make or "",
        patient_orientation=("L", "P"),  # replaced below: a screenshot has none
        transfer_syntax_uid=transfer_syntax,
    )
    add_common_modules(
        ds,
        context=context,
        identity=identity,
        producer=producer,
        contribution=f"Wrapped a {raster.info.mime_type} image as DICOM Secondary Capture",
        acquired=acquired,
        modality=iod.modality,
        make=raster.info.make,
        model=raster.info.model,
        extra_texts=(raster.info.make, raster.info.model, site.meaning if site else None),
    )

    # SC Equipment (C.8.6.1)
    ds.ConversionType = (
        CONVERSION_TYPE if iod.modality == SECONDARY_CAPTURE.modality else SCREEN_PICTURE_CONVERSION
    )
    # General Image (C.7.6.1) and SC Image (C.8.6.2)
    ds.PatientOrientation = ""
    ds.ContentDate = da(acquired)
    ds.ContentTime = tm(acquired)
    for keyword in ("DateOfSecondaryCapture", "TimeOfSecondaryCapture", *_CLOCK_TIMES):
        if keyword in ds:
            delattr(ds, keyword)
    ds.ImageType = [
        PixelDataCharacteristics.DERIVED if raster.changes else PixelDataCharacteristics.ORIGINAL,
        PatientExaminationCharacteristics.SECONDARY,
    ]
    if raster.changes:
        ds.DerivationDescription = "; ".join(raster.changes)
    ds.ImageLaterality = (site.laterality if site else None) or ImageLaterality.UNPAIRED
    ds.BurnedInAnnotation = privacy.burned_in_annotation
    ds.RecognizableVisualFeatures = privacy.recognizable_visual_features
    ds.LossyImageCompression = lossy_image_compression(raster.source_lossy)
    if site is not None:
        ds.AnatomicRegionSequence = anatomic_region_sequence(site, with_modifier=False)
    if colour and raster.icc_profile is not None:
        ds.ICCProfile = raster.icc_profile
    return ds
