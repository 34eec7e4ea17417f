"""What a media file holds, read with the ffmpeg binary alone (imageio-ffmpeg ships no ffprobe).

`ffmpeg -i FILE` prints the container and stream summary on stderr; the frames are counted exactly by
stream-copying the video to the null muxer and reading its `-progress` report.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pydantic import BaseModel

from faceless.errors import RenderError
from faceless.media.ffmpeg import run_ffmpeg, stderr_tail

_DURATION = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #\d+:\d+.*?: (Video|Audio): (.*)$", re.MULTILINE)
_SIZE = re.compile(r"\b(\d{1,5})x(\d{1,5})\b")
_FPS = re.compile(r"([\d.]+)(k?) fps")
_TBR = re.compile(r"([\d.]+)(k?) tbr")
_SAMPLE_RATE = re.compile(r"(\d+) Hz")
_CHANNELS = re.compile(r"(\d+) channels")
_CHANNEL_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "5.1(side)": 6, "7.1": 8}
_FRAME_PROGRESS = re.compile(rb"^frame=(\d+)\s*$", re.MULTILINE)


class MediaInfo(BaseModel):
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    video_profile: str | None = None  # e.g. "High" for H.264 High
    pix_fmt: str | None = None
    fps: float | None = None
    frames: int | None = None
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    duration_seconds: float | None = None  # the container's, to 10 ms

    @property
    def video_duration_seconds(self) -> float | None:
        """Exact length of the picture: whole frames over the frame rate."""
        if self.frames is None or not self.fps:
            return None
        return self.frames / self.fps


def _split_top_level(description: str) -> list[str]:
    """Split a stream description at commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in description:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _rate(match: re.Match[str] | None) -> float | None:
    if match is None:
        return None
    return float(match.group(1)) * (1000 if match.group(2) else 1)


def _parse_video(description: str, info: MediaInfo) -> None:
    parts = _split_top_level(description)
    codec_words = parts[0].split()
    info.video_codec = codec_words[0]
    profile = re.match(r"\S+ \(([^)/]+)\)", parts[0])
    info.video_profile = profile.group(1) if profile else None
    if len(parts) > 1:
        info.pix_fmt = parts[1].split("(")[0].strip() or None
    size = _SIZE.search(description)
    if size:
        info.width, info.height = int(size.group(1)), int(size.group(2))
    info.fps = _rate(_FPS.search(description)) or _rate(_TBR.search(description))


def _parse_audio(description: str, info: MediaInfo) -> None:
    parts = _split_top_level(description)
    info.audio_codec = parts[0].split()[0]
    rate = _SAMPLE_RATE.search(description)
    info.audio_sample_rate = int(rate.group(1)) if rate else None
    channels = _CHANNELS.search(description)
    if channels:
        info.audio_channels = int(channels.group(1))
    elif len(parts) > 2:
        info.audio_channels = _CHANNEL_LAYOUTS.get(parts[2].strip())


def parse_ffmpeg_banner(stderr: str) -> MediaInfo:
    """The stream summary `ffmpeg -i` prints, as a MediaInfo (first video and first audio stream)."""
    info = MediaInfo()
    duration = _DURATION.search(stderr)
    if duration:
        hours, minutes, seconds = duration.groups()
        info.duration_seconds = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    for kind, description in _STREAM.findall(stderr):
        if kind == "Video" and info.video_codec is None and "(attached pic)" not in description:
            _parse_video(description, info)
        elif kind == "Audio" and info.audio_codec is None:
            _parse_audio(description, info)
    return info


def count_video_frames(path: Path) -> int:
    """Exact number of video frames, by stream-copying the video to the null muxer."""
    done = run_ffmpeg(
        ["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-", "-progress", "pipe:1", "-nostats"],
        what=f"counting frames of {path}",
        stdout=subprocess.PIPE,
    )
    counts = _FRAME_PROGRESS.findall(done.stdout)
    if not counts:
        raise RenderError(f"counting frames of {path}: no progress report from ffmpeg")
    return int(counts[-1])


def probe(path: Path | str) -> MediaInfo:
    """Size, codecs, pixel format, frame rate, duration, sample rate and exact frame count of a file."""
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"cannot probe {path}: no such file")
    # `ffmpeg -i` with no output always exits non-zero; the banner on stderr is what we want.
    done = run_ffmpeg(["-i", str(path)], what=f"probing {path}", quiet=False, check=False)
    stderr = done.stderr.decode("utf-8", "replace")
    if "Input #0" not in stderr:
        raise RenderError(f"cannot probe {path}: ffmpeg could not read it:\n{stderr_tail(stderr)}")
    info = parse_ffmpeg_banner(stderr)
    if info.video_codec is not None:
        info.frames = count_video_frames(path)
    return info
