"""A tower exports a large MPEG-2 clip slowly; the agent is killed mid-upload, restarted, and
the clip is archived in Orthanc exactly once, having re-sent next to nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from capture_api.models import ResumableUpload, UploadStatus
from hub.captures.models import Capture, CaptureStatus
from tests.mobile_client.agent.agent_process import AgentProcess, wait_until
from tests.mobile_client.agent.conftest import device_token
from tests.peers.orthanc import OrthancPeer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

KIB = 1024
CHUNK = 512 * KIB
CONTEXT = {
    "patient": {"id": "MRN-0042", "issuer": "HOSP", "name": "DOE^JANE", "sex": "F"},
    "order": {"accession_number": "ACC-77", "issuer": "HOSP"},
    "operator": "ENDO^ANN",
    "description": "Colonoscopy",
}


def tower_writes_slowly(source: Path, target: Path, *, pieces: int, seconds: float) -> None:
    """Writes `source` to `target` in pieces over `seconds`, as a tower's export does."""
    data = source.read_bytes()
    step = -(-len(data) // pieces)
    with target.open("wb") as out:
        for start in range(0, len(data), step):
            out.write(data[start : start + step])
            out.flush()
            time.sleep(seconds / pieces)


def test_a_killed_agent_resumes_and_the_clip_is_archived_once(
    hub_stack: OrthancPeer,
    live_server,
    wait_for_status: Callable[..., Capture],
    endoscopy_mpeg: Path,
    tmp_path: Path,
) -> None:
    token = device_token("tower-1")
    folder = tmp_path / "tower-export"
    folder.mkdir()
    size = endoscopy_mpeg.stat().st_size
    assert size > 20 * 1024 * KIB
    instances_before = hub_stack.count_instances()

    def agent(label: str) -> AgentProcess:
        return AgentProcess(
            folder,
            hub=live_server.url,
            token=token,
            state=tmp_path / "state",
            profile="endoscopy-tower",
            label=label,
            # Small chunks at 4 MiB/s so the kill lands mid-upload.
            extra=("--quiet-seconds", "1", "--chunk-size", "512K", "--max-rate", "4MiB",
                   "--wait-archived", "--no-progress"),
        )  # fmt: skip

    first = agent("first").start()
    (folder / "proc-0815.json").write_text(json.dumps(CONTEXT))
    clip = folder / "proc-0815.mpg"
    tower_writes_slowly(endoscopy_mpeg, clip, pieces=40, seconds=3)
    written_at = time.time()

    upload = wait_until(
        lambda: ResumableUpload.objects.filter(
            filename=clip.name, offset__gte=6 * 1024 * KIB
        ).first(),
        timeout=30,
        what="6 MiB to reach the hub",
        agent=first,
    )
    first.kill()
    upload.refresh_from_db()
    assert upload.status == UploadStatus.RECEIVING
    assert upload.length == size  # taken only once the tower had finished writing
    [created] = first.events("upload_created")
    assert created["ts"] >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(written_at - 0.001))
    offset_at_kill = upload.offset

    second = agent("second").start()
    try:
        wait_until(
            # The sidecar is moved right after the clip.
            lambda: (folder / "done" / "proc-0815.json").exists(),
            timeout=90,
            what="the clip to be archived and filed",
            agent=second,
        )
    finally:
        assert second.stop() == 0

    assert second.events("upload_created") == []
    [resumed] = second.events("upload_resumed")
    assert resumed["upload_url"] == created["upload_url"]
    [uploaded] = second.events("uploaded")
    assert uploaded["bytes"] == size - offset_at_kill  # only what the hub lacked
    upload.refresh_from_db()
    resent = upload.received_bytes - size
    print(f"\n{size} bytes; killed at offset {offset_at_kill}; re-sent after the kill: {resent}")
    assert upload.status == UploadStatus.COMPLETE
    assert resent <= CHUNK  # at most the chunk in flight when the agent was killed
    assert ResumableUpload.objects.filter(filename=clip.name).count() == 1

    capture = wait_for_status(str(upload.capture_id), "archived", timeout=5)
    assert capture.status == CaptureStatus.ARCHIVED
    assert capture.context["specialty"] == "endoscopy"
    assert hub_stack.find_instance(capture.sop_instance_uid)
    assert hub_stack.count_instances() == instances_before + 1
    assert (folder / "done" / clip.name).read_bytes() == endoscopy_mpeg.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == ["done"]
    [archived] = second.events("archived")
    assert archived["capture_id"] == str(capture.id)
