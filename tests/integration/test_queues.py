"""The cpu and io queues apart, on the real stack: a photo is archived while a
video's transcode holds a cpu worker, its delivery done by the io worker; and
with an EMR to ask, the match goes to the io worker between the cpu steps;
and a worker killed inside the steps chained in one task is resumed at the
step the capture reached.

Two workers of the test's own on a Redis of its own, as a site would run
them: one on the cpu queue (two processes), one on the io queue with beat.
The transcode's ffmpeg is paused (SIGSTOP) once it runs, so that "still
transcoding" is a fact the test makes, not a race it hopes to win.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from hub.accounts.roles import Role
from hub.accounts.services import user_create_or_update
from hub.captures.models import Capture, CaptureStatus
from hub.captures.receive import Upload, capture_receive
from hub.pipeline.tasks import inspect_capture
from tests.hub.factories import received_capture
from tests.hub.matching.fhir_fixtures import MRN_SYSTEM, Hospital
from tests.integration.faults import (
    enqueue,
    instances_in_study,
    kill_worker,
    process_tree,
    suite_worker_paused,
    wait_until,
    worker_env,
)
from tests.integration.worker import CeleryWorker
from tests.media_video import make_h264, phone_metadata, set_portrait_matrix
from tests.peers.fhir import FhirEngine
from tests.peers.orthanc import OrthancPeer
from tests.peers.redis import RedisPeer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("suite_worker_paused"),
]

__all__ = ["suite_worker_paused"]  # the fixture, imported for this module's tests

CAPTURE_STEPS = ("inspect_capture", "match_capture", "encapsulate_capture", "deliver")
VIDEO_CONTEXT = {
    "patient": {"id": "MRN-Q1", "name": "DOE^JANE"},
    "specialty": "burn",
    "body_site": {"code": "SCT:40983000", "meaning": "Upper arm", "laterality": "R"},
}


def _received_video(tmp_path: Path) -> Capture:
    """A portrait phone video: its display matrix means a transcode (upright pixels)."""
    path = make_h264(
        tmp_path / "burn.mov",
        width=640,
        height=480,
        seconds=10,
        audio=True,
        metadata=phone_metadata(),
        fmt="mov",
    )
    data = set_portrait_matrix(path).read_bytes()
    user = user_create_or_update(username="queues", role=Role.CAPTURER)
    return capture_receive(
        user=user,
        upload=Upload(name="burn.mov", size=len(data), head=data[:4096], chunks=[data]),
        context_data=VIDEO_CONTEXT,
        max_bytes=10**9,
    ).capture


def _ffmpeg_below(pid: int) -> int | None:
    for one in process_tree(pid):
        try:
            argv0 = (Path(f"/proc/{one}/cmdline").read_bytes().split(b"\0") or [b""])[0]
        except OSError:
            continue
        if Path(argv0.decode(errors="replace")).name == "ffmpeg":
            return one
    return None


def _tasks_in(worker: CeleryWorker, task: str) -> int:
    return worker.log_path.read_text(errors="replace").count(f"hub.pipeline.tasks.{task}[")


def test_a_photo_is_archived_while_a_video_transcode_holds_a_cpu_worker(
    orthanc: OrthancPeer, tmp_path: Path
) -> None:
    redis = RedisPeer(tmp_path / "redis")
    redis.start()
    env = worker_env(redis.url, orthanc.dicomweb_url, orthanc, HUB_STEP_LEASE_SECONDS="30")
    workers: list[CeleryWorker] = []
    ffmpeg: int | None = None
    try:
        cpu = CeleryWorker(tmp_path / "cpu.log", env, queues=(settings.HUB_QUEUE_CPU,), beat=False)
        io = CeleryWorker(tmp_path / "io.log", env, queues=(settings.HUB_QUEUE_IO,))
        for worker in (cpu, io):
            worker.start()
            workers.append(worker)
        video = _received_video(tmp_path)
        enqueue(redis.url, inspect_capture, str(video.id))

        assert cpu.process is not None
        wait_until(
            lambda: _ffmpeg_below(cpu.process.pid) is not None,
            timeout=120,
            what="the video's transcode running",
            log=cpu.log_tail(),
        )
        ffmpeg = _ffmpeg_below(cpu.process.pid)
        assert ffmpeg is not None
        os.kill(ffmpeg, signal.SIGSTOP)

        photo = received_capture(tmp_path / "photo", patient_id="MRN-Q2")
        enqueue(redis.url, inspect_capture, str(photo.id))
        wait_until(
            lambda: Capture.objects.get(id=photo.id).status == CaptureStatus.ARCHIVED,
            timeout=120,
            what="the photo archived",
            log=cpu.log_tail(20) + "\n" + io.log_tail(20),
        )

        assert orthanc.find_instance(Capture.objects.get(id=photo.id).sop_instance_uid)
        # The video is still where its transcode left it: matched, its step's lease live.
        video.refresh_from_db()
        assert video.status == CaptureStatus.MATCHED
        assert video.lease_until is not None and video.lease_until > timezone.now()
        assert Path(f"/proc/{ffmpeg}").exists()
        # The photo's delivery went by the io queue's worker, never the cpu one's.
        assert _tasks_in(io, "deliver") >= 1
        assert _tasks_in(cpu, "deliver") == 0

        os.kill(ffmpeg, signal.SIGCONT)
        wait_until(
            lambda: Capture.objects.get(id=video.id).status == CaptureStatus.ARCHIVED,
            timeout=300,
            what="the video archived once its transcode went on",
            log=cpu.log_tail(20) + "\n" + io.log_tail(20),
        )
        video.refresh_from_db()
        assert orthanc.find_instance(video.sop_instance_uid)
    finally:
        if ffmpeg is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(ffmpeg, signal.SIGCONT)
        for worker in workers:
            worker.stop()
        redis.stop()


def _taken(worker: CeleryWorker) -> dict[str, int]:
    """The capture steps' messages the worker took, by task."""
    log = worker.log_path.read_text(errors="replace")
    taken = re.findall(r"Task hub\.pipeline\.tasks\.(\w+)\[[^\]]+\] received", log)
    return {task: taken.count(task) for task in set(taken) if task in CAPTURE_STEPS}


def test_with_an_emr_to_ask_the_match_runs_on_the_io_worker_between_the_cpu_steps(
    orthanc: OrthancPeer, fhir_engine: FhirEngine, loaded: Hospital, tmp_path: Path
) -> None:
    redis = RedisPeer(tmp_path / "redis")
    redis.start()
    env = worker_env(
        redis.url,
        orthanc.dicomweb_url,
        orthanc,
        HUB_FHIR_URL=fhir_engine.base_url,
        HUB_FHIR_MRN_SYSTEM=MRN_SYSTEM,
    )
    cpu = CeleryWorker(tmp_path / "cpu.log", env, queues=(settings.HUB_QUEUE_CPU,), beat=False)
    io = CeleryWorker(tmp_path / "io.log", env, queues=(settings.HUB_QUEUE_IO,))
    workers: list[CeleryWorker] = []
    try:
        for worker in (cpu, io):
            worker.start()
            workers.append(worker)
        photo = received_capture(
            tmp_path / "photo",
            context={
                "patient": {"id": loaded.mrns["jane"], "name": "DOE^JANE", "issuer": "HOSP"},
                "specialty": "wound",
            },
        )
        enqueue(redis.url, inspect_capture, str(photo.id))
        wait_until(
            lambda: Capture.objects.get(id=photo.id).status == CaptureStatus.ARCHIVED,
            timeout=120,
            what="the photo archived",
            log=str(Capture.objects.values("status", "reason").get(id=photo.id)),
        )

        photo.refresh_from_db()
        assert (
            photo.context["patient"]["name"] == "Doe^Jane^Q"
        )  # as the EMR has it  # matched against the EMR, not taken as sent
        assert orthanc.find_instance(photo.sop_instance_uid)
        # Each step's message went once, to the queue it belongs on.
        assert _taken(cpu) == {"inspect_capture": 1, "encapsulate_capture": 1}
        assert _taken(io) == {"match_capture": 1, "deliver": 1}
    finally:
        for worker in workers:
            worker.stop()
        redis.stop()


def test_a_worker_killed_inside_the_chained_steps_is_resumed_at_the_step_it_reached(
    orthanc: OrthancPeer, tmp_path: Path
) -> None:
    """Inspection and matching ran in the task that died during encapsulation:
    the next worker starts at encapsulation, never at inspection again."""
    redis = RedisPeer(tmp_path / "redis")
    redis.start()
    env = worker_env(redis.url, orthanc.dicomweb_url, orthanc)  # leases of 6 s
    first = CeleryWorker(tmp_path / "first.log", env)
    second = CeleryWorker(tmp_path / "second.log", env)
    try:
        first.start()
        video = _received_video(tmp_path)
        enqueue(redis.url, inspect_capture, str(video.id))
        assert first.process is not None
        wait_until(
            lambda: _ffmpeg_below(first.process.pid) is not None,
            timeout=120,
            what="the video's transcode running",
            log=first.log_tail(),
        )
        kill_worker(first)

        video.refresh_from_db()
        assert video.status == CaptureStatus.MATCHED
        assert video.media_info  # the inspection the dead task did is kept

        second.start()
        wait_until(
            lambda: Capture.objects.get(id=video.id).status == CaptureStatus.ARCHIVED,
            timeout=300,
            what="the video archived by the second worker",
            log=second.log_tail(30),
        )
        assert _taken(second) == {"encapsulate_capture": 1, "deliver": 1}
        assert instances_in_study(orthanc, video.study_instance_uid) == 1
    finally:
        first.stop()
        second.stop()
        redis.stop()
