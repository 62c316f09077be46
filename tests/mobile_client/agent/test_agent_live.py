"""The agent against the live hub (no pipeline): what lands in done/ and failed/, and why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from capture_api.models import ResumableUpload
from hub.captures.models import Capture
from tests.media import make_jpeg
from tests.mobile_client.agent.agent_process import AgentProcess, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_photo_folder_sends_once_and_files_refusals_with_reasons(
    live_server, live_token: str, tmp_path: Path
) -> None:
    folder = tmp_path / "camera-share"
    folder.mkdir()
    photo = make_jpeg(folder / "MRN-0042_wound.jpg", width=320, height=240)
    (folder / "MRN-0042_notes.jpg").write_text("not a photo, whatever its name says\n")
    make_jpeg(folder / "holiday.jpg", width=64, height=48)
    (folder / "readme.txt").write_text("not matched by the profile's patterns")
    agent = AgentProcess(
        folder,
        hub=live_server.url,
        token=live_token,
        state=tmp_path / "state",
        profile="photo-folder",
        extra=("--quiet-seconds", "0.3", "--no-progress"),
    ).start()
    try:
        done, failed = folder / "done", folder / "failed"
        wait_until(
            lambda: (
                (done / photo.name).exists()
                and (failed / "MRN-0042_notes.jpg").exists()
                and (failed / "holiday.jpg").exists()
            ),
            timeout=30,
            what="the three photos to be filed",
            agent=agent,
        )
        refused = (failed / "MRN-0042_notes.jpg.reason.txt").read_text()
        assert refused.startswith("HTTP 415: file: ")
        assert refused.count("\n") == 1
        no_context = (failed / "holiday.jpg.reason.txt").read_text()
        assert no_context.startswith("no patient context: the file name does not match")
        assert (folder / "readme.txt").exists()

        [capture] = Capture.objects.all()
        assert capture.context["patient"]["id"] == "MRN-0042"
        assert capture.context["specialty"] == "general"
        assert capture.original_name == photo.name
        [captured] = agent.events("captured")
        assert captured["capture_id"] == str(capture.id)
        assert captured["upload_url"].startswith(f"{live_server.url}/api/v1/uploads/")

        # The same photo dropped again under another name: filed, not sent again.
        shutil.copy(done / photo.name, folder / "MRN-0042_wound_copy.jpg")
        wait_until(
            lambda: (done / "MRN-0042_wound_copy.jpg").exists(),
            timeout=30,
            what="the copy to be filed",
            agent=agent,
        )
        assert Capture.objects.count() == 1
        assert ResumableUpload.objects.filter(filename__startswith="MRN-0042_wound").count() == 1
        [duplicate] = agent.events("duplicate")
        assert duplicate["capture_id"] == str(capture.id)
    finally:
        status = agent.stop()
    assert status == 0
    assert agent.events()[-1]["event"] == "shut_down"
    for record in agent.events():
        assert {"ts", "level", "event"} <= set(record)


def test_tower_marker_takes_a_file_at_once_with_its_sidecar(
    live_server, live_token: str, tmp_path: Path
) -> None:
    folder = tmp_path / "tower-export"
    folder.mkdir()
    still = make_jpeg(folder / "case17_still01.jpg", width=320, height=240)
    context = {"patient": {"id": "MRN-0042", "issuer": "HOSP"}, "description": "Gastroscopy"}
    (folder / "case17_still01.json").write_text(json.dumps(context))
    # A quiet period of a minute: only the marker can make the file taken within the test.
    agent = AgentProcess(
        folder,
        hub=live_server.url,
        token=live_token,
        state=tmp_path / "state",
        profile="endoscopy-tower",
        extra=("--quiet-seconds", "60", "--no-progress"),
    ).start()
    try:
        wait_until(lambda: agent.events("watching"), timeout=20, what="start", agent=agent)
        assert not (folder / "done").exists()
        (folder / "case17_still01.jpg.done").touch()
        done = folder / "done"
        wait_until(
            lambda: (done / "case17_still01.jpg.done").exists(),  # moved last
            timeout=20,
            what="the still and its sidecar and marker",
            agent=agent,
        )
        assert (done / still.name).exists()
        assert (done / "case17_still01.json").exists()
        assert (done / "case17_still01.jpg.done").exists()
        assert sorted(p.name for p in folder.iterdir()) == ["done"]
        capture = Capture.objects.get()
        assert capture.context["specialty"] == "endoscopy"
        assert capture.context["description"] == "Gastroscopy"
        upload = ResumableUpload.objects.get()
        assert "station" in upload.metadata  # Upload-Metadata carries the profile's station
    finally:
        assert agent.stop() == 0


def test_a_bad_sidecar_context_is_refused_by_the_hub_with_its_reason(
    live_server, live_token: str, tmp_path: Path
) -> None:
    folder = tmp_path / "tower-export"
    folder.mkdir()
    make_jpeg(folder / "case18.jpg", width=64, height=48)
    (folder / "case18.json").write_text(json.dumps({"patient": {"id": "MRN-1", "sex": "X"}}))
    (folder / "case18.jpg.done").touch()
    agent = AgentProcess(
        folder,
        hub=live_server.url,
        token=live_token,
        state=tmp_path / "state",
        profile="endoscopy-tower",
        extra=("--no-progress",),
    ).start()
    try:
        failed = folder / "failed"
        reason = failed / "case18.jpg.reason.txt"
        # The reason is written first, then the clip and its sidecar are moved.
        wait_until(
            lambda: (failed / "case18.json").exists(), timeout=20, what="the refusal", agent=agent
        )
        assert reason.read_text() == (
            "HTTP 400: context: context.patient.sex must be one of M, F, O\n"
        )
        assert (failed / "case18.jpg").exists()
        assert ResumableUpload.objects.count() == 0  # refused before a byte was sent
    finally:
        assert agent.stop() == 0
