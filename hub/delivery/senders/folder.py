"""Folder export: a capture's PS3.10 files written into a directory (a share).

Each file lands as <Study UID>/<Series UID>/<SOP Instance UID>.dcm, written
under a temporary name, synced and renamed, so a reader of the share never
sees half a file; a re-send replaces the file under the same name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hub.captures.models import Capture
from hub.captures.storage import data_path, fsync_directory
from hub.delivery.errors import DeliveryError
from hub.delivery.senders.base import Receipt


def _write_atomically(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as data:
            shutil.copyfileobj(data, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        Path(temp_name).replace(target)
        fsync_directory(target.parent)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class FolderSender:
    root: Path

    def send(self, capture: Capture) -> Receipt:
        instances = list(capture.instances.all())
        if not instances:
            raise DeliveryError("the capture has no DICOM instance to export", transient=False)
        if not self.root.is_dir():
            # A share that is not mounted (yet): it may come back.
            raise DeliveryError(f"the export folder {self.root} is not there", transient=True)
        try:
            for instance in instances:
                target = (
                    self.root
                    / capture.study_instance_uid
                    / capture.series_instance_uid
                    / f"{instance.sop_instance_uid}.dcm"
                )
                _write_atomically(data_path(instance.path), target)
        except PermissionError as error:
            raise DeliveryError(
                f"the export folder {self.root} refuses the hub: {error.strerror}", transient=False
            ) from None
        except OSError as error:  # full, or the share went away mid-write
            raise DeliveryError(
                f"cannot write into {self.root}: {error.strerror or error}", transient=True
            ) from None
        return Receipt(
            stored_sop_instance_uids=tuple(i.sop_instance_uid for i in instances),
            retrieve_url=None,
        )
