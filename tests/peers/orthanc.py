"""A real Orthanc archive on loopback for the tests.

Orthanc (Debian's package, with its DICOMweb and worklist plugins) is the
archive the hub is judged against: STOW-RS, C-STORE and the modality worklist.
The peer picks its own free loopback ports when it is created and keeps them
across stop/start, so a test can take the archive away and bring it back on
the same address with the same storage.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from tests.peers.ports import free_port
from tests.peers.process import stop_process, wait_until_answers

ORTHANC_BINARY = os.environ.get("ORTHANC_BINARY", "/usr/sbin/Orthanc")
PLUGIN_DIR = Path(os.environ.get("ORTHANC_PLUGIN_DIR", "/usr/share/orthanc/plugins"))
PLUGINS = ("libOrthancDicomWeb.so", "libModalityWorklists.so")

START_TIMEOUT = 30.0
# Orthanc takes a few seconds to exit after SIGTERM (it flushes its index and
# joins its DICOM and HTTP threads); past this it is killed.
STOP_TIMEOUT = 20.0
LOG_TAIL_LINES = 40


class OrthancPeerError(RuntimeError):
    pass


@dataclass(frozen=True)
class OrthancTls:
    """DICOM TLS for Orthanc's DIMSE side (1.9+): its certificate and key, the CAs it trusts.

    Its DICOM port then takes TLS only, and it calls the hub's listener over TLS.
    """

    certificate: Path
    private_key: Path
    trusted: Path


class OrthancPeer:
    """One Orthanc process, its configuration, storage and log under `workdir`.

    `hub_port` is the DICOM port of the hub's own SCP (the "HUB" entry in
    DicomModalities: worklist queries need the calling AE title listed, C-MOVE
    needs its port); 0 when the hub listens nowhere.
    """

    aet = "ORTHANC"
    username = "orthanc"
    password = "orthanc"

    def __init__(
        self,
        workdir: Path,
        *,
        hub_port: int = 0,
        hub_aet: str = "HUB",
        tls: OrthancTls | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.hub_port = hub_port
        self.hub_aet = hub_aet
        self.tls = tls
        self.http_port = free_port()
        self.dicom_port = free_port()
        while self.dicom_port == self.http_port:
            self.dicom_port = free_port()
        self.storage_dir = self.workdir / "storage"
        self.worklist_dir = self.workdir / "worklists"
        self.config_path = self.workdir / "orthanc.json"
        self.log_path = self.workdir / "orthanc.log"
        self.console_path = self.workdir / "orthanc.console"
        self._process: subprocess.Popen[bytes] | None = None
        self._session = requests.Session()
        self._session.auth = (self.username, self.password)
        # Orthanc closes a keep-alive connection idle for a second (KeepAliveTimeout):
        # a request that meets that close on a pooled connection is sent again, for
        # the methods that may be repeated (urllib3's default: GET, DELETE, PUT, ...).
        self._session.mount("http://", HTTPAdapter(max_retries=Retry(total=2)))

    # Addresses

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # Life cycle

    def configuration(self) -> dict:
        # Orthanc refuses port 0 in DicomModalities ("must be in range
        # [1..65534]"): without a hub SCP, 104 stands in and a C-MOVE to HUB is
        # refused at connect.
        hub: list | dict = [self.hub_aet, "127.0.0.1", self.hub_port or 104]
        tls: dict = {}
        if self.tls is not None:
            hub = {"AET": hub[0], "Host": hub[1], "Port": hub[2], "UseDicomTls": True}
            tls = {
                "DicomTlsEnabled": True,
                "DicomTlsCertificate": str(self.tls.certificate),
                "DicomTlsPrivateKey": str(self.tls.private_key),
                "DicomTlsTrustedCertificates": str(self.tls.trusted),
                "DicomTlsRemoteCertificateRequired": True,
            }
        return {
            "Name": "HUB-TEST-ARCHIVE",
            "StorageDirectory": str(self.storage_dir),
            "IndexDirectory": str(self.storage_dir),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            # Orthanc 1.10 listens on all interfaces; this refuses non-local HTTP.
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True,
            "RegisteredUsers": {self.username: self.password},
            "DicomAet": self.aet,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
            "DicomAlwaysAllowFindWorklist": True,
            "UnknownSopClassAccepted": True,
            "DicomModalities": {"hub": hub},
            "Plugins": [str(PLUGIN_DIR / name) for name in PLUGINS],
            # No "Host" here: with one, RetrieveURL loses the port.
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            "Worklists": {"Enable": True, "Database": str(self.worklist_dir)},
            **tls,
        }

    def start(self) -> None:
        if self.is_running:
            return
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        self.worklist_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(self.configuration(), indent=2))
        with self.console_path.open("ab") as console:
            self._process = subprocess.Popen(
                [ORTHANC_BINARY, f"--logfile={self.log_path}", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        self._wait_until_ready()

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process, STOP_TIMEOUT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        try:
            wait_until_answers(
                self._process,
                f"{self.url}/system",
                session=self._session,
                timeout=START_TIMEOUT,
                name="Orthanc",
                log_tail=self.log_tail,
                error=OrthancPeerError,
            )
        except OrthancPeerError:
            self.stop()
            raise

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        parts = []
        for path in (self.console_path, self.log_path):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} ---\n" + "\n".join(tail))
        return "\n".join(parts) or "(Orthanc wrote no log)"

    # REST helpers for assertions

    def instance_ids(self) -> list[str]:
        return self._get("/instances").json()

    def count_instances(self) -> int:
        return self._get("/statistics").json()["CountInstances"]

    def find_instance(self, sop_instance_uid: str) -> str | None:
        """The Orthanc id of the instance with this SOP Instance UID, or None."""
        response = self._session.post(
            f"{self.url}/tools/find",
            json={"Level": "Instance", "Query": {"SOPInstanceUID": sop_instance_uid}},
            timeout=10,
        )
        response.raise_for_status()
        ids = response.json()
        return ids[0] if ids else None

    def instance_file(self, orthanc_id: str) -> bytes:
        """The PS3.10 file Orthanc stored for this instance."""
        return self._get(f"/instances/{orthanc_id}/file").content

    def clear(self) -> None:
        for patient_id in self._get("/patients").json():
            response = self._session.delete(f"{self.url}/patients/{patient_id}", timeout=10)
            response.raise_for_status()

    def _get(self, path: str) -> requests.Response:
        response = self._session.get(f"{self.url}{path}", timeout=10)
        response.raise_for_status()
        return response


@contextlib.contextmanager
def running_orthanc(workdir: Path, *, hub_port: int = 0) -> Iterator[OrthancPeer]:
    """An Orthanc started in `workdir` for the duration of the block."""
    if shutil.which(ORTHANC_BINARY) is None:
        raise OrthancPeerError(
            f"{ORTHANC_BINARY} not found: apt-get install orthanc orthanc-dicomweb"
        )
    peer = OrthancPeer(workdir, hub_port=hub_port)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()
