"""Burned-in captions drawn by libass once per caption state, not once per frame.

ffmpeg's `ass` filter renders and blends the captions on every frame: ~2.4 ms a frame at 1080x1920 in
its scalar C blender, ~4.6 s of CPU for a 60 s video, while a caption state (a group of words with one
of them highlighted) stays on screen for ~12 frames. Here one ffmpeg renders each state once with the
same `ass` filter (libass: shaping, fonts, outline, shadow), twice, on two flat backgrounds, 0 and
255, one above the other, within the band of rows that can hold captions. Burning is linear in the background: for every plane, libass's result over a picture
F is F * T + P, where P is the render over 0 and T = (render over 255 - P) / 255. So the state is
composited onto each of its frames with two SIMD passes (cv2.multiply, cv2.add) over its bounding box,
on the frame-producing thread, giving the same pixels as the filter (to rounding, tests check).

Only for static captions: in an animated style (karaoke sweeps) the picture changes within an event,
and the `ass` filter burns those (encoder.py).
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceless.errors import RenderError
from faceless.media.captions import STATES_RATE, CaptionEvent, CaptionLayout, caption_band, states_ass, write_text
from faceless.media.encoder import filter_path
from faceless.media.ffmpeg import BEHIND_ENCODER, ffmpeg_exe, start_ffmpeg, stderr_tail
from faceless.media.kenburns import opencv


@dataclass(frozen=True)
class _PlaneOverlay:
    top: int
    left: int
    transmittance: np.ndarray  # uint8, 255 = the picture shows through untouched
    paint: np.ndarray  # uint8, what libass adds on top (its render over black)

    def burn(self, plane: np.ndarray) -> None:
        cv2 = opencv()
        height, width = self.paint.shape
        region = plane[self.top : self.top + height, self.left : self.left + width]
        cv2.multiply(region, self.transmittance, dst=region, scale=1 / 255)
        cv2.add(region, self.paint, dst=region)


def _bounding_box(over_black: np.ndarray, over_white: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom), even-aligned so the chroma box is exactly half: where the state drew."""
    cv2 = opencv()
    drawn = cv2.bitwise_or(cv2.bitwise_not(over_white), over_black)  # non-zero where anything was drawn
    x, y, w, h = cv2.boundingRect(drawn)
    if w == 0 or h == 0:
        return None
    left, top = x - x % 2, y - y % 2
    right, bottom = x + w + (x + w) % 2, y + h + (y + h) % 2
    return left, top, right, bottom


class CaptionBurner:
    """Burns `events` (frames counted from the first frame it is given) into yuv420p frames, in order."""

    def __init__(
        self, events: list[CaptionEvent], layout: CaptionLayout, fonts_dir: Path | None, scratch: Path
    ) -> None:
        for previous, event in zip(events, events[1:]):
            if event.start_frame < previous.end_frame:
                raise ValueError("caption events overlap: burn them with the ass filter")
        self.events = events
        self.width, self.height = layout.width, layout.height
        # states are drawn on the rows that can hold captions only: a third of a 9:16 frame, so a third of
        # the work, and ffmpeg's frame queues (it renders ahead) stay small
        self.band = caption_band(layout)
        self._band_height = self.band[1] - self.band[0]
        self._state_bytes = self.width * 2 * self._band_height * 3 // 2  # two renders, stacked
        self._buffer = bytearray(self._state_bytes)
        self._position = 0  # the event the frames have reached
        self._loaded = -1  # the state last read from the renderer
        self._planes: list[_PlaneOverlay] = []
        self._process: subprocess.Popen[bytes] | None = None
        if not events:
            return
        script = write_text(scratch / "caption-states.ass", states_ass(events, layout, self.band))
        burn = f"ass=filename={filter_path(script)}"
        if fonts_dir is not None:
            burn += f":fontsdir={filter_path(fonts_dir)}"
        rows = f"s={self.width}x{self._band_height}:r={STATES_RATE}"
        tags = "setparams=range=tv:colorspace=bt709:color_primaries=bt709:color_trc=bt709,format=yuv420p"
        # the upper band over 0 and the lower over 255 on every plane (no RGB colour is that in YUV)
        graph = (
            f"color=c=black:{rows},{tags},lutyuv=y=0:u=0:v=0[black];"
            f"color=c=black:{rows},{tags},lutyuv=y=255:u=255:v=255[white];[black][white]vstack,{burn}"
        )
        self._log = scratch / "caption-states.log"
        # the graph as -filter_complex, not a lavfi input: ffmpeg then queues fewer rendered states while
        # the frames catch up (measured: 75 MB, not 109 MB, when the reader lags)
        command = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-filter_complex", graph,
            "-frames:v", str(len(events)), "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1",
        ]  # fmt: skip
        try:
            with self._log.open("wb") as log:
                self._process = start_ffmpeg(
                    command, niceness=BEHIND_ENCODER, stdout=subprocess.PIPE, stderr=log, bufsize=0
                )
        except OSError as exc:
            raise RenderError(f"drawing the captions: could not start ffmpeg: {exc}") from exc

    def _failure(self, why: str) -> RenderError:
        log = self._log.read_bytes() if self._log.is_file() else b""
        return RenderError(f"drawing the captions: {why}:\n{stderr_tail(log)}")

    def _read_state(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        view, filled = memoryview(self._buffer), 0
        while filled < self._state_bytes:
            got = self._process.stdout.readinto(view[filled:])
            if not got:
                self._process.wait()
                raise self._failure(f"state {self._loaded + 1} of {len(self.events)} missing")
            filled += got
        self._loaded += 1
        w, h = self.width, self._band_height
        data = np.frombuffer(self._buffer, dtype=np.uint8)
        luma = data[: 2 * w * h].reshape(2 * h, w)
        chroma = data[2 * w * h :].reshape(2, 2 * (h // 2), w // 2)  # U then V, each black render over white
        pairs = [(luma[:h], luma[h:])] + [(plane[: h // 2], plane[h // 2 :]) for plane in chroma]
        box = _bounding_box(*pairs[0])
        self._planes = []
        if box is None:
            return
        cv2 = opencv()
        left, top, right, bottom = box
        if top == 0 and self.band[0] > 0:  # never expected (see caption_band): refuse rather than clip
            raise RenderError(f"caption {self._loaded + 1} is taller than the caption band {self.band}")
        for number, (over_black, over_white) in enumerate(pairs):
            sub = 1 if number == 0 else 2
            rows, cols = slice(top // sub, bottom // sub), slice(left // sub, right // sub)
            paint = np.ascontiguousarray(over_black[rows, cols])
            self._planes.append(
                _PlaneOverlay(
                    (self.band[0] + top) // sub, left // sub, cv2.subtract(over_white[rows, cols], paint), paint
                )
            )

    def burn(self, frame_index: int, frame: np.ndarray) -> None:
        """Burn the caption showing at `frame_index` into `frame` (a flat yuv420p buffer)."""
        events = self.events
        while self._position < len(events) and events[self._position].end_frame <= frame_index:
            self._position += 1
        if self._position == len(events) or events[self._position].start_frame > frame_index:
            return
        if self._loaded > self._position:
            raise ValueError("frames must be burned in order")
        while self._loaded < self._position:
            self._read_state()
        if not self._planes:
            return
        w, h = self.width, self.height
        quarter = (w // 2) * (h // 2)
        planes = (
            frame[: w * h].reshape(h, w),
            frame[w * h : w * h + quarter].reshape(h // 2, w // 2),
            frame[w * h + quarter : w * h + 2 * quarter].reshape(h // 2, w // 2),
        )
        for overlay, plane in zip(self._planes, planes, strict=True):
            overlay.burn(plane)

    def close(self) -> None:
        """Reap the renderer: by now every state was read (a failure there was raised by `burn`)."""
        if self._process is None:
            return
        assert self._process.stdout is not None
        self._process.stdout.close()
        self._process.wait()

    def abort(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(OSError):
            self._process.kill()
        self._process.wait()
