"""The offline music provider: an ambient bed synthesised with numpy."""

from __future__ import annotations

import io
import wave
from functools import lru_cache

import numpy as np
import pytest

from faceless.errors import InvalidRequestError
from faceless.providers.music.ambient import MOODS, AmbientMusicComposer, render_loop

RATE = 48_000


@lru_cache(maxsize=16)
def _compose(mood: str, seconds: float = 40.0) -> bytes:
    return AmbientMusicComposer().compose(mood, seconds)


def _samples(data: bytes) -> np.ndarray:
    """(frames, 2) floats in -1..1."""
    with wave.open(io.BytesIO(data)) as reader:
        frames = reader.readframes(reader.getnframes())
    return np.frombuffer(frames, "<i2").reshape(-1, 2).astype(np.float64) / 32768.0


def _dbfs(value: float) -> float:
    return 20.0 * np.log10(max(value, 1e-12))


def _envelope_modulation(mono: np.ndarray, hertz: float) -> float:
    """Share of the loudness envelope's fluctuation (0.3-20 Hz) that happens at `hertz` ±10%."""
    hop = RATE // 100  # a 10 ms loudness envelope
    usable = len(mono) // hop * hop
    envelope = np.sqrt((mono[:usable].reshape(-1, hop) ** 2).mean(axis=1))
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean())) ** 2
    frequencies = np.fft.rfftfreq(len(envelope), 1 / 100)
    band = (frequencies > hertz * 0.9) & (frequencies < hertz * 1.1)
    return float(spectrum[band].sum() / spectrum[(frequencies > 0.3) & (frequencies < 20)].sum())


def _sub_bass_share(mono: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(mono)) ** 2
    frequencies = np.fft.rfftfreq(len(mono), 1 / RATE)
    return float(power[frequencies < 60].sum() / power.sum())


def _middle(mood: str) -> np.ndarray:
    """30 s of the bed, mono, away from the fades."""
    return _samples(_compose(mood))[5 * RATE : 35 * RATE].mean(axis=1)


@pytest.mark.parametrize("mood", MOODS)
def test_bed_is_a_stereo_48k_16bit_wav_at_least_as_long_as_asked(mood: str) -> None:
    # GIVEN a mood and a duration that is not a whole number of samples' worth of anything
    # WHEN a bed is composed
    data = AmbientMusicComposer().compose(mood, 12.34)
    # THEN it is a 16-bit stereo 48 kHz WAV, no shorter than asked
    with wave.open(io.BytesIO(data)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (2, 2, RATE)
        assert reader.getnframes() >= 12.34 * RATE
        assert reader.getnframes() < 12.34 * RATE + 2


@pytest.mark.parametrize("mood", MOODS)
def test_bed_is_audible_with_headroom(mood: str) -> None:
    # GIVEN a composed bed
    samples = _samples(_compose(mood))
    # THEN it peaks around -6 dBFS (never above -3) and is clearly not silence
    peak = _dbfs(np.abs(samples).max())
    assert -8.0 < peak <= -3.0
    assert _dbfs(np.sqrt((samples**2).mean())) > -30.0
    # AND both channels carry sound, not identical (the pads are spread across the field)
    assert not np.array_equal(samples[:, 0], samples[:, 1])


@pytest.mark.parametrize("mood", MOODS)
def test_bed_fades_in_and_out(mood: str) -> None:
    # GIVEN a composed bed
    samples = _samples(_compose(mood))
    ten_ms = RATE // 100
    # THEN its first and last 10 ms are near silence (-50 dBFS), while its body is not
    assert _dbfs(np.abs(samples[:ten_ms]).max()) < -50.0
    assert _dbfs(np.abs(samples[-ten_ms:]).max()) < -50.0
    assert _dbfs(np.abs(samples[5 * RATE : 6 * RATE]).max()) > -30.0


@pytest.mark.parametrize("mood", MOODS)
def test_loop_repeats_without_a_click(mood: str) -> None:
    # GIVEN the phrase the bed repeats
    loop = render_loop(mood, RATE)
    steps = np.abs(np.diff(loop, axis=1)).max(axis=0)
    # WHEN it wraps from its last sample to its first
    wrap = np.abs(loop[:, 0] - loop[:, -1]).max()
    # THEN that step is no bigger than the ordinary sample-to-sample steps inside it
    assert wrap <= np.percentile(steps, 99.9)
    # AND a long bed really is that phrase repeated
    bed = _samples(AmbientMusicComposer().compose(mood, 2.5 * loop.shape[1] / RATE))
    length = loop.shape[1]
    np.testing.assert_allclose(bed[3 * RATE : 4 * RATE], bed[length + 3 * RATE : length + 4 * RATE], atol=1 / 32768)


def test_moods_sound_different() -> None:
    # GIVEN one bed per mood
    calm, upbeat, dramatic, mysterious = (_middle(mood) for mood in ("calm", "upbeat", "dramatic", "mysterious"))
    # THEN upbeat pulses at its 112 bpm (a beat every 0.536 s), far more than calm does
    assert _envelope_modulation(upbeat, 112 / 60) > 2 * _envelope_modulation(calm, 112 / 60)
    # AND mysterious has a slow tremolo (1.6 Hz) that dominates its loudness envelope
    assert _envelope_modulation(mysterious, 1.6) > 0.3 > _envelope_modulation(calm, 1.6)
    # AND dramatic sits on a low drone: much more of its energy under 60 Hz
    assert _sub_bass_share(dramatic) > 3 * max(_sub_bass_share(calm), _sub_bass_share(mysterious))


def test_same_inputs_give_the_same_bytes_and_on_means_calm() -> None:
    composer = AmbientMusicComposer()
    assert composer.compose("calm", 5) == composer.compose("calm", 5)
    assert composer.compose("on", 5) == composer.compose("calm", 5)
    assert composer.compose(" Calm ", 5) == composer.compose("calm", 5)


def test_other_sample_rates_work() -> None:
    data = AmbientMusicComposer().compose("upbeat", 3, sample_rate=22_050)
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getframerate() == 22_050
        assert reader.getnframes() >= 3 * 22_050


@pytest.mark.parametrize("mood", ["jazzy", "", "off", "calm-ish"])
def test_unknown_mood_is_an_invalid_request(mood: str) -> None:
    with pytest.raises(InvalidRequestError, match="mood"):
        AmbientMusicComposer().compose(mood, 10)


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), 10_000])
def test_impossible_duration_is_an_invalid_request(seconds: float) -> None:
    with pytest.raises(InvalidRequestError):
        AmbientMusicComposer().compose("calm", seconds)
