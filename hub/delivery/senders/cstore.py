"""C-STORE delivery: send PS3.10 files to a DICOM archive over DIMSE (PS3.4 Annex B).

Plain Python like `stowrs`, with the same contract: `store()` returns a
receipt or raises `DeliveryError` saying whether a later attempt can help.

Each file is offered in exactly the presentation context it is encoded in
(its SOP Class with its own transfer syntax): JPEG or video must not be
re-negotiated to a transfer syntax it is not in. pynetdicom decodes each file
before sending it; for large video, pynetdicom's
`_config.STORE_SEND_CHUNKED_DATASET` (a process-wide switch) sends straight
from the file instead.

With a Transaction UID, the same association then asks the archive to commit
what was stored (Storage Commitment Push Model, N-ACTION, PS3.4 J.3.2); the
archive's report comes later, to the hub's listener (`hub.delivery.commitment`).
With `TlsOptions` the association runs over TLS (PS3.15 B.1).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom import Dataset
from pynetdicom import Association
from pynetdicom.sop_class import StorageCommitmentPushModel

from hub.delivery.errors import DeliveryError
from hub.delivery.senders.base import Receipt, failure_reason, read_instance
from hub.dimse.association import ServiceClassUser, application_entity, rejection_of

# A-ASSOCIATE-RQ carries at most 128 presentation contexts (PS3.8 9.3.2.2).
MAX_CONTEXTS = 128
# The well-known SOP Instance of Storage Commitment Push Model (PS3.4 J.3.5).
STORAGE_COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"
REQUEST_STORAGE_COMMITMENT = 1  # Action Type ID (PS3.4 J.3.2)


@dataclass(frozen=True)
class TlsOptions:
    """How to check the archive and how the hub proves who it is (PEM files)."""

    ca_file: str | None = None  # None: the system's CAs
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True

    def context(self) -> ssl.SSLContext:
        """The client's SSLContext; a file that cannot be read is a permanent error."""
        try:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_file)
            if self.cert_file:
                context.load_cert_chain(self.cert_file, self.key_file or None)
        except (OSError, ssl.SSLError) as error:
            raise DeliveryError(
                f"the TLS files of the destination cannot be used: {error}", transient=False
            ) from None
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


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
        tls: TlsOptions | None = None,
    ) -> None:
        super().__init__(
            host, port, called_aet=called_aet, calling_aet=calling_aet, timeout=timeout
        )
        self.tls = tls

    def store(self, paths: Sequence[Path], *, commitment_uid: str | None = None) -> Receipt:
        """Send every file; succeed only if each gets a Success or Warning status.

        Warning statuses (0xB000, 0xB006, 0xB007: coerced, elements discarded,
        data set does not match SOP class) are success: the archive kept it.
        With `commitment_uid`, succeed only if the archive also accepted the
        request to commit them (its report comes later).
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
        assoc = self._associate(contexts, commitment=commitment_uid is not None)
        try:
            for path, ds in zip(paths, headers, strict=True):
                self._send(assoc, Path(path), ds)
            if commitment_uid is not None:
                self._request_commitment(assoc, headers, commitment_uid)
        finally:
            if assoc.is_established:
                assoc.release()
        return Receipt(
            stored_sop_instance_uids=tuple(str(ds.SOPInstanceUID) for ds in headers),
            retrieve_url=None,
        )

    def _associate(self, contexts: Sequence[tuple[str, str]], *, commitment: bool) -> Association:
        ae = application_entity(
            self.calling_aet, timeout=self.timeout, connection_timeout=min(10.0, self.timeout)
        )
        for sop_class, transfer_syntax in contexts:
            ae.add_requested_context(sop_class, transfer_syntax)
        if commitment:
            ae.add_requested_context(StorageCommitmentPushModel)
        tls_args = (self.tls.context(), self.host) if self.tls is not None else None
        assoc = ae.associate(self.host, self.port, ae_title=self.called_aet, tls_args=tls_args)
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
        if self.tls is not None:
            self._tls_diagnose()
        raise self._error("could not be reached or did not answer the association", transient=True)

    def _tls_diagnose(self) -> None:
        """Raises the permanent error if the TLS handshake is what failed.

        pynetdicom logs a failed handshake and reports only that it could not
        connect; one more connection tells a certificate a person must fix
        from an archive that is down.
        """
        assert self.tls is not None
        try:
            with (
                socket.create_connection((self.host, self.port), timeout=self.timeout) as raw,
                self.tls.context().wrap_socket(raw, server_hostname=self.host),
            ):
                return
        except ssl.SSLError as error:
            raise self._error(
                f"failed the TLS handshake ({error.reason or error}): check its certificate "
                "against the destination's CA file, and the hub's client certificate",
                transient=False,
            ) from None
        except OSError:
            return

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

    def _request_commitment(
        self, assoc: Association, headers: Sequence[Dataset], transaction_uid: str
    ) -> None:
        accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
        if StorageCommitmentPushModel not in accepted:
            raise self._error(
                "does not accept Storage Commitment Push Model: turn storage commitment off "
                "for this destination, or enable it at the archive",
                transient=False,
            )
        request = Dataset()
        request.TransactionUID = transaction_uid
        request.ReferencedSOPSequence = []
        for header in headers:
            item = Dataset()
            item.ReferencedSOPClassUID = header.SOPClassUID
            item.ReferencedSOPInstanceUID = header.SOPInstanceUID
            request.ReferencedSOPSequence.append(item)
        status, _ = assoc.send_n_action(
            request,
            REQUEST_STORAGE_COMMITMENT,
            StorageCommitmentPushModel,
            STORAGE_COMMITMENT_INSTANCE,
        )
        if "Status" not in status:
            raise self._error("did not answer the request to commit", transient=True)
        code = int(status.Status)
        if code != 0x0000:
            raise self._error(
                f"refused the request to commit ({failure_reason(code)})",
                transient=code >> 8 in (0x01, 0xA7) and code != 0x0122,
            )

    def _error(self, what: str, *, transient: bool) -> DeliveryError:
        return DeliveryError(f"archive {self.display_address} {what}", transient=transient)


def _context(ds: Dataset) -> tuple[str, str]:
    return str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)
