"""What a media file is, as the hub shows it before wrapping it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class MediaInfo:
    """Structure and capture facts of one media file.

    ``rows``/``columns`` are as stored; ``upright_rows``/``upright_columns``
    after the EXIF orientation (1..8) is applied, which is what the DICOM
    image will have. ``private_metadata`` names what will be stripped.
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
    sof: str
    components: int
    subsampling: str
    private_metadata: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["captured_at"] = self.captured_at.isoformat() if self.captured_at else None
        data["private_metadata"] = list(self.private_metadata)
        return data
