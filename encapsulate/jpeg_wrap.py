"""A camera JPEG, described and wrapped (the handler for image/jpeg)."""

from __future__ import annotations

from pathlib import Path

from encapsulate.context import CaptureContext
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.media_info import MediaInfo
from encapsulate.output_file import write_atomically
from encapsulate.photo import pixel_stream, read_camera_jpeg
from encapsulate.vl_photographic import build_vl_photographic
from encapsulate.written import WrittenInstance


def inspect_jpeg(path: Path) -> MediaInfo:
    return read_camera_jpeg(path).info


def wrap_jpeg(
    path: Path,
    *,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    out_dir: Path,
) -> list[WrittenInstance]:
    """One VL Photographic Image (PS3.3 A.32.4) named ``<SOP Instance UID>.dcm``."""
    jpeg = read_camera_jpeg(path)
    pixels = pixel_stream(jpeg)
    dataset = build_vl_photographic(
        pixels=pixels,
        info=jpeg.info,
        camera_stream_size=len(jpeg.data),
        context=context,
        identity=identity,
        producer=producer,
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
