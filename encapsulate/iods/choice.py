"""Which DICOM object a capture becomes, by specialty and kind of media.

The table follows STANDARDS.md ("Which DICOM object for which capture"),
itself from PS3.3 Annex A and PS3.4 B.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydicom.uid import (
    UID,
    DermoscopicPhotographyImageStorage,
    EncapsulatedPDFStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    OphthalmicPhotography8BitImageStorage,
    OphthalmicPhotography16BitImageStorage,
    SecondaryCaptureImageStorage,
    UltrasoundImageStorage,
    UltrasoundMultiFrameImageStorage,
    VideoEndoscopicImageStorage,
    VideoPhotographicImageStorage,
    VLEndoscopicImageStorage,
    VLPhotographicImageStorage,
)

from encapsulate.context.capture import Specialty
from encapsulate.dicom.enums import Modality


class MediaKind(StrEnum):
    PHOTO = "photo"
    # A screen-rendered image (PNG, BMP, GIF): a screenshot more often than a photo.
    SCREEN = "screen"
    VIDEO = "video"
    DOCUMENT = "document"
    DICOM = "dicom"


@dataclass(frozen=True)
class IodChoice:
    name: str
    sop_class_uid: UID
    modality: Modality


VL_PHOTOGRAPHIC = IodChoice("VL Photographic Image", VLPhotographicImageStorage, Modality.XC)
VIDEO_PHOTOGRAPHIC = IodChoice(
    "Video Photographic Image", VideoPhotographicImageStorage, Modality.XC
)
VL_ENDOSCOPIC = IodChoice("VL Endoscopic Image", VLEndoscopicImageStorage, Modality.ES)
VIDEO_ENDOSCOPIC = IodChoice("Video Endoscopic Image", VideoEndoscopicImageStorage, Modality.ES)
DERMOSCOPIC = IodChoice(
    "Dermoscopic Photography Image", DermoscopicPhotographyImageStorage, Modality.DMS
)
OPHTHALMIC_8BIT = IodChoice(
    "Ophthalmic Photography 8 Bit Image", OphthalmicPhotography8BitImageStorage, Modality.OP
)
OPHTHALMIC_16BIT = IodChoice(
    "Ophthalmic Photography 16 Bit Image", OphthalmicPhotography16BitImageStorage, Modality.OP
)
OPHTHALMIC = (OPHTHALMIC_8BIT, OPHTHALMIC_16BIT)
US_IMAGE = IodChoice("Ultrasound Image", UltrasoundImageStorage, Modality.US)
US_MULTIFRAME = IodChoice(
    "Ultrasound Multi-frame Image", UltrasoundMultiFrameImageStorage, Modality.US
)
SECONDARY_CAPTURE = IodChoice("Secondary Capture Image", SecondaryCaptureImageStorage, Modality.OT)
MULTIFRAME_TRUE_COLOR_SC = IodChoice(
    "Multi-frame True Color Secondary Capture Image",
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    Modality.OT,
)
ENCAPSULATED_PDF = IodChoice("Encapsulated PDF", EncapsulatedPDFStorage, Modality.DOC)

_PHOTO = {
    Specialty.ENDOSCOPY: VL_ENDOSCOPIC,
    Specialty.DERMOSCOPY: DERMOSCOPIC,
    Specialty.OPHTHALMOLOGY: OPHTHALMIC_8BIT,
    Specialty.POCUS: US_IMAGE,
}
_VIDEO = {
    Specialty.ENDOSCOPY: VIDEO_ENDOSCOPIC,
    Specialty.POCUS: US_MULTIFRAME,
}


def choose_iod(specialty: Specialty, kind: MediaKind) -> IodChoice:
    """The IOD for a capture; the photo and video defaults are the VL Photographic ones.

    A screen image (PNG, BMP, GIF) of no particular specialty is Secondary
    Capture (PS3.3 A.8.1): cameras do not write those formats, so it is most
    likely a screenshot, and SC makes no claim about an acquisition. With a
    specialty it is that specialty's image (a wound app may export PNG; a
    POCUS still is a screen grab of the scanner). Photos of wounds, burns,
    dermatology and general practice are VL Photographic (A.32.4).
    """
    if kind is MediaKind.DOCUMENT:
        return ENCAPSULATED_PDF
    if kind is MediaKind.VIDEO:
        return _VIDEO.get(specialty, VIDEO_PHOTOGRAPHIC)
    if kind is MediaKind.SCREEN and specialty is Specialty.GENERAL:
        return SECONDARY_CAPTURE
    return _PHOTO.get(specialty, VL_PHOTOGRAPHIC)
