"""A video, described and wrapped (the handler for MP4, QuickTime, MPEG, WebM, AVI).

The transfer syntax policy (``video.policy``) decides whether the file goes
into Pixel Data byte for byte, rewritten into a clean container (same coded
pictures: still ORIGINAL), or transcoded to H.264 High (DERIVED, with a
Derivation Description). The DICOM attributes are then read from the stream
that is actually stored, and the file is streamed into Pixel Data.
"""

from __future__ import annotations

from pathlib import Path

from encapsulate.context.capture import CaptureContext
from encapsulate.errors import MediaError
from encapsulate.identity import InstanceIdentity, Producer
from encapsulate.iods.choice import MediaKind, capture_iod
from encapsulate.iods.video import VideoOrigin, build_video_dataset
from encapsulate.media.info import MediaInfo
from encapsulate.media.sniff import sniff_file
from encapsulate.video.output import write_video_instance
from encapsulate.video.policy import (
    MAX_FRAGMENT,
    Action,
    Plan,
    StreamFacts,
    choose_plan,
    fragmentable_syntax,
)
from encapsulate.video.probe import SUPPORTED_CODECS, VideoProbe, media_info, probe_video
from encapsulate.video.transcode import derivation_text, remux, transcode
from encapsulate.written import WrittenInstance


def stream_facts(probe: VideoProbe) -> StreamFacts:
    return StreamFacts(
        codec=probe.codec,
        profile=probe.profile,
        level=probe.level,
        width=probe.width,
        height=probe.height,
        pix_fmt=probe.pix_fmt,
        frame_rate=probe.frame_rate,
        container=probe.container,
        rotation=probe.rotation,
        progressive=probe.progressive,
        audio_codec=probe.audio_codec,
        private_metadata=bool(probe.private_keys),
        size_bytes=probe.size_bytes,
    )


def inspect_video(path: Path) -> MediaInfo:
    """Describe a video; ``MediaError`` / ``UnsupportedMediaError`` as ``probe_video``."""
    return media_info(probe_video(path), sniff_file(path).value)


def plan_video(path: Path, *, fragment_limit: int = MAX_FRAGMENT) -> tuple[VideoProbe, Plan]:
    probe = probe_video(path)
    return probe, choose_plan(stream_facts(probe), fragment_limit=fragment_limit)


def _origin(source: VideoProbe, stream: VideoProbe, plan: Plan) -> VideoOrigin:
    codec = SUPPORTED_CODECS.get(source.codec, source.codec)
    if plan.action is Action.PASSTHROUGH:
        return VideoOrigin(False, f"Wrapped a {codec} video as DICOM without changing it")
    if plan.action is Action.REMUX:
        return VideoOrigin(
            False,
            f"Rewrote the {codec} video's {source.container} container as {plan.container} "
            f"without re-encoding ({plan.reason})",
        )
    derivation = derivation_text(source, stream, source.rotation)
    return VideoOrigin(True, f"Transcoded to H.264: {plan.reason}", derivation)


def _check_stored(stream: VideoProbe, plan: Plan, fragment_limit: int) -> str:
    """The transfer syntax of the stream about to be stored, re-checked by the policy."""
    check = choose_plan(stream_facts(stream), fragment_limit=fragment_limit)
    if check.action is not Action.PASSTHROUGH or check.transfer_syntax != plan.transfer_syntax:
        raise MediaError(
            f"the rewritten video does not fit {plan.transfer_syntax} ({check.reason}); "
            "this is a bug in the hub, not in the capture"
        )
    if stream.size_bytes > fragment_limit:
        return fragmentable_syntax(plan.transfer_syntax)
    return plan.transfer_syntax


def wrap_video(
    path: Path,
    *,
    context: CaptureContext,
    identity: InstanceIdentity,
    producer: Producer,
    out_dir: Path,
    fragment_limit: int = MAX_FRAGMENT,
) -> list[WrittenInstance]:
    """One video instance named ``<SOP Instance UID>.dcm`` (PS3.3 A.32.7, A.32.5 or A.7).

    ``fragment_limit`` is the largest fragment (PS3.5 A.4); only tests lower it.
    Nothing is left in ``out_dir`` if anything fails.
    """
    source, plan = plan_video(path, fragment_limit=fragment_limit)
    iod = capture_iod(context, MediaKind.VIDEO, make=source.make)
    work = out_dir / f".{identity.sop_instance_uid}.video.part"
    try:
        if plan.action is Action.PASSTHROUGH:
            stream_path = path
        elif plan.action is Action.REMUX:
            stream_path = remux(
                path,
                work,
                container=plan.container,
                has_audio=source.audio_codec is not None,
                copy_audio=plan.copy_audio,
            )
        else:
            assert plan.target is not None
            stream_path = transcode(
                path,
                work,
                target=plan.target,
                source_rate=float(source.frame_rate),
                has_audio=source.audio_codec is not None,
            )
        stream = source if stream_path == path else probe_video(stream_path)
        syntax = _check_stored(stream, plan, fragment_limit)
        dataset = build_video_dataset(
            stream=stream,
            source=source,
            origin=_origin(source, stream, plan),
            transfer_syntax=syntax,
            iod=iod,
            context=context,
            identity=identity,
            producer=producer,
        )
        written = write_video_instance(
            dataset,
            stream_path,
            out_dir / f"{identity.sop_instance_uid}.dcm",
            fragment_limit=fragment_limit,
        )
    finally:
        work.unlink(missing_ok=True)
    return [
        WrittenInstance(
            path=written.path,
            sha256=written.sha256,
            sop_class_uid=iod.sop_class_uid,
            sop_instance_uid=identity.sop_instance_uid,
            series_instance_uid=identity.series_instance_uid,
            study_instance_uid=identity.study_instance_uid,
            transfer_syntax_uid=syntax,
            derived=plan.action is Action.TRANSCODE,
        )
    ]
