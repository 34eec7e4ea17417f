"""The per-segment path (a clip per segment, then concat + sound + mux: the cloud's Map + Finish) and the
single-process path give the same video: frame counts, durations, starts; the concatenated video has
no gap and no repeated frame; and at every segment boundary the sound is within a frame of the picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from faceless.media.assemble import (
    AssemblyJob,
    AssemblyResult,
    AssemblySegment,
    ClipRenderSpec,
    FinishSegment,
    FinishSpec,
    RenderMode,
    assemble,
    finish,
    render_clip,
)
from faceless.media.audio import decode_pcm
from faceless.media.inspect import decode_frames, frame_times
from faceless.media.probe import probe
from faceless.media.thumbnail import image_strength
from faceless.media.timeline import frames_for
from faceless.models import WordTiming
from tests.unit.media_inputs import write_wav

W, H, FPS = 180, 320, 30
VOICES = ((1.01, 22050), (0.77, 16000), (1.23, 44100))  # seconds, sample rate: none on a frame boundary
LEVELS = (50, 200, 120)  # mean brightness of each segment's picture: the cuts are easy to find
CLEAN_LEVELS = (85, 240, 15)  # each picture's "without words" version (flat): the thumbnail's
BURST = 0.25  # each voice starts with a tone burst at its first sample, then silence


def textured(path: Path, level: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (90, 60, 3))
    big = np.kron(noise, np.ones((8, 8, 1)))  # 720x480 blocks: texture that shows sub-pixel motion
    image = np.clip(level + 35 * big, 0, 255).astype(np.uint8)
    Image.fromarray(image).filter(ImageFilter.GaussianBlur(2)).save(path)
    return path


def flat(path: Path, level: int) -> Path:
    Image.new("RGB", (480, 720), (level, level, level)).save(path)
    return path


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> AssemblyJob:
    folder = tmp_path_factory.mktemp("paths-inputs")
    segments = []
    for index, ((seconds, rate), level) in enumerate(zip(VOICES, LEVELS, strict=True)):
        t = np.arange(round(seconds * rate)) / rate
        voice = np.where(t < BURST, 0.5 * np.sin(2 * np.pi * 880 * t), 0.0)
        segments.append(
            AssemblySegment(
                index=index,
                image_path=textured(folder / f"image{index}.png", level, index),
                voice_path=write_wav(folder / f"voice{index}.wav", voice, rate),
                words=[WordTiming(word=f"word{index}", start=0.0, end=BURST)],
                clean_image_path=flat(folder / f"clean{index}.jpg", CLEAN_LEVELS[index]),
            )
        )
    return AssemblyJob(segments=segments, width=W, height=H, fps=FPS, title="Paths", workdir=folder / "unused")


@pytest.fixture(scope="module")
def renders(job, tmp_path_factory) -> dict[RenderMode, AssemblyResult]:
    return {
        mode: assemble(job.model_copy(update={"mode": mode, "workdir": tmp_path_factory.mktemp(mode.value)}))
        for mode in RenderMode
    }


def cut_frames(video: Path) -> list[int]:
    """Frames where the picture's brightness jumps: the first frame of each segment after the first."""
    means = decode_frames(video, W, H, gray=True).reshape(-1, W * H).mean(axis=1)
    return [int(i) + 1 for i in np.nonzero(np.abs(np.diff(means)) > 30)[0]]


def onsets(video: Path) -> list[float]:
    """Seconds where a tone burst starts (after silence), from the decoded sound track."""
    samples = decode_pcm(video)
    loud = np.abs(samples) > 0.05
    starts = np.nonzero(loud[1:] & ~loud[:-1])[0] + 1
    kept = [int(starts[0])] if loud[0] or len(starts) == 0 else []
    for start in starts:
        if not kept or start - kept[-1] > 0.5 * 48000:  # bursts are far apart; cycles of one burst are not
            kept.append(int(start))
    return [s / 48000 for s in kept]


def test_both_paths_give_the_same_frames_durations_and_starts(renders):
    single, per_segment = renders[RenderMode.single], renders[RenderMode.per_segment]
    expected = [frames_for(seconds, FPS) for seconds, _ in VOICES]  # 31, 24, 37
    assert single.segment_frames == per_segment.segment_frames == expected
    assert single.frames == per_segment.frames == sum(expected)
    assert single.duration_seconds == per_segment.duration_seconds == pytest.approx(sum(expected) / FPS)
    assert single.segment_starts == per_segment.segment_starts
    for result in renders.values():
        info = probe(result.video_path)
        assert info.frames == sum(expected)
        assert (info.width, info.height, info.fps) == (W, H, 30.0)
        assert len(decode_pcm(result.video_path)) / 48000 == pytest.approx(sum(expected) / FPS, abs=1 / FPS)
    # AND the captions files are identical
    assert single.srt_path.read_text() == per_segment.srt_path.read_text()
    assert single.vtt_path.read_text() == per_segment.vtt_path.read_text()


def test_the_concatenated_video_has_no_gap_and_no_repeated_frame(renders):
    single, per_segment = (decode_frames(renders[m].video_path, W, H, gray=True).astype(float) for m in RenderMode)
    # every frame is stamped at exactly n / fps: no gap, no overlap at the clip joins
    stamps = frame_times(renders[RenderMode.per_segment].video_path)
    assert [n for n, _ in stamps] == list(range(len(single)))
    assert all(t == pytest.approx(n / FPS, abs=1e-4) for n, t in stamps)
    # no frame repeats its predecessor (the picture moves on every frame, across the joins too)
    moves = np.abs(np.diff(per_segment, axis=0)).mean(axis=(1, 2))
    assert moves.min() > 0.3
    # and it shows the same pictures as the single render, frame for frame (two encodings of the same
    # frames: coding noise only)
    assert np.abs(per_segment - single).mean(axis=(1, 2)).max() < 2.5


@pytest.mark.parametrize("mode", list(RenderMode))
def test_sound_and_picture_meet_within_a_frame_at_every_segment_boundary(renders, mode):
    result = renders[mode]
    cuts = cut_frames(result.video_path)
    starts = onsets(result.video_path)
    expected = [round(s * FPS) for s in result.segment_starts]
    # GIVEN the picture changes where the timeline says, and each voice's burst is heard
    assert cuts == expected[1:]
    assert len(starts) == len(VOICES)
    # THEN each segment's voice starts within one frame of its first frame (the first one at 0)
    for start_frame, onset in zip(expected, starts, strict=True):
        assert abs(onset - start_frame / FPS) <= 1 / FPS, f"A/V offset {onset - start_frame / FPS:+.4f} s"


def test_the_cloud_steps_called_one_by_one_make_the_same_video(job, renders, tmp_path):
    # GIVEN each segment rendered by its own render_clip call (as each Lambda of the Map would)
    clips = [
        render_clip(
            ClipRenderSpec(index=s.index, image_path=s.image_path, voice_path=s.voice_path, words=s.words,
                           seed=job.title, width=W, height=H, fps=FPS, target=tmp_path / "clips" / f"{s.index}.mp4")
        )  # fmt: skip
        for s in job.segments
    ]
    # WHEN the finish step gets the clips' results
    result = finish(
        FinishSpec(
            segments=[
                FinishSegment(index=c.index, clip_path=c.clip_path, frames=c.frames, voice_path=s.voice_path,
                              words=s.words, image_path=s.image_path, image_score=c.image_score)
                for c, s in zip(clips, job.segments, strict=True)
            ],  # fmt: skip
            title=job.title, width=W, height=H, fps=FPS, workdir=tmp_path / "out",
        )  # fmt: skip
    )
    # THEN it is the same video as the local per-segment path's
    reference = renders[RenderMode.per_segment]
    assert [c.frames for c in clips] == reference.segment_frames
    assert result.frames == reference.frames
    ours = decode_frames(result.video_path, W, H, gray=True).astype(float)
    theirs = decode_frames(reference.video_path, W, H, gray=True).astype(float)
    assert np.abs(ours - theirs).max() == 0  # same clips, same concat: bit-identical pictures
    # AND the video is exactly the clips' frames one after the other: none lost or doubled at a join
    joined = np.concatenate([decode_frames(c.clip_path, W, H, gray=True).astype(float) for c in clips])
    assert joined.shape == ours.shape and np.abs(joined - ours).max() == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "captions.srt", "captions.vtt", "thumbnail.jpg", "video.mp4",
    ]  # fmt: skip


def test_both_paths_make_the_same_thumbnail_from_the_strongest_picture_without_its_words(job, renders):
    # GIVEN the pictures' strengths as a thumbnail scores them from their files, and each picture's
    # version without the words its provider set on it
    strengths = [image_strength(s.image_path) for s in job.segments]
    strongest = int(np.argmax(strengths))
    # WHEN both paths rendered (each scores a picture while decoding it for the frames)
    thumbnails = [np.asarray(Image.open(r.thumbnail_path).convert("L"), dtype=float) for r in renders.values()]
    # THEN they made the same thumbnail
    assert np.abs(thumbnails[0] - thumbnails[1]).max() == 0
    # AND it is the strongest picture's version without words: its top (above the title's shade) has
    # that version's brightness, not the picture's own nor any other's
    top = thumbnails[0][: H // 4].mean()
    levels = [*LEVELS, *CLEAN_LEVELS]
    assert int(np.argmin([abs(top - level) for level in levels])) == len(LEVELS) + strongest


def test_a_rendered_clip_scores_its_picture_as_the_file_would_be_scored(job, tmp_path):
    # GIVEN one segment
    segment = job.segments[1]
    # WHEN it is rendered as a clip
    clip = render_clip(
        ClipRenderSpec(index=segment.index, image_path=segment.image_path, voice_path=segment.voice_path,
                       seed=job.title, width=W, height=H, fps=FPS, target=tmp_path / "clip.mp4")
    )  # fmt: skip
    # THEN its score is the picture's strength (the finish step picks the thumbnail by it)
    assert clip.image_score == image_strength(segment.image_path)
