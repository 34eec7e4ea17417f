"""Ken Burns motion with sub-pixel precision, rendered by OpenCV straight into raw yuv420p frames.

Plain `zoompan` crops at whole (even) pixels, so slow moves step visibly (judder). Here every output
frame is one affine warp (scale + shift, bilinear) of the source picture's Y, U and V planes: the
cover-fit scale and the moving window are folded into one matrix per frame, so the picture is
resampled once (never twice), at any fractional position, and never stretched (one scale for both
axes). The warp runs as an exactly-placed `cv2.resize` (see `warp_plane`), with `cv2.warpAffine` as
the fallback. The window always lies inside the picture: zoom >= 1, never a black edge.

Motions vary per segment (zoom in or out towards a point, pans in four directions), chosen
deterministically from a seed (the job) and the segment's position, never the same twice in a row,
and eased (a blend of linear and sine ease-in-out: it starts and ends gently but never stops).
"""

from __future__ import annotations

import hashlib
import math
import random
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from faceless.errors import RenderError
from faceless.media.images import load_rgb


class Motion(StrEnum):
    zoom_in = "zoom_in"
    zoom_out = "zoom_out"
    pan_left = "pan_left"
    pan_right = "pan_right"
    pan_up = "pan_up"
    pan_down = "pan_down"


class Window(BaseModel):
    """A crop window: zoom factor (1 = the whole cover-fitted frame) and where it sits in the slack
    left by the zoom, 0..1 each way (0.5 = centred)."""

    zoom: float = Field(ge=1.0, le=4.0)
    x: float = Field(default=0.5, ge=0.0, le=1.0)
    y: float = Field(default=0.5, ge=0.0, le=1.0)


class MotionPath(BaseModel):
    motion: Motion
    start: Window
    end: Window
    ease: float = Field(default=0.6, ge=0.0, le=1.0)  # 0 = linear, 1 = full sine ease-in-out


ZOOM_RANGE = (1.11, 1.17)  # each segment's zoom, drawn from this range
PAN_DRIFT = 0.015  # a pan's zoom changes by at most this much
MAX_ZOOM = ZOOM_RANGE[1] + PAN_DRIFT  # so any edge band narrower than 1 - 1/MAX_ZOOM may be cropped away
_ZOOMS = (Motion.zoom_in, Motion.zoom_out)
_PANS = (Motion.pan_left, Motion.pan_right, Motion.pan_up, Motion.pan_down)


def _path(motion: Motion, rng: random.Random) -> MotionPath:
    zoom = round(rng.uniform(*ZOOM_RANGE), 4)
    if motion in _ZOOMS:
        # towards (or from) a point a little off centre, usually the upper half where faces and subjects are
        focus_x, focus_y = round(rng.uniform(0.35, 0.65), 4), round(rng.uniform(0.3, 0.55), 4)
        wide, close = Window(zoom=1.0), Window(zoom=zoom, x=focus_x, y=focus_y)
        return MotionPath(motion=motion, start=wide, end=close) if motion is Motion.zoom_in else MotionPath(
            motion=motion, start=close, end=wide
        )
    across = round(rng.uniform(0.4, 0.6), 4)
    drift = round(rng.uniform(-PAN_DRIFT, PAN_DRIFT), 4)  # a hint of zoom keeps a pan alive
    first, last = Window(zoom=zoom), Window(zoom=zoom + drift if zoom + drift >= 1 else zoom)
    if motion is Motion.pan_right:
        first.x, last.x, first.y, last.y = 0.0, 1.0, across, across
    elif motion is Motion.pan_left:
        first.x, last.x, first.y, last.y = 1.0, 0.0, across, across
    elif motion is Motion.pan_down:
        first.y, last.y, first.x, last.x = 0.0, 1.0, across, across
    else:
        first.y, last.y, first.x, last.x = 1.0, 0.0, across, across
    return MotionPath(motion=motion, start=first, end=last)


def motion_for(index: int, seed: str = "") -> MotionPath:
    """The motion of the segment at `index` of the job identified by `seed`: deterministic, varied
    (zooms and pans alternate; no motion twice in a row)."""
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    phase = hashlib.sha256(seed.encode()).digest()[0] & 1
    family = _ZOOMS if (index + phase) % 2 == 0 else _PANS  # zooms and pans alternate: never a repeat
    choice = family[rng.randrange(len(family))]
    return _path(choice, rng)


# ------------------------------------------------------------------ the path, frame by frame


def eased(progress: float, ease: float) -> float:
    """Blend of linear and sine ease-in-out: speed never drops to zero at the ends (no dead stop)."""
    progress = min(1.0, max(0.0, progress))
    return (1 - ease) * progress + ease * (0.5 - 0.5 * math.cos(math.pi * progress))


def window_at(path: MotionPath, frame: int, frames: int) -> Window:
    """The window at `frame` of `frames`: zoom interpolated geometrically (steady apparent speed)."""
    t = eased(frame / max(1, frames - 1), path.ease)
    zoom = path.start.zoom * (path.end.zoom / path.start.zoom) ** t
    # 1.14 * (1 / 1.14) ** 1 is 0.9999999999999999 in floating point: never let rounding leave the picture
    zoom = min(max(zoom, min(path.start.zoom, path.end.zoom)), max(path.start.zoom, path.end.zoom))
    return Window(
        zoom=zoom, x=path.start.x + (path.end.x - path.start.x) * t, y=path.start.y + (path.end.y - path.start.y) * t
    )


def window_geometry(window: Window, src_w: int, src_h: int, out_w: int, out_h: int) -> tuple[float, float, float]:
    """(k, left, top): output position X (continuous, 0 = the frame's left edge) shows source position
    k*X + left (continuous, 0 = the picture's left edge); the same k on both axes: never stretched."""
    cover = max(out_w / src_w, out_h / src_h)
    k = 1.0 / (cover * window.zoom)  # source pixels per output pixel
    return k, (src_w - out_w * k) * window.x, (src_h - out_h * k) * window.y


def source_affine(
    window: Window, src_w: int, src_h: int, out_w: int, out_h: int,
    plane_scale: tuple[float, float] = (1.0, 1.0), subsample: int = 1,
) -> np.ndarray:  # fmt: skip
    """2x3 matrix taking an output plane's pixel index to the index it samples in a source plane (both
    with pixel centres on integers, OpenCV's convention). The geometry is that of the src_w x src_h
    picture; the plane may be a resized copy (`plane_scale` = its size over the picture's, per axis)
    and both planes may be subsampled by `subsample` (chroma: 2, sited at the 2x2 block's centre)."""
    k, left, top = window_geometry(window, src_w, src_h, out_w, out_h)
    sx, sy = plane_scale
    return np.array(
        [
            [sx * k, 0.0, sx * (k * 0.5 * subsample + left) / subsample - 0.5],
            [0.0, sy * k, sy * (k * 0.5 * subsample + top) / subsample - 0.5],
        ],
        dtype=np.float64,
    )


def source_point(window: Window, src_w: int, src_h: int, out_w: int, out_h: int, x: float, y: float) -> tuple[float, float]:
    """Where a source point (pixel index coordinates, centres on integers) lands in the output."""
    k, left, top = window_geometry(window, src_w, src_h, out_w, out_h)
    return (x + 0.5 - left) / k - 0.5, (y + 0.5 - top) / k - 0.5


# ------------------------------------------------------------------ planes and warping


@lru_cache(maxsize=1)
def opencv():  # noqa: ANN201
    """cv2, single-threaded: x264 keeps both cores busy; OpenCV's own thread pool only adds contention
    (measured: a 1080x1920 warp takes longer with 2 threads than with 1 on a 2-core machine)."""
    import cv2

    cv2.setNumThreads(1)
    return cv2


# BT.709, limited range: [Y, U, V] = M @ [R, G, B] + offset, for 8-bit values
_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB
_RGB_TO_YUV = np.array(
    [
        [219 / 255 * _KR, 219 / 255 * _KG, 219 / 255 * _KB, 16.0],
        [-224 / 255 * _KR / 1.8556, -224 / 255 * _KG / 1.8556, 224 / 255 * (1 - _KB) / 1.8556, 128.0],
        [224 / 255 * (1 - _KR) / 1.5748, -224 / 255 * _KG / 1.5748, -224 / 255 * _KB / 1.5748, 128.0],
    ],
    dtype=np.float32,
)


def rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.709 limited-range Y (full size) and U, V (half size, 2x2-averaged) planes of an RGB picture
    (odd sizes lose their last row/column: the warp replicates the edge there)."""
    cv2 = opencv()
    height, width = rgb.shape[:2]
    height, width = height - height % 2, width - width % 2
    yuv = cv2.transform(np.ascontiguousarray(rgb[:height, :width]), _RGB_TO_YUV)  # one pass, rounded, saturated
    y = np.ascontiguousarray(yuv[..., 0])
    half = (width // 2, height // 2)
    u = cv2.resize(np.ascontiguousarray(yuv[..., 1]), half, interpolation=cv2.INTER_AREA)
    v = cv2.resize(np.ascontiguousarray(yuv[..., 2]), half, interpolation=cv2.INTER_AREA)
    return y, u, v


_PAD = 192  # replicated border around each plane: lets the resize path start its region left of the picture
_PHASES = 160  # output offsets the resize path may try to land on the wanted fractional position
_GOOD_PHASE_ERROR = 1 / 128  # px: the first offset this close is taken (small offsets cost less)
_MAX_PHASE_ERROR = 1 / 48  # px: beyond this a frame is warped with warpAffine instead


def _resize_start(origin: float, step: float, limit: int) -> tuple[int, int] | None:
    """For one axis of `plane[i] = origin + step * out[i]`: an integer region start s and output offset
    d such that `s + (d + 0.5) * step - 0.5 == origin` within _MAX_PHASE_ERROR (None if none)."""
    offsets = np.arange(_PHASES)
    starts = origin + 0.5 - (offsets + 0.5) * step
    nearest = np.rint(starts)
    errors = np.where((nearest >= 0) & (nearest < limit), np.abs(starts - nearest), np.inf)
    good = np.nonzero(errors <= _GOOD_PHASE_ERROR)[0]
    best = int(good[0]) if len(good) else int(np.argmin(errors))
    if errors[best] > _MAX_PHASE_ERROR:
        return None
    return int(nearest[best]), best


def warp_plane(plane: np.ndarray, matrix: np.ndarray, dst: np.ndarray) -> None:
    """dst[y, x] = plane sampled bilinearly at (a*x + c, b*y + d), matrix = [[a, 0, c], [0, b, d]], for a
    plane with a replicated border already around it.

    A scale-and-shift warp is separable, so it can run as `cv2.resize` (about 4x faster than
    `cv2.warpAffine` here, and positions exact to 1/2048 px instead of 1/32): resize maps output i of a
    region starting at s to s + (i + 0.5) * step - 0.5, so we pick the region's integer start and a
    small output offset whose combination lands on the wanted fraction, then crop that offset away."""
    cv2 = opencv()
    out_h, out_w = dst.shape
    (a, _, c), (_, b, d) = matrix
    found_x = _resize_start(c, a, plane.shape[1])
    found_y = _resize_start(d, b, plane.shape[0])
    if found_x is not None and found_y is not None:
        (x0, dx), (y0, dy) = found_x, found_y
        width = min(plane.shape[1] - x0, int(np.ceil((dx + out_w + 1) * a)) + 2)
        height = min(plane.shape[0] - y0, int(np.ceil((dy + out_h + 1) * b)) + 2)
        resized = cv2.resize(plane[y0 : y0 + height, x0 : x0 + width], None, fx=1.0 / a, fy=1.0 / b,
                             interpolation=cv2.INTER_LINEAR)  # fmt: skip
        if resized.shape[1] >= dx + out_w and resized.shape[0] >= dy + out_h:
            dst[:] = resized[dy : dy + out_h, dx : dx + out_w]
            return
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    cv2.warpAffine(plane, matrix, (out_w, out_h), dst=dst, flags=flags, borderMode=cv2.BORDER_REPLICATE)


class KenBurnsSource:
    """A picture ready to be warped: its planes, prepared once per segment. Pictures much larger
    than needed are first reduced (area-averaged) so that bilinear sampling never aliases."""

    def __init__(self, rgb: np.ndarray, out_w: int, out_h: int, max_zoom: float = 1.0) -> None:
        cv2 = opencv()
        if rgb.ndim != 3 or rgb.shape[0] < 2 or rgb.shape[1] < 2:
            raise RenderError("cannot animate an empty picture")
        self.src_h, self.src_w = rgb.shape[:2]  # the geometry is always the original picture's
        cover = max(out_w / self.src_w, out_h / self.src_h)
        # at the widest (zoom 1) each output pixel spans 1/cover source pixels: keep that <= ~1.25
        if 1.0 / cover > 1.25:
            scale = cover * 1.02 * max(1.0, max_zoom)
            size = (max(2, round(self.src_w * scale)), max(2, round(self.src_h * scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        plane_h, plane_w = rgb.shape[:2]
        # the exact scale of the planes on each axis (rounding makes them differ very slightly)
        self.plane_scale = (plane_w / self.src_w, plane_h / self.src_h)
        # even-cropped planes with a replicated border (what warpAffine's BORDER_REPLICATE would read)
        self.y, self.u, self.v = (
            cv2.copyMakeBorder(plane, _PAD, _PAD, _PAD, _PAD, cv2.BORDER_REPLICATE)
            for plane in rgb_to_yuv420(np.ascontiguousarray(rgb))
        )
        self.out_w, self.out_h = out_w, out_h

    @classmethod
    def from_file(cls, path: Path, out_w: int, out_h: int, max_zoom: float = 1.0) -> KenBurnsSource:
        return cls(np.asarray(load_rgb(path)), out_w, out_h, max_zoom)

    def matrices(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """The luma and chroma sampling matrices for `window`, in the bordered planes' indices."""
        w, h = self.out_w, self.out_h
        luma = source_affine(window, self.src_w, self.src_h, w, h, self.plane_scale)
        chroma = source_affine(window, self.src_w, self.src_h, w, h, self.plane_scale, subsample=2)
        luma[:, 2] += _PAD
        chroma[:, 2] += _PAD
        return luma, chroma

    def warp_into(self, window: Window, frame: memoryview | bytearray | np.ndarray) -> None:
        """Write the frame for `window` into a yuv420p buffer of out_w*out_h*3/2 bytes."""
        w, h = self.out_w, self.out_h
        buffer = np.frombuffer(frame, dtype=np.uint8) if not isinstance(frame, np.ndarray) else frame
        luma_matrix, chroma_matrix = self.matrices(window)
        warp_plane(self.y, luma_matrix, buffer[: w * h].reshape(h, w))
        quarter = (w // 2) * (h // 2)
        warp_plane(self.u, chroma_matrix, buffer[w * h : w * h + quarter].reshape(h // 2, w // 2))
        warp_plane(self.v, chroma_matrix, buffer[w * h + quarter :].reshape(h // 2, w // 2))


def frame_bytes(width: int, height: int) -> int:
    return width * height * 3 // 2
