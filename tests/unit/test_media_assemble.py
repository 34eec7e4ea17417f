"""Video assembly end to end on tiny inputs (360x640, ~4 s): size, codecs, timing, cover-fit, smooth motion,
burned captions, music, thumbnail, errors. Two renders are shared by the module to stay fast."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from faceless.errors import RenderError
from faceless.media.assemble import AssemblyJob, AssemblyResult, AssemblySegment, assemble
from faceless.media.audio import mean_volume_db
from faceless.media.ffmpeg import ffmpeg_exe
from faceless.media.inspect import frame_times
from faceless.media.kenburns import Motion, motion_for, window_at
from faceless.media.probe import probe
from faceless.media.timeline import frames_for, snap_to_frame
from faceless.models import CaptionStyle, WordTiming
from tests.unit.media_inputs import write_wav

W, H, FPS = 360, 640, 30
VOICE_SECONDS = (1.01, 3.0)  # 31 and 90 frames
CIRCLE = (400, 300, 120)  # centre x, y and radius in the 800x600 (4:3) source
# a job whose first segment zooms and whose second pans sideways (the bar picture shows the pan)
SEED = next(
    f"seed-{n}" for n in range(100) if motion_for(1, f"seed-{n}").motion in (Motion.pan_left, Motion.pan_right)
)


# ------------------------------------------------------------------ inputs


def tone(seconds: float, rate: int, on: tuple[float, float], hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return np.where((t >= on[0]) & (t < on[1]), 0.5 * np.sin(2 * np.pi * hz * t), 0.0)


def circle_picture(path: Path) -> Path:
    """4:3, dark blue, a red ring in the middle: it must stay round in a 9:16 frame."""
    image = Image.new("RGB", (800, 600), (20, 30, 70))
    x, y, r = CIRCLE
    ImageDraw.Draw(image).ellipse([x - r, y - r, x + r, y + r], outline=(230, 30, 30), width=10)
    image.save(path)
    return path


def bar_picture(path: Path) -> Path:
    """9:16, dark, one bright vertical bar in the middle: its position tracks the pan."""
    image = Image.new("RGB", (540, 960), (15, 15, 15))
    ImageDraw.Draw(image).rectangle([261, 0, 279, 959], fill=(240, 240, 240))
    image.save(path)
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media-inputs")
    return {
        "image0": circle_picture(folder / "circle.png"),
        "image1": bar_picture(folder / "bar.jpg"),
        # the first voice is quiet at its end; the second starts with a burst at its very first sample
        "voice0": write_wav(folder / "v0.wav", tone(VOICE_SECONDS[0], 22050, (0.1, 0.7)), 22050),
        "voice1": write_wav(folder / "v1.wav", tone(VOICE_SECONDS[1], 16000, (0.0, 0.6), 660), 16000),
        "music": write_wav(
            folder / "music.wav",
            np.repeat(tone(5.0, 44100, (0, 5), 220)[:, None] * 0.5, 2, axis=1).reshape(-1),
            44100,
            channels=2,
        ),
    }


WORDS0 = [WordTiming(word="Round", start=0.5, end=0.7), WordTiming(word="things!", start=0.72, end=0.95)]
WORDS1 = [
    WordTiming(word=w, start=0.2 + 0.4 * i, end=0.5 + 0.4 * i)
    for i, w in enumerate("a {braced} C:\\path moves slowly right".split())
]


def job(inputs: dict[str, Path], workdir: Path, *, captions: bool, music: bool) -> AssemblyJob:
    return AssemblyJob(
        segments=[
            AssemblySegment(index=0, image_path=inputs["image0"], voice_path=inputs["voice0"],
                            words=WORDS0 if captions else []),
            AssemblySegment(index=1, image_path=inputs["image1"], voice_path=inputs["voice1"],
                            words=WORDS1 if captions else []),
        ],  # fmt: skip
        music_path=inputs["music"] if music else None,
        width=W,
        height=H,
        fps=FPS,
        caption_style=CaptionStyle.bold,
        title="A tiny test video about round things",
        workdir=workdir,
        seed=SEED,
    )


@pytest.fixture(scope="module")
def full(inputs, tmp_path_factory) -> AssemblyResult:
    """Captions and music."""
    return assemble(job(inputs, tmp_path_factory.mktemp("full"), captions=True, music=True))


@pytest.fixture(scope="module")
def plain(inputs, tmp_path_factory) -> AssemblyResult:
    """The same pictures and voices, no words, no music."""
    return assemble(job(inputs, tmp_path_factory.mktemp("plain"), captions=False, music=False))


# ------------------------------------------------------------------ decoding helpers


def decode_frames(video: Path, first: int, count: int, crop: str | None = None) -> np.ndarray:
    """Frames [first, first+count) as RGB arrays, decoded by ffmpeg through a pipe."""
    filters = f"select='between(n\\,{first}\\,{first + count - 1})'" + (f",crop={crop}" if crop else "")
    raw = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(video), "-vf", filters,
         "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    height, width = (H, W) if crop is None else (int(crop.split(":")[1]), int(crop.split(":")[0]))
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3).astype(int)


def decode_audio(video: Path) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(video), "-map", "0:a:0", "-ac", "1",
         "-ar", "48000", "-f", "f32le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.float32)


# ------------------------------------------------------------------ tests


def test_the_video_has_the_right_size_codecs_rate_and_faststart(full):
    # GIVEN a rendered job WHEN probed
    info = probe(full.video_path)
    # THEN H.264 High yuv420p at exactly 30 fps, AAC 48 kHz stereo, 360x640
    assert (info.width, info.height) == (W, H)
    assert (info.video_codec, info.video_profile, info.pix_fmt, info.fps) == ("h264", "High", "yuv420p", 30.0)
    assert (info.audio_codec, info.audio_sample_rate, info.audio_channels) == ("aac", 48000, 2)
    # AND the index (moov) precedes the media data, so playback starts before the download ends
    head = full.video_path.read_bytes()[:200_000]
    assert head.find(b"moov") != -1 and head.find(b"moov") < head.find(b"mdat")


def test_duration_is_the_sum_of_frame_rounded_narrations(full):
    # GIVEN narrations of 1.01 s and 3.0 s WHEN assembled at 30 fps
    expected_frames = sum(frames_for(s, FPS) for s in VOICE_SECONDS)  # 31 + 90
    info = probe(full.video_path)
    # THEN the picture has exactly that many frames and both tracks last that long (within a frame)
    assert info.frames == full.frames == expected_frames == 121
    assert full.duration_seconds == pytest.approx(expected_frames / FPS)
    assert info.duration_seconds == pytest.approx(expected_frames / FPS, abs=1 / FPS)
    assert len(decode_audio(full.video_path)) / 48000 == pytest.approx(expected_frames / FPS, abs=1 / FPS)
    # AND segment 2 starts on the frame after segment 1's 31
    assert full.segment_starts == [0.0, pytest.approx(31 / FPS)]


def test_every_frame_is_stamped_at_a_whole_frame_time_across_clip_boundaries(full):
    # GIVEN clips of 31 and 90 frames joined by stream copy
    log = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(full.video_path), "-vf", "showinfo", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    stamps = [(int(n), float(t)) for n, t in re.findall(r"n:\s*(\d+)\s+pts:\s*\d+\s+pts_time:([\d.]+)", log)]
    # THEN frame n is shown at exactly n/30 s: no gap, overlap or drift at the cut
    assert len(stamps) == 121
    assert all(t == pytest.approx(n / FPS, abs=1e-4) for n, t in stamps)


def test_narration_of_each_segment_starts_exactly_at_its_clip(plain):
    # GIVEN the second voice starts with a tone at its first sample
    audio = decode_audio(plain.video_path)
    after_first_voice = int(0.8 * 48000)  # the first voice is silent from 0.7 s
    onset = after_first_voice + int(np.argmax(np.abs(audio[after_first_voice:]) > 0.05))
    # THEN it sounds where the second clip starts (31/30 s), not earlier or later than a few ms
    assert onset / 48000 == pytest.approx(plain.segment_starts[1], abs=0.004)


def test_a_4_3_picture_is_cover_fitted_not_stretched(plain):
    # GIVEN a red ring in a 4:3 picture, shown in a 9:16 frame (no captions over it)
    for frame_number in (0, 12):  # the start of the zoom-in, and well into it (the ring still whole)
        frame = decode_frames(plain.video_path, frame_number, 1)[0]
        red = (frame[..., 0] > 150) & (frame[..., 1] < 110) & (frame[..., 2] < 110)
        rows, cols = np.nonzero(red.any(axis=1))[0], np.nonzero(red.any(axis=0))[0]
        width, height = cols.max() - cols.min(), rows.max() - rows.min()
        # THEN it is still round
        assert width == pytest.approx(height, rel=0.04)
    # AND scaled to cover: 600 px of source height -> 640 px of frame height at zoom 1, times frame 0's zoom
    zoom = window_at(motion_for(0, SEED), 0, 31).zoom
    first = decode_frames(plain.video_path, 0, 1)[0]
    red = (first[..., 0] > 150) & (first[..., 1] < 110) & (first[..., 2] < 110)
    rows = np.nonzero(red.any(axis=1))[0]
    # (PIL draws the 10 px outline inside the 2r+1 box: the ring's outer diameter is 241 source pixels)
    assert rows.max() - rows.min() == pytest.approx((2 * CIRCLE[2] + 1) * 640 / 600 * zoom, rel=0.02)


def test_ken_burns_pans_smoothly_with_sub_pixel_steps(plain):
    # GIVEN segment 2 (a slow eased pan: ~0.3-0.8 px per frame) over a picture with one bright bar
    strip = decode_frames(plain.video_path, 32, 88, crop=f"{W}:40:0:100")
    profile = strip.mean(axis=(1, 3))  # (frames, columns)
    columns = np.arange(W)
    weights = np.clip(profile - 60, 0, None)
    centre = (weights * columns).sum(axis=1) / weights.sum(axis=1)
    steps = np.diff(centre)
    # THEN the bar moves the same way on every frame, by amounts that change smoothly (easing): no
    # whole-pixel jumps separated by frozen frames (what plain zoompan does at this speed)
    assert abs(steps.mean()) > 0.2
    assert np.all(np.sign(steps) == np.sign(steps.mean()))
    assert np.abs(np.diff(steps)).max() < 0.35  # coding noise only; a whole-pixel judder jumps by ~1
    # AND it moves where the intended path says (the bar's centre column, 270 of 540, seen through the window)
    path = motion_for(1, SEED)
    from faceless.media.kenburns import source_point

    intended = [source_point(window_at(path, 1 + n, 90), 540, 960, W, H, 270.0, 480.0)[0] for n in range(88)]
    assert np.abs(centre - np.array(intended)).max() < 0.3


def test_captions_are_burned_in_the_lower_middle(full, plain):
    # GIVEN the same video with and without words; "things!" is spoken at 0.72-0.95 s (frame ~24)
    with_words, without = decode_frames(full.video_path, 24, 1)[0], decode_frames(plain.video_path, 24, 1)[0]
    changed = np.abs(with_words - without).sum(axis=2) > 90
    rows = np.nonzero(changed.any(axis=1))[0]
    # THEN pixels changed, only in the caption band (above the bottom fifth), and the highlight is yellow
    assert changed.sum() > 300
    assert rows.min() > 0.45 * H and rows.max() < 0.75 * H  # above the bottom quarter (the platform's UI)
    yellow = (with_words[..., 0] > 200) & (with_words[..., 1] > 200) & (with_words[..., 2] < 90)
    assert yellow.sum() > 50
    # AND before the first word (frame 5) nothing is drawn
    early = np.abs(decode_frames(full.video_path, 5, 1)[0] - decode_frames(plain.video_path, 5, 1)[0])
    assert (early.sum(axis=2) > 90).sum() == 0


def test_srt_and_vtt_follow_the_word_timings_on_the_video_timeline(full):
    srt = full.srt_path.read_text(encoding="utf-8")
    starts = [
        int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000
        for h, m, s, ms in re.findall(r"(\d\d):(\d\d):(\d\d),(\d{3}) -->", srt)
    ]
    # first cue: the first word's start, snapped to a frame; the second segment's cues offset by its start
    assert starts[0] == pytest.approx(snap_to_frame(0.5, FPS) / FPS, abs=0.001)
    second_segment = [s for s in starts if s >= full.segment_starts[1]]
    assert second_segment[0] == pytest.approx(31 / FPS + snap_to_frame(0.2, FPS) / FPS, abs=0.001)
    assert "{braced}" in srt and "C:\\path" in srt
    vtt = full.vtt_path.read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == srt.count(" --> ")


def rms_db(samples: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) + 1e-12)


def test_music_is_mixed_under_the_narration_and_faded(full, plain):
    with_music, without = decode_audio(full.video_path), decode_audio(plain.video_path)
    # GIVEN a stretch where nobody speaks (2.0-3.5 s) and one where the second voice's tone plays
    quiet, spoken = slice(96_000, 168_000), slice(52_000, 76_000)
    # THEN the music is heard in the pause (silence without it), overall the mix is louder
    assert rms_db(without[quiet]) < -80
    assert rms_db(with_music[quiet]) > -50
    assert mean_volume_db(full.video_path) >= mean_volume_db(plain.video_path)
    # AND it sits well under the voice (about 18 dB), and fades out at the end
    assert 10 < rms_db(without[spoken]) - rms_db(with_music[quiet]) < 30
    assert rms_db(with_music[-2400:]) < rms_db(with_music[quiet]) - 6


def test_thumbnail_and_only_the_outputs_are_left_in_the_workdir(full):
    with Image.open(full.thumbnail_path) as thumbnail:
        assert thumbnail.format == "JPEG" and thumbnail.size == (W, H)
        pixels = np.asarray(thumbnail.convert("RGB")).astype(int)
    # the title is white text: the lower half has near-white pixels the dark picture does not
    assert ((pixels[H // 2 :] > 235).all(axis=2)).sum() > 500
    names = sorted(p.name for p in full.video_path.parent.iterdir())
    assert names == ["captions.srt", "captions.vtt", "thumbnail.jpg", "video.mp4"]


def test_a_missing_input_file_is_a_render_error_naming_it(inputs, tmp_path):
    broken = job(inputs, tmp_path, captions=False, music=False)
    broken.segments[1].voice_path = tmp_path / "nowhere.wav"
    with pytest.raises(RenderError, match="nowhere.wav"):
        assemble(broken)
    broken = job(inputs, tmp_path, captions=False, music=True)
    broken.music_path = tmp_path / "no-music.wav"
    with pytest.raises(RenderError, match="no-music.wav"):
        assemble(broken)


def test_an_unreadable_input_is_a_render_error_with_ffmpegs_message(inputs, tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio at all" * 10)
    broken = job(inputs, tmp_path / "out", captions=False, music=False)
    broken.segments[0].voice_path = garbage
    with pytest.raises(RenderError, match="garbage.wav") as caught:
        assemble(broken)
    assert "ffmpeg exited" in str(caught.value)
    # and the scratch folder did not survive the failure
    assert not any(p.name.startswith(".assembly-") for p in (tmp_path / "out").iterdir())


def test_probe_of_a_missing_file_is_a_render_error(tmp_path):
    with pytest.raises(RenderError, match="absent.mp4"):
        probe(tmp_path / "absent.mp4")


@pytest.mark.parametrize("mode", ["single", "per_segment"])
def test_an_unreadable_picture_fails_cleanly_while_the_sound_is_being_mixed(inputs, tmp_path, mode):
    # GIVEN a job whose second picture is not an image (found only when its frames come up)
    garbage = tmp_path / "broken.png"
    garbage.write_bytes(b"\x89PNG but not really" * 20)
    broken = job(inputs, tmp_path / "out", captions=True, music=True)
    broken.segments[1].image_path = garbage
    broken.mode = mode
    # WHEN assembled THEN a RenderError names the picture
    with pytest.raises(RenderError, match="broken.png"):
        assemble(broken)
    # AND nothing is left behind: no scratch folder, no half-written outputs
    leftovers = [p.name for p in (tmp_path / "out").iterdir()]
    assert not [n for n in leftovers if n.startswith(".")]
    assert "video.mp4" not in leftovers


def test_a_keyframe_opens_every_picture_and_comes_at_least_every_ten_seconds_not_every_two(inputs, tmp_path):
    # GIVEN a 12.5 s segment on one picture, then a 2 s one on another
    long_voice = write_wav(tmp_path / "long.wav", tone(12.5, 16000, (0.0, 12.0)), 16000)
    short_voice = write_wav(tmp_path / "short.wav", tone(2.0, 16000, (0.0, 1.5)), 16000)
    segments = [
        AssemblySegment(index=0, image_path=inputs["image0"], voice_path=long_voice),
        AssemblySegment(index=1, image_path=inputs["image1"], voice_path=short_voice),
    ]
    # WHEN assembled
    result = assemble(AssemblyJob(segments=segments, width=180, height=320, fps=FPS, title="Keys", workdir=tmp_path))
    # THEN a player can start at the first frame, 10 s into the long shot, and at the cut to the second
    # picture (12.5 s): no keyframe is forced every 2 s, which made files about a quarter larger
    keyframes = [seconds for _, seconds in frame_times(result.video_path, keyframes_only=True)]
    assert keyframes == pytest.approx([0.0, 10.0, 12.5], abs=0.5 / FPS)
