"""A whole video, for real: every state's real handler, offline providers, a rendered MP4."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import pytest

from faceless.media.probe import probe
from faceless.models import VideoRequest
from faceless.runner.embedded import EmbeddedRunner
from faceless.runner.local import make_video
from tests.statemachine.pictures import assert_thumbnail_made_from_a_clean_scene

pytestmark = pytest.mark.slow

SRT_TIME = re.compile(r"(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)")


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.strip().splitlines()
        match = SRT_TIME.search(lines[1])
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
        cues.append((h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000, " ".join(lines[2:])))
    return cues


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One real 15 s 9:16 video made by the state machine (shared by the tests below)."""
    from faceless.bootstrap import build_services, use_services
    from faceless.settings import Settings

    services = build_services(Settings(home=tmp_path_factory.mktemp("blobs")))
    use_services(services)
    try:
        with EmbeddedRunner() as runner:
            run = make_video(VideoRequest(topic="why the sky is blue", duration_seconds=15), runner, services)
    finally:
        use_services(None)
    assert run.succeeded, run.execution.cause
    return run, Path(run.folder)


def test_all_six_outputs_are_next_to_each_other(finished):
    run, folder = finished
    for name in ("video.mp4", "captions.srt", "captions.vtt", "thumbnail.jpg", "script.json", "metadata.json"):
        assert (folder / name).is_file(), name
        assert (folder / name).stat().st_size > 0, name


def test_the_thumbnail_sets_the_title_on_a_scene_without_the_cards_own_words(finished):
    # GIVEN the offline cards, each with its key words set on it, and their scenes stored without them
    run, folder = finished
    images = [i.result for i in run.execution.invocations if i.function == "ImageFunction"]
    assert images and all(image["clean_key"].endswith(".clean.jpg") for image in images)
    # WHEN the thumbnail is compared with every stored picture above the title
    # THEN it was made from a scene without words, not from a card with its headline
    assert_thumbnail_made_from_a_clean_scene(folder)


def test_video_has_the_right_size_codecs_and_the_narrations_duration(finished):
    run, folder = finished
    info = probe(folder / "video.mp4")
    assert (info.width, info.height) == (1080, 1920)
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert info.pix_fmt == "yuv420p" and round(info.fps) == 30
    frame = 1 / 30
    clips = sorted((folder / "voice").glob("*.wav"))
    assert len(clips) == run.metadata.plan.segment_count
    # each clip is padded up to whole frames so cuts land on frame boundaries
    narration = sum(-(-wav_seconds(c) // frame) * frame for c in clips)
    assert abs(info.duration_seconds - narration) <= 0.1
    assert abs(run.metadata.duration_seconds - narration) <= 0.1


def test_captions_follow_the_spoken_words(finished):
    run, folder = finished
    cues = parse_srt((folder / "captions.srt").read_text())
    script = json.loads((folder / "script.json").read_text())
    spoken_words = script["narration"].split()
    caption_words = " ".join(text for _, _, text in cues).split()
    assert [w.strip(".,;:!?\"'").lower() for w in caption_words] == [w.strip(".,;:!?\"'").lower() for w in spoken_words]
    starts = [start for start, _, _ in cues]
    assert starts == sorted(starts)
    assert all(end > start for start, end, _ in cues)
    assert cues[-1][1] <= run.metadata.duration_seconds + 1 / 30
    # the first caption appears when the first word is spoken, to the frame
    voices = [i.result for i in run.execution.invocations if i.function == "VoiceFunction" and i.result]
    first_voice = next(v for v in voices if v["index"] == 0)
    assert abs(cues[0][0] - first_voice["words"][0]["start"]) <= 1 / 30 + 0.001
    vtt = (folder / "captions.vtt").read_text()
    assert vtt.startswith("WEBVTT")
    assert vtt.count("-->") == len(cues)


def test_metadata_holds_usage_timings_and_cost(finished):
    run, folder = finished
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["title"] and meta["description"] and meta["hashtags"]
    stages = {t["stage"] for t in meta["timings"]}
    assert {"plan", "script", "context", "direct", "refine", "images", "voices", "assemble", "finalize"} <= stages
    assert all(t["seconds"] >= 0 for t in meta["timings"])
    agents = meta["tokens_by_agent"]
    assert {"storyteller", "context", "director"} <= set(agents)
    assert all(row["prompt_tokens"] > 0 and row["completion_tokens"] > 0 for row in agents.values())
    assert meta["cost"]["total_usd"] >= 0
    assert meta["images"] + meta["images_reused"] == run.metadata.plan.segment_count
