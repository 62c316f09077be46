"""The IHE WIC form of STOW-RS: DICOM JSON metadata plus bulk data parts.

Each dataset of the metadata names its media by BulkDataURI; the bulk part
whose Content-Location equals it is the capture's media, and the metadata
gives its context (patient, order, body site; the SOP class or `?specialty=`
the specialty). The hub makes its own instance of it, with its own UIDs: the
Referenced SOP Sequence names those, with Warning Reason B000 where they
differ from the client's.
"""

from __future__ import annotations

from rest_framework.request import Request

from capture_api.dicomweb.common import (
    COERCED,
    failure_item,
    part_submit,
    referenced_item,
)
from capture_api.dicomweb.multipart import Part
from hub.captures.stow import (
    CANNOT_UNDERSTAND,
    MetadataInvalid,
    StowRefused,
    WicInstance,
    wic_metadata_read,
)

METADATA_TYPES = ("application/dicom+json", "application/json")
MAX_METADATA_BYTES = 1024 * 1024
BULK_SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "video/mp4": ".mp4",
    "video/mpeg": ".mpg",
    "video/h265": ".mp4",
    "application/pdf": ".pdf",
}


class WicMalformed(Exception):
    pass


def wic_store(
    request: Request, parts: list[Part], *, specialty: str | None
) -> tuple[list[dict], list[dict]]:
    """The Referenced and Failed SOP Sequence items for a WIC request's parts (all on disk)."""
    metadata = [part for part in parts if part.content_type in METADATA_TYPES]
    if not metadata:
        raise WicMalformed("the request has no application/dicom+json metadata part")
    bulk = {
        part.headers["content-location"]: part
        for part in parts
        if part.content_type not in METADATA_TYPES and "content-location" in part.headers
    }
    referenced: list[dict] = []
    failed: list[dict] = []
    for meta in metadata:
        if meta.size > MAX_METADATA_BYTES:
            raise WicMalformed(f"a metadata part is over {MAX_METADATA_BYTES} bytes")
        try:
            instances = wic_metadata_read(meta.path.read_bytes(), specialty=specialty)
        except MetadataInvalid as error:
            raise WicMalformed(str(error)) from None
        for instance in instances:
            try:
                if isinstance(instance, StowRefused):
                    raise instance
                referenced.append(_store(request, instance, bulk))
            except StowRefused as refused:
                failed.append(failure_item(refused))
    return referenced, failed


def _store(request: Request, instance: WicInstance, bulk: dict[str, Part]) -> dict:
    def refused(reason: str) -> StowRefused:
        return StowRefused(
            reason,
            code=CANNOT_UNDERSTAND,
            sop_class_uid=instance.sop_class_uid,
            sop_instance_uid=instance.sop_instance_uid,
        )

    part = bulk.get(instance.bulk_data_uri)
    if part is None:
        raise refused(f"no part has Content-Location {instance.bulk_data_uri}")
    suffix = BULK_SUFFIXES.get(part.content_type)
    if suffix is None:
        raise refused(f"bulk data of type {part.content_type} is not taken")
    capture = part_submit(
        request,
        part,
        name=f"wic{suffix}",
        context=instance.context,
        sop_class_uid=instance.sop_class_uid,
        sop_instance_uid=instance.sop_instance_uid,
    )
    item = referenced_item(
        request,
        capture,
        sop_class_uid=instance.sop_class_uid,
        sop_instance_uid=capture.sop_instance_uid,
    )
    if instance.sop_instance_uid and instance.sop_instance_uid != capture.sop_instance_uid:
        item["00081196"] = {"vr": "US", "Value": [COERCED]}
    return item
