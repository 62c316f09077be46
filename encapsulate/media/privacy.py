"""What a photo may reveal: Recognizable Visual Features and Burned In Annotation.

Both attributes (PS3.3 C.7.6.1, General Image; type 1 in the Dermoscopic and
multi-frame SC IODs) must be honest (STANDARDS.md, Privacy): a de-identifying
archive or a research export relies on them. The hub cannot read text in the
pixels, so Burned In Annotation comes from what each kind of capture usually
carries (an endoscopy processor or an ultrasound screen writes patient data
into the image); Recognizable Visual Features is YES when the specialty's
photos show the patient's face or when a face is found in the frame.

Metadata stripping (EXIF, XMP, IPTC, PNG text chunks, ...) is not here: the
hub never copies source metadata into its outputs, it re-encodes or copies
only the coded image (see ``photo.camera_jpeg`` and ``photo.raster_wrap``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from encapsulate.context.capture import Specialty
from encapsulate.dicom.enums import YesNo

# Face detection runs on a copy at most this many pixels on its long side: the
# Haar cascade's cost grows with the area, and a face that fills too little of
# such a view to be found is also hard to recognise (measured in the tests).
# At 480 (a 12 MP JPEG's 1/8-scale DCT decode, reduced a little) the smallest
# portrait found in a 12 MP frame is the one found at 640, for two thirds of
# the cascade's CPU (bench/face_cost.py).
FACE_DETECTION_SIDE = 480
# The smallest face looked for, as a fraction of the short side of that copy.
MIN_FACE_FRACTION = 0.08


@dataclass(frozen=True)
class PrivacyPolicy:
    """How a capture's privacy attributes are set.

    ``recognizable``: the specialty's photos show identifying features anyway
    (YES), or only when a face is detected (False). ``detect_faces``: run the
    face detector. ``burned_in_annotation``: the capture device writes text into
    the image.
    """

    recognizable: bool = False
    detect_faces: bool = True
    burned_in_annotation: bool = False


# Defaults per specialty, and why.
POLICIES: dict[Specialty, PrivacyPolicy] = {
    # Close-ups of skin or a wound: identifiable only if a face is in frame.
    Specialty.WOUND: PrivacyPolicy(),
    Specialty.BURN: PrivacyPolicy(),
    Specialty.DERMATOLOGY: PrivacyPolicy(),
    Specialty.GENERAL: PrivacyPolicy(),
    # Through a dermatoscope in contact with the skin: no face can be in frame.
    Specialty.DERMOSCOPY: PrivacyPolicy(detect_faces=False),
    # A fundus photo is not recognisable; an external eye photo may show a face.
    Specialty.OPHTHALMOLOGY: PrivacyPolicy(),
    # Inside the body; the video processor overlays name, date and scope data.
    Specialty.ENDOSCOPY: PrivacyPolicy(detect_faces=False, burned_in_annotation=True),
    # A POCUS still is a screen grab: the scanner writes patient data on it.
    Specialty.POCUS: PrivacyPolicy(detect_faces=False, burned_in_annotation=True),
}
# A screenshot shows whatever was on the screen, text included.
SCREENSHOT_POLICY = PrivacyPolicy(burned_in_annotation=True)


def default_policy(specialty: Specialty, *, screenshot: bool = False) -> PrivacyPolicy:
    if screenshot and specialty is Specialty.GENERAL:
        return SCREENSHOT_POLICY
    return POLICIES.get(specialty, PrivacyPolicy())


def faces_decide(specialty: Specialty) -> bool:
    """Whether counting faces can change a photo's Recognizable Visual Features.

    Not where the specialty's policy fixes it anyway (YES whatever is in frame,
    or no detector run), for a photo and a screenshot alike.
    """
    return any(
        policy.detect_faces and not policy.recognizable
        for policy in (default_policy(specialty), default_policy(specialty, screenshot=True))
    )


@dataclass(frozen=True)
class PrivacyFlags:
    """The attribute values for one image, and how they were decided."""

    recognizable_visual_features: str  # "YES" / "NO"
    burned_in_annotation: str  # "YES" / "NO"
    faces_found: int | None  # None when detection did not run or was unavailable


@functools.cache
def _cascade():  # type: ignore[no-untyped-def]
    """OpenCV's bundled frontal-face Haar cascade, or None where this OpenCV has none.

    OpenCV 5 moved the cascade classifier out of its main package; the 4.x
    wheels carry both the class and ``cv2.data.haarcascades``.
    """
    import cv2

    data = getattr(cv2, "data", None)
    if not hasattr(cv2, "CascadeClassifier") or data is None:
        return None
    cascade = cv2.CascadeClassifier(data.haarcascades + "haarcascade_frontalface_default.xml")
    return None if cascade.empty() else cascade


def face_detection_available() -> bool:
    return _cascade() is not None


def count_faces(pixels: np.ndarray, *, side: int = FACE_DETECTION_SIDE) -> int | None:
    """Frontal faces in an 8-bit RGB or grey image, found on a grey copy at most
    ``side`` pixels long; None when this OpenCV has no face detector."""
    cascade = _cascade()
    if cascade is None:
        return None
    import cv2

    grey = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    if grey.dtype != np.uint8:
        grey = (grey >> 8).astype(np.uint8)
    height, width = grey.shape
    scale = min(1.0, side / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    smallest = max(24, int(min(grey.shape) * MIN_FACE_FRACTION))
    faces = cascade.detectMultiScale(
        grey, scaleFactor=1.15, minNeighbors=6, minSize=(smallest, smallest)
    )
    return len(faces)


def video_privacy_flags(specialty: Specialty) -> PrivacyFlags:
    """The flags of a video of ``specialty``, from the same table as photos (POLICIES).

    The hub looks for faces in photos only; in a video where the policy says a
    face may be in frame (``detect_faces``), one cannot be ruled out: YES.
    """
    policy = default_policy(specialty)
    recognizable = policy.recognizable or policy.detect_faces
    return PrivacyFlags(
        recognizable_visual_features=YesNo.YES if recognizable else YesNo.NO,
        burned_in_annotation=YesNo.YES if policy.burned_in_annotation else YesNo.NO,
        faces_found=None,
    )


def privacy_flags(
    policy: PrivacyPolicy, pixels: np.ndarray | None, *, faces: int | None = None
) -> PrivacyFlags:
    """Apply ``policy`` to one image (``pixels`` upright, 8 or 16 bit).

    ``faces`` found at inspection saves looking again; without it the faces
    are counted on ``pixels`` here.
    """
    unchecked = False
    if policy.detect_faces and faces is None and pixels is not None:
        faces = count_faces(pixels)
        # Without a detector a face cannot be ruled out: say YES rather than
        # let a research export treat the photo as anonymous.
        unchecked = faces is None
    recognizable = policy.recognizable or bool(faces) or unchecked
    return PrivacyFlags(
        recognizable_visual_features=YesNo.YES if recognizable else YesNo.NO,
        burned_in_annotation=YesNo.YES if policy.burned_in_annotation else YesNo.NO,
        faces_found=faces,
    )
