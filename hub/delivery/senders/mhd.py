"""Delivering originals with XDS metadata to an MHD Document Recipient (IHE ITI-65).

The DocumentEntry is described from the very bytes kept for delivery
(`OriginalDocument`), and the ITI-65 Provide Document Bundle carries them as a
Binary, so hash and size agree by construction. Both are deterministic for a
capture, so a retried delivery re-sends the same entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from encapsulate import (
    EncapsulateError,
    InstanceIdentity,
    XdsPolicy,
    describe_original,
    inspect_media,
    mhd_provide_bundle,
    parse_context,
)
from hub.captures.models import Capture, OriginalDocument
from hub.captures.storage import data_path
from hub.delivery.errors import DeliveryError
from hub.delivery.senders.base import Receipt
from hub.emr.auth import BearerAuth
from hub.emr.client import FhirClient, FhirError, FhirUnavailable


def xds_policy() -> XdsPolicy:
    return XdsPolicy(
        source_id=settings.HUB_XDS_SOURCE_ID or "",
        assigning_authorities=settings.HUB_XDS_ASSIGNING_AUTHORITIES,
    )


@dataclass(frozen=True)
class MhdSender:
    url: str
    token: str | None = None  # None: HUB_MHD_TOKEN
    timeout_seconds: float | None = None  # None: HUB_STOWRS_TIMEOUT
    verify_tls: bool = True  # the destination's: False accepts any certificate

    def send(self, capture: Capture) -> Receipt:
        try:
            document = capture.original
        except OriginalDocument.DoesNotExist:
            raise DeliveryError(
                "the capture has no original kept for MHD", transient=False
            ) from None
        path = data_path(document.path)
        identity = InstanceIdentity(
            study_instance_uid=capture.study_instance_uid,
            series_instance_uid=capture.series_instance_uid,
            sop_instance_uid=capture.sop_instance_uid,
        )
        policy = xds_policy()
        token = self.token if self.token is not None else settings.HUB_MHD_TOKEN
        auth = BearerAuth(token) if token else None
        timeout = (5.0, self.timeout_seconds or settings.HUB_STOWRS_TIMEOUT)
        try:
            with FhirClient(
                self.url, auth=auth, timeout=timeout, verify_tls=self.verify_tls
            ) as client:
                entry = describe_original(
                    path,
                    context=parse_context(capture.context),
                    media_info=inspect_media(path),
                    identity=identity,
                    policy=policy,
                )
                references = (capture.match_report or {}).get("references") or {}
                # Small originals travel inside the bundle; large ones (video) are
                # stored first as a Binary streamed from disk, and referenced.
                if document.size <= settings.HUB_MHD_INLINE_MAX_BYTES:
                    content = {"data": path.read_bytes()}
                else:
                    content = {"attachment_url": client.create_binary(path, document.mime_type)}
                bundle = mhd_provide_bundle(
                    entry, policy=policy, patient_reference=references.get("patient"), **content
                )
                created = client.transaction(bundle)
        except EncapsulateError as error:
            reason = f"the XDS metadata cannot be made: {error.reason}"
            raise DeliveryError(reason, transient=False) from None
        except FhirUnavailable as error:
            raise DeliveryError(f"MHD recipient: {error.reason}", transient=True) from None
        except FhirError as error:
            raise DeliveryError(f"MHD recipient refused: {error.reason}", transient=False) from None
        document_reference = next((r for r in created if r.startswith("DocumentReference/")), None)
        return Receipt(
            stored_sop_instance_uids=(capture.sop_instance_uid,),
            retrieve_url=f"{self.url}/{document_reference}" if document_reference else None,
        )
