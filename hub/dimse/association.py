"""Setting up an association as a Service Class User, shared by C-STORE and the worklist.

Plain Python on pynetdicom, no Django. Both clients ask with one calling AE
title, wait at most `timeout` at each layer, and read an A-ASSOCIATE-RJ the
same way (PS3.8 9.3.4).
"""

from __future__ import annotations

from dataclasses import dataclass

from pynetdicom import AE, Association

AE_TITLE_LENGTH = 16  # PS3.5 Table 6.2-1
# A-ASSOCIATE-RJ Result (PS3.8 9.3.4): 2 is "rejected (transient)"; with
# source 1 (service user), reason 3 is "calling AE title not recognized" and
# reason 7 "called AE title not recognized".
REJECTED_TRANSIENT = 2
SOURCE_SERVICE_USER = 1
CALLING_AET_UNKNOWN = 3
CALLED_AET_UNKNOWN = 7


def check_ae_title(name: str, title: str) -> None:
    if not title.strip() or len(title) > AE_TITLE_LENGTH or "\\" in title:
        raise ValueError(f"{name}={title!r} is not an AE title (1-16 characters, no \\)")


class ServiceClassUser:
    """A client of one SCP: where it is, who calls it, how long to wait.

    Both AE titles are checked when the client is made, so a wrong setting
    fails at start-up rather than on the first association.
    """

    def __init__(
        self, host: str, port: int, *, called_aet: str, calling_aet: str, timeout: float
    ) -> None:
        check_ae_title("called_aet", called_aet)
        check_ae_title("calling_aet", calling_aet)
        self.host = host
        self.port = port
        self.called_aet = called_aet
        self.calling_aet = calling_aet
        self.timeout = timeout

    @property
    def display_address(self) -> str:
        return f"{self.called_aet}@{self.host}:{self.port}"


def application_entity(
    calling_aet: str, *, timeout: float, connection_timeout: float | None = None
) -> AE:
    """An AE that gives up after `timeout` seconds at the ACSE, DIMSE and network layers."""
    ae = AE(ae_title=calling_aet)
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    ae.connection_timeout = timeout if connection_timeout is None else connection_timeout
    return ae


@dataclass(frozen=True)
class Rejection:
    """Why the peer refused the association."""

    transient: bool
    why: str
    source: int | None = None
    diagnostic: int | None = None

    @property
    def calling_aet_unknown(self) -> bool:
        return self.source == SOURCE_SERVICE_USER and self.diagnostic == CALLING_AET_UNKNOWN

    @property
    def called_aet_unknown(self) -> bool:
        return self.source == SOURCE_SERVICE_USER and self.diagnostic == CALLED_AET_UNKNOWN


def rejection_of(assoc: Association) -> Rejection:
    """The A-ASSOCIATE-RJ of a rejected association; transient when none was read."""
    primitive = assoc.acceptor.primitive
    if primitive is None:
        return Rejection(transient=True, why="no reason given")
    return Rejection(
        transient=getattr(primitive, "result", None) == REJECTED_TRANSIENT,
        why=getattr(primitive, "reason_str", None) or "no reason given",
        source=getattr(primitive, "result_source", None),
        diagnostic=getattr(primitive, "diagnostic", None),
    )
