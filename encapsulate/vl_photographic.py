"""The VL image IODs a photo becomes (PS3.3 A.32.1 VL Endoscopic, A.32.4 VL
Photographic, A.32.11 Dermoscopic Photography, A.39.1 Ophthalmic Photography
8 Bit) and the US Image IOD (A.6.1) for a POCUS still.

They share the common modules (``dicom.modules``), General Image and Image
Pixel; what each IOD adds is in ``photo_iods``. Attributes are grouped under
the name of the module they belong to. The output is byte-for-byte
reproducible from the same inputs (no creation timestamps), so a retried task
re-sends an identical instance.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID

from encapsulate.context.body_sites import anatomic_region_sequence, resolve_site
from encapsulate.context.capture import CaptureContext, Specialty
from encapsulate.dicom.modules import (
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
from encapsulate.iod_choice import VL_PHOTOGRAPHIC, IodChoice
from encapsulate.media.info import MediaInfo
from encapsulate.media.privacy import PrivacyFlags
from encapsulate.photo import PixelStream
from encapsulate.photo_iods import add_iod_modules, check_iod_inputs, keeps_acquisition_context
from encapsulate.photo_pixels import EncodedPixels, from_camera_stream

VL_PHOTOGRAPHIC_IMAGE = UID(VL_PHOTOGRAPHIC.sop_class_uid)
# Anatomic Region Modifier carries the side where the site code has none (CID 4029 note 8).
_MODIFIER_SPECIALTIES = (Specialty.DERMATOLOGY, Specialty.DERMOSCOPY)


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
    acquired = info.captured_at or context.captured_at
    site = resolve_site(context.body_site)
    check_iod_inputs(iod, acquired=acquired, derived=pixels.derived)

    ds = new_dataset(iod.sop_class_uid, identity, pixels.transfer_syntax)
    add_sop_common(
        ds,
        context=context,
        producer=producer,
        contribution=contribution,
        acquired=acquired,
        extra_texts=(info.make, info.model, site.meaning if site else None),
    )
    add_patient(ds, context)
    add_study(ds, context, identity, acquired)
    add_series(ds, context, identity, modality=iod.modality)
    add_equipment(ds, context, make=info.make, model=info.model)

    # General Image (C.7.6.1) and VL Image (C.8.12.1)
    ds.InstanceNumber = identity.instance_number
    ds.PatientOrientation = ""
    if acquired is not None:
        # Type 1C in VL Image (C.8.12.1): left out rather than empty when unknown.
        ds.ContentDate = da(acquired)
        ds.ContentTime = tm(acquired)
        ds.AcquisitionDateTime = dt(acquired)
    ds.ImageType = ["DERIVED" if pixels.derived else "ORIGINAL", "PRIMARY"]
    ds.ImageLaterality = (site.laterality if site else None) or "U"
    ds.BurnedInAnnotation = privacy.burned_in_annotation
    ds.RecognizableVisualFeatures = privacy.recognizable_visual_features
    # PS3.3 C.7.6.1.1.5: "01" once the pixels have ever been lossy compressed.
    ds.LossyImageCompression = "01" if pixels.lossy else "00"
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
        # Acquisition Context (C.7.6.14): required, may be empty
        ds.AcquisitionContextSequence = []

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
    privacy: PrivacyFlags | None = None,
) -> Dataset:
    """A VL Photographic Image (or another VL IOD) holding a camera JPEG stream."""
    iod = IodChoice(VL_PHOTOGRAPHIC.name, sop_class_uid, modality)
    return build_photo_image(
        pixels=from_camera_stream(pixels, camera_stream_size=camera_stream_size),
        info=info,
        context=context,
        identity=identity,
        producer=producer,
        iod=iod,
        privacy=privacy or PrivacyFlags("NO", "NO", None),
        contribution="Wrapped a camera JPEG as DICOM",
    )
