"""Turn non-DICOM medical photos (and later videos) into DICOM instances.

A pure library: media plus a frozen capture context in, PS3.10 files out. It
never imports Django, Celery, DRF or the hub (tests/encapsulate/test_purity.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from encapsulate.context import (
    BodySite,
    CaptureContext,
    Encounter,
    Order,
    Patient,
    Specialty,
    context_to_json,
    parse_context,
)
from encapsulate.errors import ContextError, EncapsulateError, MediaError, UnsupportedMediaError
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.media_info import MediaInfo
from encapsulate.output_file import write_atomically
from encapsulate.photo import pixel_stream, read_camera_jpeg
from encapsulate.sniff import MediaType, sniff, sniff_file
from encapsulate.vl_photographic import build_vl_photographic

__all__ = [
    "BodySite",
    "CaptureContext",
    "ContextError",
    "EncapsulateError",
    "Encounter",
    "InstanceIdentity",
    "MediaError",
    "MediaInfo",
    "MediaType",
    "Order",
    "Patient",
    "Producer",
    "Specialty",
    "UnsupportedMediaError",
    "WrittenInstance",
    "context_to_json",
    "inspect_media",
    "parse_context",
    "sniff",
    "sniff_file",
    "wrap",
]


@dataclass(frozen=True)
class WrittenInstance:
    """One DICOM file ``wrap`` wrote, and the UIDs the hub stores and sends."""

    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    transfer_syntax_uid: str
    derived: bool


def inspect_media(path: Path) -> MediaInfo:
    """Check the file's whole structure and describe it.

    Raises ``MediaError`` (empty, truncated, corrupt) or
    ``UnsupportedMediaError`` (text, a format not handled yet).
    """
    return read_camera_jpeg(Path(path)).info


def wrap(
    path: Path,
    *,
    context: CaptureContext,
    identity: InstanceIdentity,
    out_dir: Path,
    producer: Producer | None = None,
) -> list[WrittenInstance]:
    """Wrap one media file as DICOM in ``out_dir`` and describe what was written.

    A camera JPEG becomes one VL Photographic Image (PS3.3 A.32.4) named
    ``<SOP Instance UID>.dcm``. The same ``identity`` always gives the same
    file, so a retry overwrites it with identical content. Nothing is
    written unless everything succeeds.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"output folder {out_dir} does not exist")
    jpeg = read_camera_jpeg(Path(path))
    pixels = pixel_stream(jpeg)
    dataset = build_vl_photographic(
        pixels=pixels,
        info=jpeg.info,
        camera_stream_size=len(jpeg.data),
        context=context,
        identity=identity,
        producer=producer or Producer(),
    )
    target = write_atomically(dataset, out_dir / f"{identity.sop_instance_uid}.dcm")
    return [
        WrittenInstance(
            path=target,
            sop_class_uid=str(dataset.SOPClassUID),
            sop_instance_uid=identity.sop_instance_uid,
            series_instance_uid=identity.series_instance_uid,
            study_instance_uid=identity.study_instance_uid,
            transfer_syntax_uid=str(dataset.file_meta.TransferSyntaxUID),
            derived=pixels.derived,
        )
    ]
