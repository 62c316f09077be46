"""What the Ophthalmic Photography 8 Bit Image IOD (PS3.3 A.39.1) adds to the VL image core.

Only what dciodvfy and PS3.3 Annex A require beyond the shared modules; values
the hub cannot know are left empty where the attribute is type 2 (PS3.5 7.4.1).
"""

from __future__ import annotations

from datetime import datetime

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from encapsulate.context.capture import CaptureContext
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
    """Ophthalmic Photography 8 Bit (A.39.1): Synchronization, Multi-frame (one
    frame), and the acquisition and photographic parameters modules."""
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
