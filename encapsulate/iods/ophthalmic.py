"""What the Ophthalmic Photography 8 and 16 Bit Image IODs (PS3.3 A.39.1, A.39.2) add to
the VL image core.

Only what dciodvfy and PS3.3 Annex A require beyond the shared modules; values
the hub cannot know are left empty where the attribute is type 2 (PS3.5 7.4.1).
"""

from __future__ import annotations

from datetime import datetime

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from encapsulate.context.capture import BodySite, CaptureContext
from encapsulate.dicom.enums import ImageLaterality
from encapsulate.dicom.modules import code_item
from encapsulate.dicom.uids import UTC_SYNCHRONIZATION_FRAME_OF_REFERENCE
from encapsulate.errors import ContextError, UnsupportedMediaError

# PS3.16 CID 4202 Ophthalmic Photography Acquisition Device.
FUNDUS_CAMERA = ("409898007", "SCT", "Fundus Camera")
EXTERNAL_CAMERA = ("409903006", "SCT", "External Camera")
# Posterior segment structures (CID 4209) are photographed through a fundus camera.
_POSTERIOR = {"5665001", "81016008", "67046006", "68703001"}
# Frame Time (0018,1063), the Frame Increment Pointer of a single-frame OP image.
FRAME_TIME_TAG = 0x00181063
# SNOMED CT "Both eyes" (CID 4209): its Image Laterality can only be B.
BOTH_EYES = "SCT:40638003"
_SIDES = (ImageLaterality.RIGHT, ImageLaterality.LEFT, ImageLaterality.BOTH)


def ophthalmic_site(site: BodySite | None) -> BodySite:
    """The body site of an ophthalmic photo, with its side R, L or B.

    The Ophthalmic Photography Image module (PS3.3 C.8.17.2) requires Image
    Laterality R, L or B (U is not allowed) and the General Anatomy Mandatory
    Macro an Anatomic Region Sequence: without both the object would be
    invalid, so the capture is refused. "Both eyes" is B.
    """
    if site is None:
        raise ContextError(
            "context.body_site is required for ophthalmic photos: name the structure imaged "
            "(e.g. SCT:81745001 Eye, SCT:5665001 Retina) and its laterality R, L or B"
        )
    laterality = site.laterality
    if site.code == BOTH_EYES:
        if laterality not in (None, ImageLaterality.BOTH):
            raise ContextError(
                f"context.body_site.laterality {laterality} contradicts Both eyes: leave it "
                "out or give B"
            )
        laterality = ImageLaterality.BOTH
    if laterality not in _SIDES:
        raise ContextError(
            "context.body_site.laterality must be R, L or B for ophthalmic photos "
            "(which eye; B for both)"
        )
    return BodySite(code=site.code, meaning=site.meaning, laterality=laterality)


def check_ophthalmic_inputs(*, acquired: datetime | None, derived: bool) -> None:
    """Refuse what the IOD cannot hold honestly, before anything is built.

    Ophthalmic Photography needs Content Date and Time (type 1, C.8.17.2), and a
    DERIVED image needs Image Type value 3 and its source images (C.8.17.2.1),
    which a converted phone photo does not have.
    """
    if acquired is None:
        raise ContextError(
            "context.captured_at is required for ophthalmic photos (the photo has no capture time)"
        )
    if derived:
        raise UnsupportedMediaError(
            "an ophthalmic photo must be stored as the camera made it, and this one needs "
            "converting (colour, transparency or rotation); send the camera's original"
        )


def add_ophthalmic_modules(ds: Dataset, context: CaptureContext) -> None:
    """Ophthalmic Photography 8 and 16 Bit (A.39.1, A.39.2): Synchronization,
    Multi-frame (one frame), the acquisition and photographic parameters modules,
    and Presentation LUT Shape for a monochrome image (C.8.17.2, type 1C)."""
    if ds.SamplesPerPixel == 1:
        ds.PresentationLUTShape = "IDENTITY"
    # Synchronization (C.7.4.2)
    ds.SynchronizationFrameOfReferenceUID = UTC_SYNCHRONIZATION_FRAME_OF_REFERENCE
    ds.SynchronizationTrigger = "NO TRIGGER"
    ds.AcquisitionTimeSynchronized = "N"
    # Multi-frame (C.7.6.6) and Cine: the IOD is multi-frame even for one photo.
    ds.NumberOfFrames = 1
    ds.FrameIncrementPointer = FRAME_TIME_TAG
    ds.FrameTime = 0
    # Ophthalmic Photography Acquisition Parameters (C.8.17.4), all type 2
    ds.PatientEyeMovementCommanded = ""
    ds.HorizontalFieldOfView = None
    ds.RefractiveStateSequence = Sequence()
    ds.EmmetropicMagnification = None
    ds.IntraOcularPressure = None
    ds.PupilDilated = ""
    # Ophthalmic Photographic Parameters (C.8.17.5)
    site = context.body_site
    device = FUNDUS_CAMERA if site is not None and site.value in _POSTERIOR else EXTERNAL_CAMERA
    ds.AcquisitionDeviceTypeCodeSequence = Sequence([code_item(*device)])
    ds.IlluminationTypeCodeSequence = Sequence()
    ds.LightPathFilterTypeStackCodeSequence = Sequence()
    ds.ImagePathFilterTypeStackCodeSequence = Sequence()
    ds.LensesCodeSequence = Sequence()
    ds.DetectorType = ""
