"""C-STORE delivery: send PS3.10 files to a DICOM archive over DIMSE (PS3.4 Annex B).

Plain Python like `stowrs`, with the same contract: `store()` returns a
receipt or raises `DeliveryError` saying whether a later attempt can help.

Each file is offered in exactly the presentation context it is encoded in
(its SOP Class with its own transfer syntax): JPEG or video must not be
re-negotiated to a transfer syntax it is not in. pynetdicom decodes each file
before sending it; for large video, pynetdicom's
`_config.STORE_SEND_CHUNKED_DATASET` (a process-wide switch) sends straight
from the file instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydicom import Dataset
from pynetdicom import Association

from hub.delivery.errors import DeliveryError
from hub.delivery.senders.base import Receipt, failure_reason, read_instance
from hub.dimse.association import ServiceClassUser, application_entity, rejection_of

# A-ASSOCIATE-RQ carries at most 128 presentation contexts (PS3.8 9.3.2.2).
MAX_CONTEXTS = 128


class CStoreClient(ServiceClassUser):
    """Stores PS3.10 files on one association with a Storage SCP."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        called_aet: str,
        calling_aet: str = "HUB",
        timeout: float = 30.0,
    ) -> None:
        super().__init__(
            host, port, called_aet=called_aet, calling_aet=calling_aet, timeout=timeout
        )

    def store(self, paths: Sequence[Path]) -> Receipt:
        """Send every file; succeed only if each gets a Success or Warning status.

        Warning statuses (0xB000, 0xB006, 0xB007: coerced, elements discarded,
        data set does not match SOP class) are success: the archive kept it.
        """
        if not paths:
            raise ValueError("store() needs at least one file")
        headers = [read_instance(Path(path), stop_before_pixels=True) for path in paths]
        contexts = sorted({_context(ds) for ds in headers})
        if len(contexts) > MAX_CONTEXTS:
            raise DeliveryError(
                f"{len(contexts)} SOP class/transfer syntax pairs do not fit in one "
                f"association (at most {MAX_CONTEXTS}): send fewer files at a time",
                transient=False,
            )
        assoc = self._associate(contexts)
        try:
            for path, ds in zip(paths, headers, strict=True):
                self._send(assoc, Path(path), ds)
        finally:
            if assoc.is_established:
                assoc.release()
        return Receipt(
            stored_sop_instance_uids=tuple(str(ds.SOPInstanceUID) for ds in headers),
            retrieve_url=None,
        )

    def _associate(self, contexts: Sequence[tuple[str, str]]) -> Association:
        ae = application_entity(
            self.calling_aet, timeout=self.timeout, connection_timeout=min(10.0, self.timeout)
        )
        for sop_class, transfer_syntax in contexts:
            ae.add_requested_context(sop_class, transfer_syntax)
        assoc = ae.associate(self.host, self.port, ae_title=self.called_aet)
        if assoc.is_established:
            return assoc
        if assoc.is_rejected:
            rejection = rejection_of(assoc)
            hint = (
                ": check the archive's AE title and that it knows the hub's"
                if "AE title" in rejection.why
                else ""
            )
            raise self._error(
                f"rejected the association ({rejection.why}){hint}",
                transient=rejection.transient,
            )
        if assoc.acceptor.primitive is not None and not assoc.accepted_contexts:
            offered = ", ".join(f"{sop} in {ts}" for sop, ts in contexts)
            raise self._error(
                f"accepts none of the presentation contexts {offered}", transient=False
            )
        raise self._error("could not be reached or did not answer the association", transient=True)

    def _send(self, assoc: Association, path: Path, header: Dataset) -> None:
        sop_class, transfer_syntax = _context(header)
        if not any(
            cx.abstract_syntax == sop_class and cx.transfer_syntax[0] == transfer_syntax
            for cx in assoc.accepted_contexts
        ):
            raise self._error(
                f"does not accept SOP class {sop_class} in transfer syntax {transfer_syntax} "
                f"(sending {path.name})",
                transient=False,
            )
        status = assoc.send_c_store(path)
        uid = header.SOPInstanceUID
        if "Status" not in status:
            # No response: the association was aborted or the DIMSE timeout passed.
            raise self._error(f"did not confirm storing {uid}", transient=True)
        code = int(status.Status)
        if code == 0x0000 or code >> 12 == 0xB:
            return
        if code >> 8 == 0xA7:
            # Out of resources: making room fixes it without new data. Orthanc
            # also answers A700 for a data set it cannot index, hence the hint.
            raise self._error(
                f"refused {uid} ({failure_reason(code)}; some archives, Orthanc among "
                "them, send this for any refusal: see the archive's log)",
                transient=True,
            )
        raise self._error(f"refused {uid} ({failure_reason(code)})", transient=False)

    def _error(self, what: str, *, transient: bool) -> DeliveryError:
        return DeliveryError(f"archive {self.display_address} {what}", transient=transient)


def _context(ds: Dataset) -> tuple[str, str]:
    return str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)
