"""What the Dermoscopic Photography Image IOD (PS3.3 A.32.11) adds to the VL image core.

Only what dciodvfy and PS3.3 Annex A require beyond the shared modules; values
the hub cannot know are left empty where the attribute is type 2 (PS3.5 7.4.1).
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.media.info import MediaInfo

# PS3.15 E.1 (Basic Profile) replaces a Device Serial Number with a dummy value;
# the hub strips the camera's serial (STANDARDS.md, Privacy) yet the Enhanced
# General Equipment module needs one (type 1).
DUMMY_SERIAL_NUMBER = "REMOVED"
UNKNOWN = "UNKNOWN"


def _enhanced_general_equipment(ds: Dataset, info: MediaInfo, producer: Producer) -> None:
    """Enhanced General Equipment (C.7.5.2): all type 1."""
    ds.Manufacturer = info.make or UNKNOWN
    ds.ManufacturerModelName = info.model or UNKNOWN
    ds.DeviceSerialNumber = DUMMY_SERIAL_NUMBER
    ds.SoftwareVersions = producer.software_versions


def add_dermoscopic_modules(
    ds: Dataset, info: MediaInfo, identity: InstanceIdentity, producer: Producer
) -> None:
    """Dermoscopic Photography (A.32.11): Frame of Reference, Enhanced General
    Equipment, and the Dermoscopic Image module's type 2 acquisition facts."""
    # Frame of Reference (C.7.4.1): one per series, i.e. per lesion tracked over time.
    ds.FrameOfReferenceUID = generate_uid(
        entropy_srcs=[identity.series_instance_uid, "frame-of-reference"]
    )
    ds.PositionReferenceIndicator = ""
    _enhanced_general_equipment(ds, info, producer)
    ds.LightSourcePolarization = ""
    ds.EmitterColorTemperature = None
    ds.ContactMethod = ""
    ds.OpticalMagnificationFactor = None
