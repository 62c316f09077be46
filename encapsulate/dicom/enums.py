"""Enumerated and defined terms of the attributes the hub writes, as highdicom names them.

Each is a ``StrEnum``, so a member is written as its value; the docstrings cite
where PS3.3 defines the terms.
"""

from __future__ import annotations

from enum import StrEnum


class Modality(StrEnum):
    """Modality (0008,0060) of the capture IODs (PS3.3 C.7.3.1.1.1)."""

    XC = "XC"  # External-camera photography
    ES = "ES"  # Endoscopy
    DMS = "DMS"  # Dermoscopy
    OP = "OP"  # Ophthalmic photography
    US = "US"  # Ultrasound
    OT = "OT"  # Other
    DOC = "DOC"  # Document


class ImageLaterality(StrEnum):
    """Image Laterality (0020,0062), PS3.3 C.7.6.2."""

    RIGHT = "R"
    LEFT = "L"
    BOTH = "B"
    UNPAIRED = "U"


class PixelDataCharacteristics(StrEnum):
    """Image Type (0008,0008) value 1, PS3.3 C.7.6.1.1.2."""

    ORIGINAL = "ORIGINAL"
    DERIVED = "DERIVED"


class PatientExaminationCharacteristics(StrEnum):
    """Image Type (0008,0008) value 2, PS3.3 C.7.6.1.1.2."""

    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"


class PhotometricInterpretation(StrEnum):
    """Photometric Interpretation (0028,0004) the hub writes, PS3.3 C.7.6.3.1.2."""

    MONOCHROME2 = "MONOCHROME2"
    RGB = "RGB"
    YBR_FULL_422 = "YBR_FULL_422"
    YBR_PARTIAL_420 = "YBR_PARTIAL_420"


class LossyImageCompression(StrEnum):
    """Lossy Image Compression (0028,2110), PS3.3 C.7.6.1.1.5."""

    NOT_LOSSY = "00"
    LOSSY = "01"


class LossyImageCompressionMethod(StrEnum):
    """Lossy Image Compression Method (0028,2114) defined terms, PS3.3 C.7.6.1.1.5.1."""

    JPEG = "ISO_10918_1"
    MPEG2 = "ISO_13818_2"
    H264 = "ISO_14496_10"
    HEVC = "ISO_23008_2"


class YesNo(StrEnum):
    """Burned In Annotation (0028,0301) and Recognizable Visual Features (0028,0302),
    PS3.3 C.7.6.1."""

    YES = "YES"
    NO = "NO"


class ConversionType(StrEnum):
    """Conversion Type (0008,0064) of the SC Equipment module, PS3.3 C.8.6.1."""

    WORKSTATION = "WSD"
    SCANNED_DOCUMENT = "SD"
    SCANNED_IMAGE = "SI"
