"""The references throughput.py measures the hub against: the bare tools doing the
same essential work (jpegtran for rotated photos, img2dcm, curl STOW-RS) and
Orthanc's own STOW ingest of the already-wrapped photos; and the Phase they and
the hub's phases report.
"""

from __future__ import annotations

import json
import resource
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from hub_stack import Hub
from photos import Photo

BOUNDARY = "bench-stow-boundary"
STOW_TYPE = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'
REQUEST_TIMEOUT = 300.0


@dataclass
class Phase:
    name: str
    photos: int
    seconds: float
    cpu: float  # the pipeline's own CPU seconds (hub processes, or the tools)
    orthanc_cpu: float
    latencies: list[float] = field(default_factory=list)
    done: int = 0
    note: str = ""

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def _run(command: list[str], **options: object) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=REQUEST_TIMEOUT, **options)


def _stow_failed(answer: dict) -> bool:
    failed = answer.get("00081198") or {}
    return bool(failed.get("Value"))


# 1. The bare tools


def img2dcm(photo: Photo, out: Path, scratch: Path) -> Path:
    source = photo.path
    if photo.rotated:
        turned = scratch / f"{photo.path.stem}.turned.jpg"
        _run(
            [
                *("jpegtran", "-perfect", "-copy", "none", "-rotate", "90"),
                *("-outfile", str(turned), str(photo.path)),
            ]
        )
        source = turned
    target = out / f"{photo.path.stem}.dcm"
    _run(["img2dcm", "-vlp", "-k", "ImageLaterality=U", str(source), str(target)])
    return target


def curl_stow(hub: Hub, dicom: Path) -> None:
    orthanc = hub.orthanc
    done = subprocess.run(
        [
            *("curl", "-sS", "--fail-with-body", "-u", f"{orthanc.username}:{orthanc.password}"),
            # Orthanc never answers 100-continue: without this curl waits 1 s.
            *("-H", "Expect:", "-H", 'Content-Type: multipart/related; type="application/dicom"'),
            *("-F", f"file=@{dicom};type=application/dicom"),
            f"{orthanc.dicomweb_url}/studies",
        ],
        check=True,
        capture_output=True,
        timeout=REQUEST_TIMEOUT,
    )
    if _stow_failed(json.loads(done.stdout)):
        raise RuntimeError(f"Orthanc refused {dicom}: {done.stdout[:500]!r}")


def in_lanes(lanes: int, items: list, work) -> None:
    """`work(item)` for every item, `lanes` at a time; the first error ends the run."""
    with ThreadPoolExecutor(lanes) as pool:
        for future in [pool.submit(_lane, items[lane::lanes], work) for lane in range(lanes)]:
            future.result()


def _lane(items: list, work) -> None:
    for item in items:
        work(item)


def bare_tools(hub: Hub, photos: list[Photo], lanes: int, work: Path) -> Phase:
    out = work / "bare"
    out.mkdir()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    orthanc_before = hub.orthanc_cpu()
    start = time.monotonic()
    in_lanes(lanes, photos, lambda photo: curl_stow(hub, img2dcm(photo, out, out)))
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return Phase(
        name=f"bare tools, {lanes} lanes",
        photos=len(photos),
        seconds=seconds,
        cpu=cpu,
        orthanc_cpu=hub.orthanc_cpu() - orthanc_before,
        done=len(photos),
        note="jpegtran (rotated) + img2dcm -vlp + curl STOW",
    )


# 2. Orthanc's own ingest


def orthanc_ingest(hub: Hub, photos: list[Photo], lanes: int, work: Path) -> Phase:
    out = work / "ingest"
    out.mkdir()
    wrapped: list[Path] = []
    lock = threading.Lock()

    def wrap(photo: Photo) -> None:
        made = img2dcm(photo, out, out)
        with lock:
            wrapped.append(made)

    in_lanes(2, photos, wrap)  # untimed: only the STOW below is measured
    bodies = [
        (
            f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode()
            + path.read_bytes()
            + f"\r\n--{BOUNDARY}--\r\n".encode()
        )
        for path in sorted(wrapped)
    ]
    local = threading.local()

    def send(body: bytes) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.auth = (hub.orthanc.username, hub.orthanc.password)
        response = local.session.post(
            f"{hub.orthanc.dicomweb_url}/studies",
            data=body,
            headers={"Content-Type": STOW_TYPE, "Accept": "application/dicom+json"},
            timeout=REQUEST_TIMEOUT,
        )
        response.raise_for_status()
        if _stow_failed(response.json()):
            raise RuntimeError(f"Orthanc refused an instance: {response.text[:500]}")

    orthanc_before = hub.orthanc_cpu()
    start = time.monotonic()
    in_lanes(lanes, bodies, send)
    seconds = time.monotonic() - start
    return Phase(
        name=f"Orthanc STOW ingest, {lanes} lanes",
        photos=len(photos),
        seconds=seconds,
        cpu=0.0,
        orthanc_cpu=hub.orthanc_cpu() - orthanc_before,
        done=len(photos),
        note="img2dcm output, one instance a request, keep-alive",
    )


# 3 and 4. The hub
