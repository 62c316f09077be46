"""Deleting instances through Orthanc's REST API, where the archive is an Orthanc.

An IOCM rejection note tells an archive to hide instances; Orthanc stores the
note but does not act on it, so the hub also deletes them when
HUB_ARCHIVE_ORTHANC_URL names the Orthanc behind the STOW-RS endpoint.
"""

from __future__ import annotations

import requests

from hub.delivery.errors import DeliveryError


class OrthancRest:
    def __init__(
        self, url: str, *, username: str | None, password: str | None, timeout: float
    ) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        if username:
            self.session.auth = (username, password or "")
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs: object) -> requests.Response:
        try:
            response = self.session.request(
                method, f"{self.url}{path}", timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise DeliveryError(
                f"Orthanc at {self.url} does not answer: {type(error).__name__}", transient=True
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(
                f"Orthanc at {self.url} answered {response.status_code}", transient=True
            )
        if response.status_code >= 400 and response.status_code != 404:
            raise DeliveryError(
                f"Orthanc at {self.url} refused {method} {path} ({response.status_code}); "
                "check HUB_ARCHIVE_ORTHANC_URL and the STOW-RS credentials",
                transient=False,
            )
        return response

    def delete_instance(self, sop_instance_uid: str) -> bool:
        """True if it was there and is now gone; False if it was not there."""
        found = self._call(
            "POST",
            "/tools/find",
            json={"Level": "Instance", "Query": {"SOPInstanceUID": sop_instance_uid}},
        ).json()
        for orthanc_id in found:
            self._call("DELETE", f"/instances/{orthanc_id}")
        return bool(found)
