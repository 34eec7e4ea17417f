"""Looking inside rendered media (for tests, benchmarks and checks): decoded frames, per-frame
timestamps, decoded sound. Everything goes through the one ffmpeg binary."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

from faceless.media.ffmpeg import run_ffmpeg

_SHOWINFO = re.compile(r"n:\s*(\d+)\s+pts:\s*-?\d+\s+pts_time:(-?[\d.]+)")


def decode_frames(
    video: Path, width: int, height: int, first: int = 0, count: int | None = None, gray: bool = False
) -> np.ndarray:
    """Frames [first, first+count) as arrays (frames, height, width[, 3]) of uint8: RGB, or luma only."""
    select = []
    if first or count is not None:
        last = "inf" if count is None else str(first + count - 1)
        select = ["-vf", f"select='between(n\\,{first}\\,{last})'", "-fps_mode", "passthrough"]
    pix_fmt = "gray" if gray else "rgb24"
    done = run_ffmpeg(
        ["-i", str(video), "-map", "0:v:0", *select, "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
        what=f"decoding {video}",
        stdout=subprocess.PIPE,
    )
    shape = (-1, height, width) if gray else (-1, height, width, 3)
    return np.frombuffer(done.stdout, np.uint8).reshape(shape)


def frame_times(video: Path, keyframes_only: bool = False) -> list[tuple[int, float]]:
    """(frame number, presentation time in seconds) of every decoded video frame, or of the keyframes
    only (where a player can start decoding; numbered among themselves)."""
    skip = ["-skip_frame", "nokey"] if keyframes_only else []
    done = run_ffmpeg(
        [*skip, "-i", str(video), "-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-"],
        what=f"reading the {'keyframe' if keyframes_only else 'frame'} times of {video}",
        quiet=False,
    )
    return [(int(n), float(t)) for n, t in _SHOWINFO.findall(done.stderr.decode("utf-8", "replace"))]
