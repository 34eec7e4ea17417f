"""Sound files the render tests feed the assembly: 16-bit PCM WAVs written from samples."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    """`samples` in [-1, 1] (interleaved when stereo) as a 16-bit PCM WAV."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def silent_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    return write_wav(path, np.zeros(round(seconds * rate)), rate)
