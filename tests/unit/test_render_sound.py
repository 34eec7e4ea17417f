"""The sound track: loudness normalised to -14 LUFS integrated with true peak <= -1 dBTP (measured with
ffmpeg's ebur128 on the final MP4), and the music ducked by at least 10 dB while someone speaks, for a
loud and a quiet voice alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceless.media.assemble import AssemblyJob, AssemblyResult, AssemblySegment, assemble
from faceless.errors import RenderError
from faceless.media.audio import (
    Loudness,
    _parse_ebur128,
    _parse_integrated,
    decode_pcm,
    measure_loudness,
    needs_limiter,
    normalise_filter,
)
from faceless.models import WordTiming
from tests.unit.media_inputs import write_wav

W, H, FPS, RATE = 128, 224, 30, 24000
SECONDS = 12.0
LOUD, QUIET = (2.0, 4.0), (6.5, 8.0)  # speech: a loud voice, then one 20 dB softer
VOICE_HZ, MUSIC_HZ = 1000.0, 150.0


def speech_like(t: np.ndarray, span: tuple[float, float], amplitude: float) -> np.ndarray:
    """A 1 kHz voice with syllable-rate amplitude wobble, on during `span`."""
    wobble = 0.6 + 0.4 * np.abs(np.sin(2 * np.pi * 3.0 * t))
    on = (t >= span[0]) & (t < span[1])
    return np.where(on, amplitude * wobble * np.sin(2 * np.pi * VOICE_HZ * t), 0.0)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sound-inputs")
    t = np.arange(round(SECONDS * RATE)) / RATE
    voice = speech_like(t, LOUD, 0.5) + speech_like(t, QUIET, 0.05)
    music_t = np.arange(round(5.0 * 44100)) / 44100  # shorter than the video: must loop
    music = 0.3 * np.sin(2 * np.pi * MUSIC_HZ * music_t)
    Image.new("RGB", (W, H), (90, 110, 140)).save(folder / "picture.png")
    return {
        "picture": folder / "picture.png",
        "voice": write_wav(folder / "voice.wav", voice, RATE),
        "music": write_wav(folder / "music.wav", np.repeat(music[:, None], 2, axis=1).reshape(-1), 44100, 2),
    }


def render(inputs: dict[str, Path], workdir: Path, music: bool) -> AssemblyResult:
    return assemble(
        AssemblyJob(
            segments=[AssemblySegment(index=0, image_path=inputs["picture"], voice_path=inputs["voice"],
                                      words=[WordTiming(word="hello", start=2.0, end=4.0)])],  # fmt: skip
            music_path=inputs["music"] if music else None,
            width=W,
            height=H,
            fps=FPS,
            title="Sound",
            workdir=workdir,
        )
    )


@pytest.fixture(scope="module")
def with_music(inputs, tmp_path_factory) -> AssemblyResult:
    return render(inputs, tmp_path_factory.mktemp("with-music"), music=True)


def tone_level_db(samples: np.ndarray, hz: float, span: tuple[float, float]) -> float:
    """Level of one frequency over a stretch of the track (Hann-windowed FFT), in dB, independent of the
    stretch's length."""
    part = samples[int(span[0] * 48000) : int(span[1] * 48000)]
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    freqs = np.fft.rfftfreq(len(part), 1 / 48000)
    band = (freqs > hz * 0.93) & (freqs < hz * 1.07)
    return 10 * np.log10(np.sum(spectrum[band] ** 2) / len(part) ** 2 + 1e-20)


def test_the_mix_is_normalised_to_minus_14_lufs_with_true_peak_under_minus_1(with_music, inputs, tmp_path):
    # GIVEN the final MP4 (AAC), measured by ffmpeg's ebur128 (EBU R128, 4x oversampled true peak)
    loudness = measure_loudness(with_music.video_path)
    # THEN integrated loudness is -14 +- 1 LUFS and the true peak at or under -1 dBTP
    assert loudness.integrated_lufs == pytest.approx(-14.0, abs=1.0)
    assert loudness.true_peak_dbtp <= -1.0
    # AND the same holds without music (the voice alone is normalised)
    alone = measure_loudness(render(inputs, tmp_path, music=False).video_path)
    assert alone.integrated_lufs == pytest.approx(-14.0, abs=1.0)
    assert alone.true_peak_dbtp <= -1.0


def test_music_is_ducked_by_at_least_10_db_while_speech_plays(with_music):
    samples = decode_pcm(with_music.video_path)
    # stretches well inside each state (the compressor attacks in 15 ms and releases in 400 ms)
    gap = tone_level_db(samples, MUSIC_HZ, (4.7, 6.3))
    under_loud = tone_level_db(samples, MUSIC_HZ, (2.5, 3.8))
    under_quiet = tone_level_db(samples, MUSIC_HZ, (6.9, 7.9))
    # THEN the music is >= 10 dB lower under the loud voice and under the quiet one than in the gap
    assert gap - under_loud >= 10.0, f"ducked by {gap - under_loud:.1f} dB under the loud voice"
    assert gap - under_quiet >= 10.0, f"ducked by {gap - under_quiet:.1f} dB under the quiet voice"
    # AND not silenced: it stays audible, a bed under the voice (less than 25 dB down)
    assert gap - under_loud < 25.0
    # AND the voice is the louder sound while it speaks
    assert tone_level_db(samples, VOICE_HZ, (2.5, 3.8)) > under_loud + 10


def test_music_loops_fades_in_and_out_and_sits_under_the_voice(with_music):
    samples = decode_pcm(with_music.video_path)
    # looped: the 5 s bed is still playing in the gap at 4.7-6.3 s and after the quiet voice (8.5-9.3 s)
    assert tone_level_db(samples, MUSIC_HZ, (8.5, 9.3)) > tone_level_db(samples, MUSIC_HZ, (4.7, 6.3)) - 3
    # faded in (the first 0.3 s is much quieter than a gap) and out (the last 0.3 s too)
    gap = tone_level_db(samples, MUSIC_HZ, (4.7, 6.3))
    assert tone_level_db(samples, MUSIC_HZ, (0.0, 0.3)) < gap - 6
    assert tone_level_db(samples, MUSIC_HZ, (SECONDS - 0.3, SECONDS)) < gap - 6
    # the bed in the gaps sits clearly under the (loud) voice
    voice = tone_level_db(samples, VOICE_HZ, (2.5, 3.8))
    assert voice - tone_level_db(samples, MUSIC_HZ, (4.7, 6.3)) > 6


def test_a_peaky_narration_is_limited_to_the_true_peak_without_moving_in_time(tmp_path):
    # GIVEN a quiet voice with sharp full-scale clicks: the gain to -14 LUFS would push its peaks far over
    t = np.arange(round(6.0 * RATE)) / RATE
    voice = speech_like(t, (0.5, 5.5), 0.03)
    clicks = [int(s * RATE) for s in (1.0, 2.5, 4.0)]
    for click in clicks:
        voice[click : click + 3] = [0.99, -0.99, 0.99]
    Image.new("RGB", (W, H), (90, 110, 140)).save(tmp_path / "picture.png")
    result = assemble(
        AssemblyJob(
            segments=[AssemblySegment(index=0, image_path=tmp_path / "picture.png",
                                      voice_path=write_wav(tmp_path / "voice.wav", voice, RATE))],  # fmt: skip
            width=W, height=H, fps=FPS, title="Peaks", workdir=tmp_path / "out",
        )  # fmt: skip
    )
    # THEN the loudness target is met and the true peak is held under -1 dBTP by the limiter
    loudness = measure_loudness(result.video_path)
    assert loudness.integrated_lufs == pytest.approx(-14.0, abs=1.0)
    assert loudness.true_peak_dbtp <= -1.0
    # AND the limiter's look-ahead is compensated: the clicks are where they were
    samples = decode_pcm(result.video_path)
    for click in clicks:
        around = samples[int(click / RATE * 48000) - 2400 : int(click / RATE * 48000) + 2400]
        assert abs(int(np.argmax(np.abs(around))) - 2400) < 48  # within 1 ms


def test_the_mean_level_of_a_long_stereo_wav_is_its_rms_read_in_blocks(tmp_path):
    # GIVEN a stereo WAV longer than one read block, its second half 6 dB softer
    from faceless.media.audio import _WAV_BLOCK, mean_volume_db

    t = np.arange(_WAV_BLOCK * 2 + 1234) / 48000
    left = 0.5 * np.sin(2 * np.pi * 440 * t) * np.where(t < t[-1] / 2, 1.0, 0.5)
    samples = np.stack([left, 0.25 * np.sin(2 * np.pi * 220 * t)], axis=1).reshape(-1)
    path = write_wav(tmp_path / "long.wav", samples, 48000, channels=2)
    quantised = (np.clip(samples, -1, 1) * 32767).astype("<i2") / 32768.0
    # WHEN its level is measured (whole, and its first second only)
    # THEN it is the RMS of every sample, in dBFS, and a limit in seconds is honoured
    assert mean_volume_db(path) == pytest.approx(10 * np.log10(np.mean(quantised**2)), abs=1e-4)
    assert mean_volume_db(path, 1.0) == pytest.approx(10 * np.log10(np.mean(quantised[: 2 * 48000] ** 2)), abs=1e-4)


EBUR128_SUMMARY = b"""[Parsed_ebur128_0 @ 0x55d0] Summary:

  Integrated loudness:
    I:         -16.4 LUFS
    Threshold: -26.6 LUFS

  Loudness range:
    LRA:         3.1 LU
    Threshold:  -36.6 LUFS
    LRA low:    -18.0 LUFS
    LRA high:   -14.9 LUFS

  True peak:
    Peak:       -0.7 dBFS
"""


def test_the_ebur128_summary_gives_the_integrated_loudness_and_true_peak():
    # GIVEN the summary ffmpeg's ebur128 filter prints at the end of a pass (here after a silent one)
    stderr = b"[Parsed_ebur128_0 @ 0x1] Summary:\n  Integrated loudness:\n    I: -inf LUFS\n" + EBUR128_SUMMARY
    # WHEN it is read
    loudness = _parse_ebur128(stderr, "measuring")
    # THEN the last summary's figures are the ones that count
    assert (loudness.integrated_lufs, loudness.true_peak_dbtp) == (-16.4, -0.7)
    assert _parse_integrated(stderr, "measuring") == -16.4


def test_a_pass_without_an_ebur128_summary_is_a_render_error_naming_the_step():
    # GIVEN ffmpeg output with no summary (the filter never ran to the end); a summary without true peak
    without_peak = EBUR128_SUMMARY.split(b"  True peak:")[0]
    # WHEN it is read THEN the error names the step, and a missing peak is missing, not guessed
    with pytest.raises(RenderError, match="mixing the sound track: no ebur128 summary"):
        _parse_ebur128(b"Stream mapping: ...", "mixing the sound track")
    with pytest.raises(RenderError, match="no ebur128 summary"):
        _parse_ebur128(without_peak, "mixing the sound track")
    assert _parse_integrated(without_peak, "limiting") == -16.4


def test_the_limiter_is_used_only_when_the_gain_would_lift_the_true_peak_over_the_target():
    # GIVEN mixes measured at their loudness and true peak
    loud_peaks = Loudness(integrated_lufs=-20.0, true_peak_dbtp=-3.0)  # +6 dB puts the peak at +3 dBTP
    headroom = Loudness(integrated_lufs=-16.0, true_peak_dbtp=-6.0)  # +2 dB puts it at -4 dBTP
    silence = Loudness(integrated_lufs=float("-inf"), true_peak_dbtp=float("-inf"))
    # THEN only the first needs the limiter, and only its filter has one; silence is left alone
    assert [needs_limiter(m) for m in (loud_peaks, headroom, silence)] == [True, False, False]
    assert "alimiter" in normalise_filter(loud_peaks) and normalise_filter(headroom) == "volume=2.00dB"
    assert normalise_filter(silence) == "anull"
    # AND a gain made up on top of the target is counted: 3 dB more lifts the second to -1 dBTP
    assert needs_limiter(headroom, extra_gain_db=3.0) and "alimiter" in normalise_filter(headroom, 3.0)


def test_a_mix_that_needs_the_limiter_is_limited_once_oversampled_and_lands_on_the_target(tmp_path, monkeypatch):
    from faceless.media import audio

    # GIVEN a quiet voice with full-scale clicks (its gain to -14 LUFS needs the limiter), and every ffmpeg pass watched
    t = np.arange(round(6.0 * RATE)) / RATE
    voice = speech_like(t, (0.5, 5.5), 0.03)
    for start in (1.0, 2.5, 4.0):
        voice[int(start * RATE) : int(start * RATE) + 3] = [0.99, -0.99, 0.99]
    passes = []
    real_run = audio.run_ffmpeg
    monkeypatch.setattr(audio, "run_ffmpeg", lambda args, **kw: passes.append(" ".join(args)) or real_run(args, **kw))
    # WHEN its sound track is made
    narration = write_wav(tmp_path / "voice.wav", voice, RATE)
    track = audio.render_soundtrack(narration, None, 6 * 48000, tmp_path / "track.m4a")
    # THEN the 4x oversampled limiter runs once, in the encoding pass; the loss is measured at the sample rate
    oversampling = [p for p in passes if f"aresample={4 * 48000}" in p]
    assert len(oversampling) == 1 and "-c:a aac" in oversampling[0]
    assert any("alimiter" in p and "ebur128" in p and "aresample" not in p for p in passes)
    # AND the result sits on the target, its peaks held
    loudness = measure_loudness(track)
    assert loudness.integrated_lufs == pytest.approx(-14.0, abs=0.5)
    assert loudness.true_peak_dbtp <= -1.0
    # AND no scratch file is left beside it
    assert sorted(path.name for path in tmp_path.iterdir()) == ["track.m4a", "voice.wav"]
