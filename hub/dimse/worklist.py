"""Modality Worklist client: C-FIND of the MWL Information Model (PS3.4 K.6).

Plain Python (pynetdicom underneath, no Django) like the delivery clients:
`WorklistClient.find()` returns the scheduled procedure steps that match a
`WorklistQuery`, or raises `WorklistUnavailable` (transient: try again later)
or `WorklistError` (permanent: a person must change a setting or the query).
Only `worklist_client_from_settings()` reads Django settings.

One `WorklistItem` is one Scheduled Procedure Step: PS3.4 K.6.1.2.2 has the
provider answer one response per step, and an answer that carries several
steps anyway is split into one item per step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from pydicom import Dataset
from pynetdicom import Association, evt
from pynetdicom.pdu_primitives import A_ABORT, A_P_ABORT
from pynetdicom.sop_class import ModalityWorklistInformationFind

from hub.dimse.association import ServiceClassUser, application_entity, rejection_of
from hub.dimse.worklist_data import (
    ScheduledStep,
    WorklistItem,
    WorklistQuery,
    answer_items,
    items_in_window,
    request_dataset,
)

__all__ = [
    "ScheduledStep",
    "WorklistClient",
    "WorklistError",
    "WorklistItem",
    "WorklistQuery",
    "WorklistUnavailable",
    "items_in_window",
    "worklist_client_from_settings",
]

logger = logging.getLogger(__name__)

# C-FIND statuses (PS3.4 C.4.1.1.4, K.4.1.1.4).
PENDING = (0xFF00, 0xFF01)
SUCCESS = 0x0000
MATCHING_TERMINATED = 0xFE00
OUT_OF_RESOURCES = 0xA700
ABORT_SETTLE_SECONDS = 2.0


class WorklistError(Exception):
    """A permanent failure: repeating the same query will fail the same way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorklistUnavailable(WorklistError):
    """A transient failure (network, busy provider, timeout): retry later."""


class WorklistClient(ServiceClassUser):
    """Queries one Modality Worklist SCP, one association per query."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        called_aet: str,
        calling_aet: str = "CAPTUREHUB",
        timeout: float = 10.0,
    ) -> None:
        super().__init__(
            host, port, called_aet=called_aet, calling_aet=calling_aet, timeout=timeout
        )

    def find(self, query: WorklistQuery) -> list[WorklistItem]:
        """The scheduled steps matching `query`, in the order the provider sent them.

        Every answer is checked against the query again: Orthanc's worklist
        plugin returns entries that lack a Scheduled Procedure Step Sequence
        for any step key, and a capture must never land on such a guess.
        """
        aborts: list[A_ABORT | A_P_ABORT] = []
        assoc = self._associate(aborts)
        try:
            answers = list(self._answers(assoc, request_dataset(query), aborts))
        finally:
            if assoc.is_established:
                assoc.release()
        items = [item for answer in answers for item in answer_items(answer)]
        kept = [item for item in items if query.matches(item)]
        if len(kept) < len(items):
            logger.warning(
                "worklist %s answered %d step(s) that do not match the query; dropped them",
                self.display_address,
                len(items) - len(kept),
            )
        return kept

    def _associate(self, aborts: list[A_ABORT | A_P_ABORT]) -> Association:
        ae = application_entity(self.calling_aet, timeout=self.timeout)
        ae.add_requested_context(ModalityWorklistInformationFind)

        def record_abort(event: evt.Event) -> None:
            if isinstance(event.primitive, A_ABORT | A_P_ABORT):
                aborts.append(event.primitive)

        assoc = ae.associate(
            self.host,
            self.port,
            ae_title=self.called_aet,
            evt_handlers=[(evt.EVT_ACSE_RECV, record_abort)],
        )
        if assoc.is_established:
            if not assoc.accepted_contexts:
                assoc.release()
                raise WorklistError(
                    f"worklist {self.display_address} does not offer Modality Worklist "
                    "(C-FIND): check HUB_MWL_HOST, HUB_MWL_PORT and HUB_MWL_AET"
                )
            return assoc
        if assoc.is_rejected:
            raise self._rejection(assoc)
        if aborts:
            raise WorklistUnavailable(
                f"worklist {self.display_address} aborted the association request; try again"
            )
        raise WorklistUnavailable(
            f"worklist {self.display_address} could not be reached or did not answer within "
            f"{self.timeout:g} s"
        )

    def _rejection(self, assoc: Association) -> WorklistError:
        if assoc.acceptor.primitive is None:
            return WorklistUnavailable(f"worklist {self.display_address} rejected the association")
        rejection = rejection_of(assoc)
        why = rejection.why
        if rejection.calling_aet_unknown:
            return WorklistError(self._register_hint(f"rejected the calling AE title ({why})"))
        if rejection.called_aet_unknown:
            return WorklistError(
                f"worklist {self.display_address} does not answer to AE title "
                f"{self.called_aet} ({why}): set HUB_MWL_AET to the provider's AE title"
            )
        message = f"worklist {self.display_address} rejected the association ({why})"
        if rejection.transient:
            return WorklistUnavailable(f"{message}; try again later")
        return WorklistError(f"{message}; see the worklist provider's log")

    def _register_hint(self, what: str) -> str:
        return (
            f"worklist {self.display_address} {what}: register AE title {self.calling_aet} "
            "(this machine's address) at the worklist provider (Orthanc: DicomModalities), "
            "or set HUB_AE_TITLE to one it knows"
        )

    def _answers(
        self, assoc: Association, request: Dataset, aborts: list[A_ABORT | A_P_ABORT]
    ) -> Iterator[Dataset]:
        pending = 0
        for status, identifier in assoc.send_c_find(request, ModalityWorklistInformationFind):
            if "Status" not in status:
                raise self._no_response(assoc, aborts, pending)
            code = int(status.Status)
            if code in PENDING:
                pending += 1
                if identifier is not None:
                    yield identifier
            elif code == SUCCESS:
                return
            else:
                raise self._failure(code, status)
        raise WorklistUnavailable(f"worklist {self.display_address} ended the query unfinished")

    def _no_response(
        self, assoc: Association, aborts: list[A_ABORT | A_P_ABORT], pending: int
    ) -> WorklistError:
        # The association's own thread records the abort a moment after the
        # empty response reaches us; wait for it to wind up before asking why.
        assoc.join(timeout=ABORT_SETTLE_SECONDS)
        # An A-ABORT from the provider itself, before any answer, is how Orthanc
        # (and DCMTK-based providers) refuse a calling AE title they do not know;
        # a dropped connection is an A-P-ABORT instead.
        peer_abort = next((a for a in aborts if isinstance(a, A_ABORT)), None)
        if peer_abort is not None and peer_abort.abort_source == 0 and pending == 0:
            return WorklistError(
                self._register_hint(
                    f"aborted the query from calling AE title {self.calling_aet} without answering"
                )
            )
        if aborts:
            return WorklistUnavailable(
                f"worklist {self.display_address} dropped the association after {pending} "
                "answer(s); try again"
            )
        return WorklistUnavailable(
            f"worklist {self.display_address} did not answer the query within {self.timeout:g} s"
        )

    def _failure(self, code: int, status: Dataset) -> WorklistError:
        comment = str(status.get("ErrorComment", "") or "").strip()
        detail = f"status 0x{code:04X}" + (f": {comment}" if comment else "")
        if code == MATCHING_TERMINATED:
            return WorklistError(
                f"worklist {self.display_address} stopped before sending every match ({detail}): "
                "narrow the query or raise the provider's answer limit "
                "(Orthanc: Worklists.LimitAnswers)"
            )
        if code == OUT_OF_RESOURCES:
            return WorklistUnavailable(
                f"worklist {self.display_address} is out of resources ({detail}); try again later"
            )
        return WorklistError(
            f"worklist {self.display_address} refused the query ({detail}); "
            "see the worklist provider's log"
        )


def worklist_client_from_settings() -> WorklistClient | None:
    """The client for HUB_MWL_HOST, or None when no worklist is configured."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    host = getattr(settings, "HUB_MWL_HOST", None)
    if not host:
        return None
    called_aet = getattr(settings, "HUB_MWL_AET", None)
    if not called_aet:
        raise ImproperlyConfigured("HUB_MWL_HOST is set but HUB_MWL_AET is not")
    return WorklistClient(
        host,
        int(getattr(settings, "HUB_MWL_PORT", 104)),
        called_aet=called_aet,
        calling_aet=getattr(settings, "HUB_AE_TITLE", "CAPTUREHUB"),
        timeout=float(getattr(settings, "HUB_MWL_TIMEOUT", 10.0)),
    )
