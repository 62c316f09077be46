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

from encapsulate.context.capture import CaptureContext, Specialty
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
# A phone's picture or video of an ultrasound scanner's screen: Secondary
# Capture of the source's modality (PS3.3 C.7.3.1.1.1, C.8.6.1), never US data.
POCUS_SCREEN = IodChoice("Secondary Capture Image", SecondaryCaptureImageStorage, Modality.US)
POCUS_SCREEN_VIDEO = IodChoice(
    "Multi-frame True Color Secondary Capture Image",
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    Modality.US,
)
SECONDARY_CAPTURES = (SecondaryCaptureImageStorage, MultiFrameTrueColorSecondaryCaptureImageStorage)

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


def is_secondary_capture(iod: IodChoice) -> bool:
    return iod.sop_class_uid in SECONDARY_CAPTURES


def probe_export(context: CaptureContext, make: str | None) -> bool:
    """Whether a POCUS capture is the ultrasound device's own export.

    Only when the context says an ultrasound device sent it (``context.device``
    with modality US, as a POCUS dock's drop folder does) and the media carries
    no camera's make (EXIF or QuickTime): then it is US data, with the device as
    equipment. Anything else (a phone's photo or video of the scanner's screen,
    a screenshot from an app) is a screen capture: Secondary Capture, DERIVED,
    made by the phone, claiming no ultrasound acquisition.
    """
    device = context.device
    return device is not None and device.modality == Modality.US and not make


def capture_iod(context: CaptureContext, kind: MediaKind, *, make: str | None) -> IodChoice:
    """``choose_iod``, with POCUS told apart: probe export or screen capture."""
    pocus = context.specialty is Specialty.POCUS and kind is not MediaKind.DOCUMENT
    if pocus and not probe_export(context, make):
        return POCUS_SCREEN_VIDEO if kind is MediaKind.VIDEO else POCUS_SCREEN
    return choose_iod(context.specialty, kind)
