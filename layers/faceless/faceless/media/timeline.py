"""The timeline: every segment lasts a whole number of frames, so clip cuts fall on frames and the
narration (padded with silence to the same length) can never drift from the picture."""

from __future__ import annotations

import math
import subprocess
import wave
from pathlib import Path

from pydantic import BaseModel, Field

from faceless.errors import RenderError
from faceless.media.ffmpeg import run_ffmpeg

AUDIO_RATE = 48_000  # the final mix's sample rate
_FRAME_EPSILON = 1e-6  # 5.0000000001 s at 30 fps is 150 frames, not 151


def wav_duration_seconds(path: Path) -> float:
    """Exact duration of an audio file: from the WAV header, else by decoding it with ffmpeg."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, samples = wav.getframerate(), wav.getnframes()
        if rate > 0:
            return samples / rate
    except (wave.Error, EOFError):
        pass  # not plain PCM (float WAV, MP3...): count decoded samples instead
    done = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(AUDIO_RATE), "-f", "s16le", "-"],
        what=f"reading audio {path}",
        stdout=subprocess.PIPE,
    )
    return len(done.stdout) / 2 / AUDIO_RATE


def frames_for(seconds: float, fps: int) -> int:
    """Frames needed to show `seconds` of narration: rounded up, at least one."""
    return max(1, math.ceil(seconds * fps - _FRAME_EPSILON))


def frame_time(frame: int, fps: int) -> float:
    return frame / fps


def snap_to_frame(seconds: float, fps: int) -> int:
    """The frame boundary nearest to a time."""
    return max(0, int(math.floor(seconds * fps + 0.5)))


def sample_at_frame(frame: int, fps: int, rate: int = AUDIO_RATE) -> int:
    """The audio sample where a frame starts; exact integers, so rounding never accumulates."""
    return (frame * rate + fps // 2) // fps


class SegmentSpan(BaseModel):
    index: int
    start_frame: int = Field(ge=0)
    frames: int = Field(ge=1)
    narration_seconds: float  # before padding

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frames


class Timeline(BaseModel):
    fps: int
    spans: list[SegmentSpan]

    @property
    def total_frames(self) -> int:
        return self.spans[-1].end_frame if self.spans else 0

    @property
    def duration_seconds(self) -> float:
        return self.total_frames / self.fps

    def start_seconds(self) -> list[float]:
        return [span.start_frame / self.fps for span in self.spans]


def build_timeline(narration_seconds: list[tuple[int, float]], fps: int) -> Timeline:
    """Lay segments end to end, each `frames_for` its narration; input is (index, seconds) in order."""
    spans, cursor = [], 0
    for index, seconds in narration_seconds:
        if seconds < 0 or not math.isfinite(seconds):
            raise RenderError(f"segment {index}: invalid narration length {seconds}")
        frames = frames_for(seconds, fps)
        spans.append(SegmentSpan(index=index, start_frame=cursor, frames=frames, narration_seconds=seconds))
        cursor += frames
    return Timeline(fps=fps, spans=spans)
