"""Turn non-DICOM medical media into DICOM instances (or originals with XDS metadata).

A pure library: media plus a frozen capture context in, PS3.10 files out. It
never imports Django, Celery, DRF or the hub (tests/encapsulate/test_purity.py).
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from encapsulate.context.capture import (
    BodySite,
    CaptureContext,
    Device,
    Encounter,
    Order,
    Patient,
    Specialty,
    StudyFacts,
)
from encapsulate.context.parse import context_to_json, parse_context
from encapsulate.errors import ContextError, EncapsulateError, MediaError, UnsupportedMediaError
from encapsulate.handlers import inspector, wrapper
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.media.info import MediaInfo
from encapsulate.media.privacy import faces_decide
from encapsulate.media.sniff import MediaType, identify, sniff, sniff_file
from encapsulate.written import WrittenInstance

if TYPE_CHECKING:
    from encapsulate.dicom.output_file import write_atomically
    from encapsulate.iods.rejection_note import RejectionReason, build_rejection_note
    from encapsulate.xds.metadata import describe_original
    from encapsulate.xds.mhd import mhd_provide_bundle
    from encapsulate.xds.original import EXTENSIONS as ORIGINAL_EXTENSIONS
    from encapsulate.xds.original import write_scrubbed_original
    from encapsulate.xds.policy import XdsPolicy

# What the hub uses beyond wrapping (originals with XDS metadata for MHD, the
# IOCM rejection note for withdrawals), imported on first use: pydicom's
# dataset, highdicom and fhir.resources take most of a second to import,
# which one photo through the command line should not pay for what it does
# not use. (module, name in it) for each.
_LAZY = {
    "ORIGINAL_EXTENSIONS": ("encapsulate.xds.original", "EXTENSIONS"),
    "RejectionReason": ("encapsulate.iods.rejection_note", "RejectionReason"),
    "XdsPolicy": ("encapsulate.xds.policy", "XdsPolicy"),
    "build_rejection_note": ("encapsulate.iods.rejection_note", "build_rejection_note"),
    "describe_original": ("encapsulate.xds.metadata", "describe_original"),
    "mhd_provide_bundle": ("encapsulate.xds.mhd", "mhd_provide_bundle"),
    "write_atomically": ("encapsulate.dicom.output_file", "write_atomically"),
    "write_scrubbed_original": ("encapsulate.xds.original", "write_scrubbed_original"),
}

__all__ = [
    "ORIGINAL_EXTENSIONS",
    "BodySite",
    "CaptureContext",
    "ContextError",
    "Device",
    "EncapsulateError",
    "Encounter",
    "InstanceIdentity",
    "MediaError",
    "MediaInfo",
    "MediaType",
    "Order",
    "Patient",
    "Producer",
    "RejectionReason",
    "Specialty",
    "StudyFacts",
    "UnsupportedMediaError",
    "WrittenInstance",
    "XdsPolicy",
    "build_rejection_note",
    "context_to_json",
    "describe_original",
    "identify",
    "inspect_media",
    "mhd_provide_bundle",
    "parse_context",
    "sniff",
    "sniff_file",
    "wrap",
    "write_atomically",
    "write_scrubbed_original",
]


def inspect_media(
    path: Path, *, specialty: Specialty | None = None, for_measurement: bool = False
) -> MediaInfo:
    """Check the file's whole structure and describe it.

    With ``specialty``, a photo's faces are counted only where they decide its
    Recognizable Visual Features (``media.privacy.faces_decide``); elsewhere
    ``MediaInfo.faces`` is None. ``for_measurement``: the photo is measured
    next in this process (``measure.measure_photo``), so a camera JPEG's faces
    are counted on the marker search's copy, decoded once for both.

    Raises ``MediaError`` (empty, truncated, corrupt) or
    ``UnsupportedMediaError`` (text, a format not handled yet).
    """
    path = Path(path)
    detect_faces = specialty is None or faces_decide(specialty)
    inspect = inspector(
        sniff_file(path), detect_faces=detect_faces, for_measurement=for_measurement
    )
    return inspect(path)


def wrap(
    path: Path,
    *,
    context: CaptureContext,
    identity: InstanceIdentity,
    out_dir: Path,
    producer: Producer | None = None,
    faces: int | None = None,
) -> list[WrittenInstance]:
    """Wrap one media file as DICOM in ``out_dir`` and describe what was written.

    The media type is sniffed from the content; its handler (see
    ``handlers``) chooses the object. The same ``identity`` always gives the
    same file(s), so a retry overwrites them with identical content. Nothing
    is written unless everything succeeds. ``faces`` is what ``inspect_media``
    found in a photo (``MediaInfo.faces``): given, the faces are not looked
    for again.
    """
    path, out_dir = Path(path), Path(out_dir)
    if context.patient is None:
        raise ContextError(
            "context.patient is required to write DICOM; a device capture is matched to a "
            "patient by the hub first"
        )
    if not out_dir.is_dir():
        raise FileNotFoundError(f"output folder {out_dir} does not exist")
    # Only photo inspectors count faces, so only photo wrappers are told.
    known = {"faces": faces} if faces is not None else {}
    return wrapper(sniff_file(path))(
        path,
        context=context,
        identity=identity,
        producer=producer or Producer(),
        out_dir=out_dir,
        **known,
    )


def __getattr__(name: str) -> object:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(where[0]), where[1])
    globals()[name] = value
    return value
