"""The hub's FHIR R4 client: patient, order and encounter look-ups, and write-back.

A small typed client on requests (FHIR R4 http.html, the RESTful API): every
answer is validated with fhir.resources (R4B models, see `fhir_models`) and
turned into frozen records. Failures say whether a later attempt can help:
`FhirUnavailable` (connection, timeout, 5xx, 429: transient, already retried
here within a bound) or `FhirError` (4xx, invalid resource: permanent).

Only `fhir_client_from_settings()` knows Django; the client itself is plain
Python.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from urllib3.exceptions import NewConnectionError

from hub.emr.auth import (
    FhirAuth,
    RenewableAuth,
)
from hub.emr.errors import FhirError, FhirUnavailable, safe_url
from hub.emr.resources import (
    EncounterRecord,
    OrderRecord,
    PatientRecord,
    ResourceInvalid,
    encounter_record,
    order_record,
    patient_record,
    validate_resource,
)
from hub.retry import RetryPolicy

FHIR_JSON = "application/fhir+json"
# R4 datatypes.html#id: the logical id's alphabet; anything else never reaches a URL.
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class FhirClient:
    """One FHIR R4 server at `base_url` (the service base, e.g. `https://emr/fhir/R4`).

    `timeout` is requests' (connect, read) pair or one number for both.
    `retries` counts the extra attempts after a transient failure, waiting
    `backoff * 2**n` seconds (jittered, at most `max_backoff`, or the server's
    Retry-After when it is shorter than that). Searches ask for `page_size`
    entries a page (`_count`) and follow Bundle `next` links for at most
    `max_pages` pages. `verify_tls` False accepts any server certificate (a
    destination an operator marked so, e.g. one with a self-signed certificate).
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: FhirAuth | None = None,
        timeout: float | tuple[float, float] = (5, 30),
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_pages: int = 20,
        page_size: int = 100,
        verify_tls: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        # Jitter of half to all of the wait keeps many workers from hammering
        # a recovering server in step.
        self.retry = RetryPolicy(
            base_seconds=backoff,
            max_seconds=max_backoff,
            max_attempts=self.retries + 1,
            jitter=(0.5, 1.0),
        )
        self.max_pages = max_pages
        self.page_size = page_size
        self._session = requests.Session()
        self._session.auth = auth
        self._session.verify = verify_tls
        self._session.headers.update({"Accept": FHIR_JSON, "User-Agent": "capture-hub"})

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Look-ups (STANDARDS.md "FHIR R4 look-ups")

    def find_patients(self, system: str, value: str) -> list[PatientRecord]:
        """Patients with this identifier: `Patient?identifier=system|value`.

        An empty list when none is known (R4 search.html#token).
        """
        found = self._search("Patient", {"identifier": f"{_escape(system)}|{_escape(value)}"})
        return [patient_record(p) for p in found]

    def active_orders(self, patient_id: str, *, category: str | None = None) -> list[OrderRecord]:
        """The patient's active ServiceRequests, optionally of one category (`system|code`)."""
        params = {"subject": f"Patient/{_checked_id(patient_id)}", "status": "active"}
        if category:
            params["category"] = category
        found = self._search("ServiceRequest", params)
        # A server may ignore a search parameter it does not support (R4
        # search.html#errors); filter again so a completed order never matches.
        return [order_record(o) for o in found if o.status == "active"]

    def get_order(self, order_id: str) -> OrderRecord:
        return order_record(self._read("ServiceRequest", order_id))

    def in_progress_encounters(self, patient_id: str) -> list[EncounterRecord]:
        """The patient's Encounters with status in-progress (R4 encounter.html#status)."""
        params = {"subject": f"Patient/{_checked_id(patient_id)}", "status": "in-progress"}
        found = self._search("Encounter", params)
        return [encounter_record(e) for e in found if e.status == "in-progress"]

    def get_encounter(self, encounter_id: str) -> EncounterRecord:
        return encounter_record(self._read("Encounter", encounter_id))

    def find_imaging_studies(self, study_instance_uid: str) -> list[dict[str, Any]]:
        """ImagingStudy resources for a Study Instance UID (identifier `urn:dicom:uid`), as JSON."""
        value = f"urn:dicom:uid|{_escape('urn:oid:' + study_instance_uid)}"
        found = self._search("ImagingStudy", {"identifier": value})
        return [study.model_dump(mode="json", exclude_none=True) for study in found]

    # Write-back

    def create(self, resource: Resource | Mapping[str, Any]) -> str:
        """Create a resource (R4 http.html#create); return the id the server gave it.

        The resource is validated first: the server may not (Medplum does not).
        A POST is retried only when it cannot have reached the server.
        """
        model = self._validated(resource)
        resource_type = model.get_resource_type()
        response = self._send(
            "POST", f"{self.base_url}/{resource_type}", body=_json(model), idempotent=False
        )
        created = self._parse(response, resource_type)
        if created.id:
            return str(created.id)
        return _reference_from_location(response.headers.get("Location", "")).split("/")[1]

    def create_binary(self, path: Path, content_type: str) -> str:
        """A Binary (R4 binary.html) holding a file of any size; returns `Binary/id`.

        The JSON body is streamed, the file base64-encoded piece by piece, so
        memory stays flat for a video of gigabytes. The answer is read for its
        Location only: a server that echoes the resource would echo the bytes.
        """

        def body() -> Iterator[bytes]:
            yield b'{"resourceType":"Binary","contentType":' + json.dumps(content_type).encode()
            yield b',"data":"'
            with path.open("rb") as source:
                # A multiple of 3 bytes encodes without padding, so the pieces join.
                while piece := source.read(3 * 1024 * 1024):
                    yield base64.b64encode(piece)
            yield b'"}'

        response = self._send("POST", f"{self.base_url}/Binary", body=body, idempotent=False)
        if response.status_code >= 400:
            raise FhirError(f"storing a Binary was refused ({response.status_code})")
        reference = _reference_from_location(response.headers.get("Location", ""))
        if not reference.startswith("Binary/"):
            raise FhirError("the server stored the Binary but did not say where (no Location)")
        return reference

    def transaction(self, bundle: Bundle | Mapping[str, Any]) -> list[str]:
        """Post a transaction Bundle (R4 http.html#transaction); return `Type/id` per entry.

        The server applies all entries or none; entries may refer to each
        other by `urn:uuid:` fullUrls.
        """
        model = self._validated(bundle)
        if model.get_resource_type() != "Bundle" or model.type != "transaction":
            raise FhirError("transaction() needs a Bundle of type transaction")
        response = self._send("POST", self.base_url, body=_json(model), idempotent=False)
        answer = self._parse(response, "Bundle")
        references = []
        for entry in answer.entry or ():
            outcome = entry.response
            if outcome is None or not str(outcome.status).startswith("2"):
                status = outcome.status if outcome else "no response"
                raise FhirError(f"transaction entry answered {status}")
            references.append(_reference_from_location(outcome.location or ""))
        return references

    # Plumbing

    def _read(self, resource_type: str, resource_id: str) -> Any:
        url = f"{self.base_url}/{resource_type}/{_checked_id(resource_id)}"
        return self._parse(self._send("GET", url), resource_type)

    def _search(self, resource_type: str, params: dict[str, str]) -> list[Any]:
        """All matches of a search, following `next` links (R4 http.html#paging)."""
        url: str | None = f"{self.base_url}/{resource_type}"
        query: dict[str, str] | None = {**params, "_count": str(self.page_size)}
        matches: list[Any] = []
        for _ in range(self.max_pages):
            assert url is not None
            bundle = self._parse(self._send("GET", url, params=query), "Bundle")
            for entry in bundle.entry or ():
                # Included resources and OperationOutcomes are not matches
                # (R4 bundle.html#Bundle.entry.search.mode).
                mode = entry.search.mode if entry.search else "match"
                if mode == "match" and entry.resource.get_resource_type() == resource_type:
                    matches.append(entry.resource)
            url = next((link.url for link in bundle.link or () if link.relation == "next"), None)
            if url is None:
                return matches
            self._check_same_server(url)
            query = None
        raise FhirError(
            f"search {resource_type} returned more than {self.max_pages} pages; narrow it"
        )

    def _check_same_server(self, url: str) -> None:
        # The credentials go with every request: never follow a link elsewhere.
        base, link = urlsplit(self.base_url), urlsplit(url)
        if (base.scheme, base.netloc) != (link.scheme, link.netloc):
            raise FhirError(f"the server's next link leaves it: {safe_url(url)}")

    def _validated(self, resource: Resource | Mapping[str, Any]) -> Any:
        try:
            return validate_resource(resource)
        except ResourceInvalid as exc:
            raise FhirError(str(exc)) from None

    def _parse(self, response: requests.Response, expected: str) -> Any:
        try:
            data = response.json()
        except ValueError:
            raise FhirError(f"{_describe(response.request)}: the answer is not JSON") from None
        try:
            return validate_resource(data, expected)
        except ResourceInvalid as exc:
            raise FhirError(f"{_describe(response.request)}: {exc}") from None

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: str | Callable[[], Iterator[bytes]] | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        """One exchange, retried within the bound while the failure is transient.

        A non-idempotent POST is retried only when the request cannot have
        reached the server (connection refused, 429): after a read timeout or
        a 5xx it may have been applied, and a blind repeat would duplicate it.
        A 401 with renewable credentials (SMART) is sent once more at once
        with fresh ones: the token may have expired or been revoked early.
        """
        headers = {"Content-Type": FHIR_JSON} if body is not None else {}

        def prepare() -> requests.PreparedRequest:
            # Attaching SMART credentials may fetch a token (FhirError, FhirUnavailable).
            # A streamed body is made anew for each attempt: a sent one is spent.
            data = body() if callable(body) else body
            return self._session.prepare_request(
                requests.Request(method, url, params=params, data=data, headers=headers)
            )

        request = prepare()
        what = _describe(request)
        renewed = False
        for attempt in range(self.retries + 1):
            wait = None
            try:
                # A redirect would turn a POST into a GET and may point at
                # another host: a wrong HUB_FHIR_URL is reported, not followed.
                response = self._session.send(request, timeout=self.timeout, allow_redirects=False)
                if (
                    response.status_code == 401
                    and not renewed
                    and self._forget_credentials(request)
                ):
                    renewed = True  # the server refused the request: resending is safe
                    request = prepare()
                    response = self._session.send(
                        request, timeout=self.timeout, allow_redirects=False
                    )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if _certificate_refused(exc):
                    # A certificate that does not verify stays so until a person acts.
                    raise FhirError(f"{what}: SSLError, certificate does not verify") from None
                reason = f"{what}: {type(exc).__name__}"
                retryable = idempotent or _never_sent(exc)
            except requests.RequestException as exc:
                raise FhirError(f"{what}: {type(exc).__name__}") from None
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return response
                reason = f"{what} answered {status}{_diagnostics(response)}"
                if status != 429 and status < 500:
                    raise FhirError(reason)
                retryable = idempotent or status == 429
                wait = _retry_after(response)
            if not retryable or attempt == self.retries:
                raise FhirUnavailable(f"{reason} (after {attempt + 1} attempts)")
            time.sleep(self.retry.delay(attempt + 1, retry_after=wait))
        raise AssertionError("unreachable")

    def _forget_credentials(self, request: requests.PreparedRequest) -> bool:
        auth = self._session.auth
        return isinstance(auth, RenewableAuth) and auth.forget(request)


def _escape(value: str) -> str:
    # R4 search.html#escaping: "\", ",", "$" and "|" are special in parameter values.
    return re.sub(r"([\\,$|])", r"\\\1", value)


def _checked_id(resource_id: str) -> str:
    if not _ID.match(resource_id or ""):
        raise FhirError(f"{resource_id!r} is not a FHIR resource id")
    return resource_id


def _json(model: Any) -> str:
    # fhir.resources writes FHIR's JSON names ("class", not "class_fhir").
    return model.model_dump_json(exclude_none=True)


def _reference_from_location(location: str) -> str:
    """`Type/id` from a Location such as `[base/]Type/id/_history/vid` (R4 http.html#create)."""
    parts = urlsplit(location).path.strip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2 or not _ID.match(parts[-1]):
        raise FhirError(f"the server answered without a usable location ({location!r})")
    return f"{parts[-2]}/{parts[-1]}"


def _describe(request: requests.PreparedRequest | None) -> str:
    if request is None:
        return "FHIR request"
    return f"{request.method} {safe_url(request.url or '')}"


def _diagnostics(response: requests.Response) -> str:
    """The OperationOutcome's diagnostics or details text (R4 operationoutcome.html)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict) or data.get("resourceType") != "OperationOutcome":
        return ""
    texts = []
    for issue in data.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        text = issue.get("diagnostics") or (issue.get("details") or {}).get("text")
        if text:
            texts.append(str(text))
    return f": {'; '.join(texts)[:500]}" if texts else ""


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _certificate_refused(exc: requests.RequestException) -> bool:
    """True when the TLS handshake failed on the server's certificate (not a reset)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    causes = [exc, reason, *(getattr(reason, "args", None) or ())]
    return any(isinstance(cause, ssl.SSLCertVerificationError) for cause in causes)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never made, so the server saw nothing."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)
