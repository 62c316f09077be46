"""The VL image IODs a photo becomes (PS3.3 A.32.1 VL Endoscopic, A.32.4 VL
Photographic, A.32.11 Dermoscopic Photography, A.39.1 Ophthalmic Photography
8 Bit) and the US Image IOD (A.6.1) for a POCUS still.

They share the common modules (``dicom.modules``), General Image and Image
Pixel; what the Dermoscopic and Ophthalmic IODs add is in ``dermoscopic`` and
``ophthalmic``. Attributes are grouped under
the name of the module they belong to. The output is byte-for-byte
reproducible from the same inputs (no creation timestamps), so a retried task
re-sends an identical instance.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate

from encapsulate.context.body_sites import anatomic_region_sequence, resolve_site
from encapsulate.context.capture import CaptureContext, Specialty
from encapsulate.dicom.enums import (
    ImageLaterality,
    PatientExaminationCharacteristics,
    PixelDataCharacteristics,
)
from encapsulate.dicom.modules import (
    add_common_modules,
    capture_moment,
    da,
    dt,
    lossy_image_compression,
    new_dataset,
    tm,
)
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.iods.acquisition_context import acquisition_context
from encapsulate.iods.choice import DERMOSCOPIC, OPHTHALMIC, US_IMAGE, IodChoice
from encapsulate.iods.dermoscopic import add_dermoscopic_modules
from encapsulate.iods.ophthalmic import (
    add_ophthalmic_modules,
    check_ophthalmic_inputs,
    ophthalmic_site,
)
from encapsulate.media.info import MediaInfo
from encapsulate.media.privacy import PrivacyFlags

if TYPE_CHECKING:
    # Only the type: the photo path makes the pixels and calls this module.
    from encapsulate.photo.pixels import EncodedPixels

# Anatomic Region Modifier carries the side where the site code has none (CID 4029 note 8).
_MODIFIER_SPECIALTIES = (Specialty.DERMATOLOGY, Specialty.DERMOSCOPY)


def check_iod_inputs(iod: IodChoice, *, acquired: datetime | None, derived: bool) -> None:
    """Refuse what ``iod`` cannot hold honestly (only Ophthalmic has such rules)."""
    if iod in OPHTHALMIC:
        check_ophthalmic_inputs(acquired=acquired, derived=derived)


def keeps_acquisition_context(iod: IodChoice) -> bool:
    """The US Image IOD has no Acquisition Context module (PS3.3 A.6.1)."""
    return iod.sop_class_uid != US_IMAGE.sop_class_uid


def add_iod_modules(
    ds: Dataset,
    iod: IodChoice,
    *,
    context: CaptureContext,
    info: MediaInfo,
    identity: InstanceIdentity,
    producer: Producer,
) -> None:
    """Add the modules ``iod`` needs beyond the VL image core (none for VL Photographic,
    VL Endoscopic and US Image)."""
    if iod.sop_class_uid == DERMOSCOPIC.sop_class_uid:
        add_dermoscopic_modules(ds, info, identity, producer)
    elif iod in OPHTHALMIC:
        add_ophthalmic_modules(ds, context)


def build_photo_image(
    *,
    pixels: EncodedPixels,
    info: MediaInfo,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    iod: IodChoice,
    privacy: PrivacyFlags,
    contribution: str,
) -> Dataset:
    """A dataset of the ``iod`` (a VL or US image IOD), with file meta, holding ``pixels``.

    Raises ``ContextError`` when the body site needs a side it was not given.
    """
    acquired = capture_moment(context, info.captured_at)
    site = resolve_site(context.body_site)
    if iod in OPHTHALMIC:
        site = ophthalmic_site(site)
    check_iod_inputs(iod, acquired=acquired, derived=pixels.derived)

    ds = new_dataset(iod.sop_class_uid, identity, pixels.transfer_syntax)
    add_common_modules(
        ds,
        context=context,
        identity=identity,
        producer=producer,
        contribution=contribution,
        acquired=acquired,
        modality=iod.modality,
        make=info.make,
        model=info.model,
        extra_texts=(info.make, info.model, site.meaning if site else None),
    )

    # General Image (C.7.6.1) and VL Image (C.8.12.1)
    ds.InstanceNumber = identity.instance_number
    ds.PatientOrientation = ""
    if acquired is not None:
        # Type 1C in VL Image (C.8.12.1): left out rather than empty when unknown.
        ds.ContentDate = da(acquired)
        ds.ContentTime = tm(acquired)
        ds.AcquisitionDateTime = dt(acquired)
    ds.ImageType = [
        PixelDataCharacteristics.DERIVED if pixels.derived else PixelDataCharacteristics.ORIGINAL,
        PatientExaminationCharacteristics.PRIMARY,
    ]
    ds.ImageLaterality = (site.laterality if site else None) or ImageLaterality.UNPAIRED
    ds.BurnedInAnnotation = privacy.burned_in_annotation
    ds.RecognizableVisualFeatures = privacy.recognizable_visual_features
    lossy = pixels.lossy
    if lossy is None and iod in (*OPHTHALMIC, US_IMAGE):
        # Type 1 in Ophthalmic Photography (C.8.17.2), 1C in US Image (C.8.5.6): a
        # lossless file the device exported is taken as never lossy; elsewhere
        # (type 2) an unknown history stays empty.
        lossy = False
    ds.LossyImageCompression = lossy_image_compression(lossy)
    if pixels.ratios:
        ds.LossyImageCompressionRatio = list(pixels.ratios)
    if pixels.methods:
        ds.LossyImageCompressionMethod = list(pixels.methods)
    if pixels.derivation:
        ds.DerivationDescription = pixels.derivation
    if site is not None:
        ds.AnatomicRegionSequence = anatomic_region_sequence(
            site, with_modifier=context.specialty in _MODIFIER_SPECIALTIES
        )

    if keeps_acquisition_context(iod):
        # Acquisition Context (C.7.6.14): required, empty unless the hub named the wound
        ds.AcquisitionContextSequence = acquisition_context(context.wound_tracking)

    # Image Pixel (C.7.6.3) as constrained by VL Image (C.8.12.1.1)
    ds.SamplesPerPixel = pixels.samples
    ds.PhotometricInterpretation = pixels.photometric
    if pixels.samples == 3:
        ds.PlanarConfiguration = 0
    ds.Rows = pixels.rows
    ds.Columns = pixels.columns
    ds.BitsAllocated = pixels.bits
    ds.BitsStored = pixels.bits
    ds.HighBit = pixels.bits - 1
    ds.PixelRepresentation = 0
    if pixels.icc_profile is not None:
        # ICC Profile must equal the stream's APP2 profile (STANDARDS.md, Photos).
        ds.ICCProfile = pixels.icc_profile
    add_iod_modules(ds, iod, context=context, info=info, identity=identity, producer=producer)
    ds.PixelData = encapsulate([pixels.frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds
