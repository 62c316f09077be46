"""Which DICOM object a capture becomes, by specialty and kind of media.

The table follows STANDARDS.md ("Which DICOM object for which capture"),
itself from PS3.3 Annex A and PS3.4 B.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from encapsulate.context.capture import Specialty


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
    sop_class_uid: str
    modality: str


VL_PHOTOGRAPHIC = IodChoice("VL Photographic Image", "1.2.840.10008.5.1.4.1.1.77.1.4", "XC")
VIDEO_PHOTOGRAPHIC = IodChoice("Video Photographic Image", "1.2.840.10008.5.1.4.1.1.77.1.4.1", "XC")
VL_ENDOSCOPIC = IodChoice("VL Endoscopic Image", "1.2.840.10008.5.1.4.1.1.77.1.1", "ES")
VIDEO_ENDOSCOPIC = IodChoice("Video Endoscopic Image", "1.2.840.10008.5.1.4.1.1.77.1.1.1", "ES")
DERMOSCOPIC = IodChoice("Dermoscopic Photography Image", "1.2.840.10008.5.1.4.1.1.77.1.7", "DMS")
OPHTHALMIC_8BIT = IodChoice(
    "Ophthalmic Photography 8 Bit Image", "1.2.840.10008.5.1.4.1.1.77.1.5.1", "OP"
)
US_IMAGE = IodChoice("Ultrasound Image", "1.2.840.10008.5.1.4.1.1.6.1", "US")
US_MULTIFRAME = IodChoice("Ultrasound Multi-frame Image", "1.2.840.10008.5.1.4.1.1.3.1", "US")
SECONDARY_CAPTURE = IodChoice("Secondary Capture Image", "1.2.840.10008.5.1.4.1.1.7", "OT")
MULTIFRAME_TRUE_COLOR_SC = IodChoice(
    "Multi-frame True Color Secondary Capture Image", "1.2.840.10008.5.1.4.1.1.7.4", "OT"
)
ENCAPSULATED_PDF = IodChoice("Encapsulated PDF", "1.2.840.10008.5.1.4.1.1.104.1", "DOC")

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
