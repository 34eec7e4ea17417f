"""The cloud's render path, run locally: a RenderClip invocation per segment (the container
function's handler), then Finish joins them. Same state machine, render_mode=per_segment."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceless.media.probe import probe
from faceless.models import VideoRequest
from faceless.runner.embedded import EmbeddedRunner
from faceless.runner.local import make_video
from tests.statemachine.pictures import assert_thumbnail_made_from_a_clean_scene

pytestmark = pytest.mark.slow


def test_per_segment_render_fans_out_clips_and_joins_them_without_gaps(tmp_path):
    from faceless.bootstrap import build_services, use_services
    from faceless.settings import Settings

    # GIVEN the per-segment render mode (what the template sets in the cloud)
    services = build_services(Settings(home=tmp_path, render_mode="per_segment", max_concurrency=2))
    use_services(services)
    try:
        with EmbeddedRunner() as runner:
            # WHEN a 15 s video is made
            run = make_video(VideoRequest(topic="why leaves change colour", duration_seconds=15, format="1:1"), runner, services)
    finally:
        use_services(None)

    # THEN one RenderClip per segment ran, the single-process Assemble did not, and Finish joined them
    assert run.succeeded, run.execution.cause
    segments = run.metadata.plan.segment_count
    clips = [i for i in run.execution.invocations if i.function == "RenderClipFunction"]
    assert len(clips) == segments
    assert not any(i.function == "AssembleFunction" for i in run.execution.invocations)
    assert sum(1 for i in run.execution.invocations if i.function == "FinishFunction") == 1
    # the joined video has exactly the clips' frames: no gap, no repeated frame
    folder = Path(run.folder)
    info = probe(folder / "video.mp4")
    assert (info.width, info.height) == (1080, 1080)
    assert info.frames == sum(i.result["frames"] for i in clips)
    assert abs(info.duration_seconds - info.frames / 30) <= 1 / 30
    assert {t.stage for t in run.metadata.timings} >= {"render", "assemble"}
    # AND the thumbnail (made by Finish, which fetches only the strongest segment's pictures) sets the
    # title on that card's scene without its words
    assert_thumbnail_made_from_a_clean_scene(folder)
