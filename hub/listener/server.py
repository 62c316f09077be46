"""The hub's DICOM listener: one pynetdicom AE that dispatches to the hub's services.

- C-STORE (PS3.4 Annex B) of the SOP classes the hub takes, in any transfer
  syntax pynetdicom knows: `hub.listener.intake`. Datasets are spooled to a
  file as they arrive (`STORE_RECV_CHUNKED_DATASET`), never held in memory.
- N-EVENT-REPORT of Storage Commitment Push Model (PS3.4 J.3.3), an archive's
  answer to the N-ACTION of a delivery: `hub.delivery.commitment`.
- C-ECHO, so that a device can test its configuration.

An association from a caller that is not known (`hub.listener.callers`) is
rejected with an A-ASSOCIATE-RJ: rejected-permanent, by the service user,
calling AE title not recognized (PS3.8 9.3.4).
"""

from __future__ import annotations

import logging
import ssl
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from pydicom.dataset import Dataset
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, _config, evt
from pynetdicom.acse import ACSE
from pynetdicom.association import Association
from pynetdicom.sop_class import StorageCommitmentPushModel, Verification
from pynetdicom.transport import ThreadedAssociationServer

from encapsulate.dicom.reconcile import ACCEPTED_SOP_CLASSES
from hub.audit.models import Outcome
from hub.audit.services import audit_record
from hub.delivery.commitment import CommitmentReport, commitment_report_receive
from hub.listener.callers import Caller, CallerList, Role
from hub.listener.intake import instance_store
from hub.listener.spool import spool_directory, spool_leftovers_remove

log = logging.getLogger(__name__)

# A-ASSOCIATE-RJ (PS3.8 9.3.4): rejected-permanent, service user, calling AE title not recognized.
REJECTED_PERMANENT = 0x01
SOURCE_SERVICE_USER = 0x01
CALLING_AET_NOT_RECOGNIZED = 0x03
NOT_AUTHORIZED = 0x0124  # Refused: not authorized (PS3.7 C.5.22)
NO_SUCH_SOP_CLASS = 0x0118  # an N-EVENT-REPORT of anything but Storage Commitment (PS3.7 C.5.17)
STORAGE_COMMITMENT_REQUEST_SUCCESSFUL = 1  # Event Type ID (PS3.4 J.3.3)


class _CallerCheckingACSE(ACSE):
    """pynetdicom checks the calling AE title alone (`require_calling_aet`); the
    hub checks it with the caller's address, before anything else is negotiated."""

    callers: CallerList

    def _negotiate_as_acceptor(self) -> None:
        request = self.requestor.primitive
        title = str(getattr(request, "calling_ae_title", "") or "")
        address = self.assoc.requestor.address
        try:
            caller = self.callers.find(title, address)
            if caller is None:
                log.warning(
                    "refused an association from %s at %s: not a known caller", title, address
                )
                audit_record(
                    action="sign-in",  # a node authenticating, as BALP Login records it
                    entity=f"dimse:{title.strip()}@{address}",
                    address=address,
                    outcome=Outcome.REFUSED,
                    note="A-ASSOCIATE-RJ: calling AE title not recognized from this address",
                )
        finally:
            connection.close()
        if caller is None:
            self.send_reject(REJECTED_PERMANENT, SOURCE_SERVICE_USER, CALLING_AET_NOT_RECOGNIZED)
            evt.trigger(self.assoc, evt.EVT_REJECTED, {})
            self.assoc.kill()
            return
        self.assoc.hub_caller = caller  # type: ignore[attr-defined]
        super()._negotiate_as_acceptor()


def _caller(assoc: Association) -> Caller:
    return assoc.hub_caller  # type: ignore[attr-defined, no-any-return]


def _on_connection(event: evt.Event, callers: CallerList) -> None:
    # Runs before the association's thread starts: its ACSE becomes the hub's.
    acse = _CallerCheckingACSE(event.assoc)
    acse.callers = callers
    event.assoc.acse = acse


def _on_store(event: evt.Event) -> int:
    caller = _caller(event.assoc)
    try:
        if Role.DEVICE not in caller.roles:
            log.warning("C-STORE from %s refused: it may only report commitments", caller)
            return NOT_AUTHORIZED
        close_old_connections()
        return instance_store(
            path=Path(event.dataset_path), caller=caller, address=event.assoc.requestor.address
        )
    finally:
        # Each association has a thread and so a database connection of its own.
        connection.close()


def _on_event_report(event: evt.Event) -> tuple[int, Dataset | None]:
    caller = _caller(event.assoc)
    request = event.request
    if Role.ARCHIVE not in caller.roles:
        log.warning("N-EVENT-REPORT from %s refused: it is no committing archive", caller)
        return NOT_AUTHORIZED, None
    if request.AffectedSOPClassUID != StorageCommitmentPushModel:
        return NO_SUCH_SOP_CLASS, None
    try:
        close_old_connections()
        status = commitment_report_receive(
            report=CommitmentReport.from_event_information(
                event.event_information,
                all_committed=request.EventTypeID == STORAGE_COMMITMENT_REQUEST_SUCCESSFUL,
            ),
            reporter=str(caller),
        )
    finally:
        connection.close()
    return status, None


def _on_echo(event: evt.Event) -> int:
    return 0x0000


def listener_application_entity(callers: CallerList) -> tuple[AE, list[Any]]:
    """The AE and its event handlers, ready for `start_server`."""
    ae = AE(ae_title=settings.HUB_AE_TITLE)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = settings.HUB_DICOM_TIMEOUT
    ae.maximum_associations = settings.HUB_DICOM_MAX_ASSOCIATIONS
    ae.require_called_aet = True
    for sop_class in ACCEPTED_SOP_CLASSES:
        ae.add_supported_context(sop_class, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification)
    # The archive opens the association to report and is the SCP of the class
    # (PS3.4 J.3.3): its proposed roles are accepted.
    ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    handlers = [
        (evt.EVT_CONN_OPEN, _on_connection, [callers]),
        (evt.EVT_C_STORE, _on_store),
        (evt.EVT_N_EVENT_REPORT, _on_event_report),
        (evt.EVT_C_ECHO, _on_echo),
    ]
    return ae, handlers


def listener_tls_context() -> ssl.SSLContext | None:
    """The server's SSLContext from HUB_DICOM_TLS_*, or None for plain TCP."""
    if not settings.HUB_DICOM_TLS_CERT:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=settings.HUB_DICOM_TLS_CA)
    context.load_cert_chain(settings.HUB_DICOM_TLS_CERT, settings.HUB_DICOM_TLS_KEY)
    if settings.HUB_DICOM_TLS_CA:
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def listener_start(*, port: int, host: str | None = None) -> ThreadedAssociationServer:
    """Starts listening in threads of this process; `shutdown()` the server to stop."""
    # A C-STORE's data set goes to a file as it arrives, in the hub's data
    # directory: there it becomes the original by a rename, not a copy.
    _config.STORE_RECV_CHUNKED_DATASET = True
    tempfile.tempdir = str(spool_directory())
    spool_leftovers_remove()
    callers = CallerList(settings.HUB_DICOM_CALLERS)
    for caller in callers.unresolved():
        log.warning("HUB_DICOM_CALLERS: %s does not resolve; it cannot call", caller)
    ae, handlers = listener_application_entity(callers)
    tls = listener_tls_context()
    server = ae.start_server(
        (host or settings.HUB_DICOM_BIND, port),
        block=False,
        evt_handlers=handlers,
        ssl_context=tls,
    )
    log.info(
        "DICOM listener %s on %s:%s%s",
        settings.HUB_AE_TITLE,
        host or settings.HUB_DICOM_BIND,
        port,
        " over TLS" if tls else "",
    )
    return server
