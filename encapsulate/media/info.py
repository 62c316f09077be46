"""What a media file is, as the hub shows it before wrapping it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class MediaInfo:
    """Structure and capture facts of one media file.

    ``rows``/``columns`` are as stored; ``upright_rows``/``upright_columns``
    after the EXIF orientation (1..8) or a video's display rotation is
    applied, which is what the DICOM image will have. ``private_metadata``
    names what will be stripped. The fields after ``private_metadata`` are
    each one kind's own (JPEG structure, video stream, document) and None
    where they do not apply.
    """

    kind: str
    mime_type: str
    rows: int
    columns: int
    orientation: int
    upright_rows: int
    upright_columns: int
    captured_at: datetime | None
    make: str | None
    model: str | None
    private_metadata: tuple[str, ...]
    # Photos; `faces`: frontal faces found at inspection (None: not looked for)
    faces: int | None = None
    sof: str | None = None
    components: int | None = None
    subsampling: str | None = None
    # Video
    duration_seconds: float | None = None
    codec: str | None = None
    profile: str | None = None
    level: str | None = None
    frame_rate: float | None = None
    frame_count: int | None = None
    bit_depth: int | None = None
    rotation: int | None = None
    container: str | None = None
    has_audio: bool | None = None
    # Documents
    pages: int | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["captured_at"] = self.captured_at.isoformat() if self.captured_at else None
        data["private_metadata"] = list(self.private_metadata)
        return data
