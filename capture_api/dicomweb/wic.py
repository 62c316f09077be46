"""The IHE WIC form of STOW-RS: DICOM JSON or XML metadata plus bulk data parts.

Each dataset of the metadata names its media by BulkDataURI; the bulk part
whose Content-Location equals it is the capture's media, and the metadata
gives its context (patient, order, body site; the SOP class or `?specialty=`
the specialty). The hub makes its own instance of it, with its own UIDs: the
Referenced SOP Sequence names those, with Warning Reason B000 where they
differ from the client's.
"""

from __future__ import annotations

from django.conf import settings
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
    STUDY_INSTANCE_UID_MISMATCH,
    MetadataInvalid,
    StowRefused,
    WicInstance,
    wic_metadata_read,
    wic_xml_metadata_read,
)

JSON_TYPES = ("application/dicom+json", "application/json")
XML_TYPES = ("application/dicom+xml",)  # one Native DICOM Model dataset per part
METADATA_TYPES = JSON_TYPES + XML_TYPES
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


def wic_part_limit(headers: dict[str, str]) -> int:
    """The most bytes a WIC part may hold: metadata is small, bulk is a capture's media."""
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    return MAX_METADATA_BYTES if media in METADATA_TYPES else settings.HUB_MAX_UPLOAD_BYTES


def wic_store(
    request: Request, parts: list[Part], *, specialty: str | None, study: str | None = None
) -> tuple[list[dict], list[dict]]:
    """The Referenced and Failed SOP Sequence items for a WIC request's parts (all on disk).

    With `study` (POST /studies/{study}), a dataset of another study, or of none, is refused.
    """
    metadata = [part for part in parts if part.content_type in METADATA_TYPES]
    if not metadata:
        raise WicMalformed("the request has no application/dicom+json or +xml metadata part")
    bulk = {
        part.headers["content-location"]: part
        for part in parts
        if part.content_type not in METADATA_TYPES and "content-location" in part.headers
    }
    referenced: list[dict] = []
    failed: list[dict] = []
    used: set[str] = set()  # a received part is moved into the originals: one dataset each
    for meta in metadata:
        raw = meta.path.read_bytes()
        try:
            if meta.content_type in XML_TYPES:
                instances = [wic_xml_metadata_read(raw, specialty=specialty)]
            else:
                instances = wic_metadata_read(raw, specialty=specialty)
        except MetadataInvalid as error:
            raise WicMalformed(str(error)) from None
        for instance in instances:
            try:
                if isinstance(instance, StowRefused):
                    raise instance
                if study is not None and instance.study_instance_uid != study:
                    raise StowRefused(
                        f"the dataset is of study {instance.study_instance_uid or '(none)'}, "
                        f"not {study}",
                        code=STUDY_INSTANCE_UID_MISMATCH,
                        sop_class_uid=instance.sop_class_uid,
                        sop_instance_uid=instance.sop_instance_uid,
                    )
                referenced.append(_store(request, instance, bulk, used))
            except StowRefused as refused:
                failed.append(failure_item(refused))
    return referenced, failed


def _store(request: Request, instance: WicInstance, bulk: dict[str, Part], used: set[str]) -> dict:
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
    if instance.bulk_data_uri in used:
        raise refused(f"the part {instance.bulk_data_uri} is already named by another dataset")
    suffix = BULK_SUFFIXES.get(part.content_type)
    if suffix is None:
        raise refused(f"bulk data of type {part.content_type} is not taken")
    used.add(instance.bulk_data_uri)
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
