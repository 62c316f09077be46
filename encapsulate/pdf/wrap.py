"""A PDF, described and wrapped as an Encapsulated PDF instance (PS3.3 A.45.1).

The handler for application/pdf. The PDF is checked, refused if it carries
active content and stripped of its metadata first (``pdf.document``); the
scrubbed bytes are what the instance holds (``iods.encapsulated_pdf``).
"""

from __future__ import annotations

from pathlib import Path

from encapsulate.context.capture import CaptureContext
from encapsulate.dicom.output_file import write_atomically
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.iods.encapsulated_pdf import build_encapsulated_pdf
from encapsulate.media.info import MediaInfo
from encapsulate.pdf.document import read_pdf
from encapsulate.written import WrittenInstance


def inspect_pdf(path: Path) -> MediaInfo:
    return read_pdf(path).info


def wrap_pdf(
    path: Path,
    *,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    out_dir: Path,
) -> list[WrittenInstance]:
    """One Encapsulated PDF instance named ``<SOP Instance UID>.dcm``."""
    dataset = build_encapsulated_pdf(
        document=read_pdf(path), context=context, identity=identity, producer=producer
    )
    target = write_atomically(dataset, out_dir / f"{identity.sop_instance_uid}.dcm")
    # The PDF was rewritten without its metadata; its pages are unchanged.
    return [WrittenInstance.of(dataset, target, derived=False)]
