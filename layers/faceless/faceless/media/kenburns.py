"""Ken Burns motion with sub-pixel precision.

`zoompan` crops at whole pixels, so slow moves step visibly (judder). Instead the moving window is
given to ffmpeg's `perspective` filter as four corner points evaluated per frame: it resamples with
bilinear interpolation at fractional positions, so a 0.2 px/frame pan is as smooth as a fast one.
The window always lies inside the (already cover-fitted) picture: zoom >= 1, never a black edge.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Motion(StrEnum):
    zoom_in = "zoom_in"
    pan_right = "pan_right"
    zoom_out = "zoom_out"
    pan_left = "pan_left"


class Window(BaseModel):
    """A crop window: zoom factor (1 = whole frame) and where it sits in the slack, 0..1 each way."""

    zoom: float = Field(ge=1.0)
    x: float = Field(default=0.5, ge=0.0, le=1.0)
    y: float = Field(default=0.5, ge=0.0, le=1.0)


class MotionPath(BaseModel):
    motion: Motion
    start: Window
    end: Window


ZOOM = 1.14  # how far zooms travel; pans hold this zoom to have room to move
_ORDER = [Motion.zoom_in, Motion.pan_right, Motion.zoom_out, Motion.pan_left]
_PATHS = {
    Motion.zoom_in: (Window(zoom=1.0, x=0.5, y=0.5), Window(zoom=ZOOM, x=0.5, y=0.42)),
    Motion.zoom_out: (Window(zoom=ZOOM, x=0.5, y=0.58), Window(zoom=1.0, x=0.5, y=0.5)),
    Motion.pan_right: (Window(zoom=ZOOM, x=0.0, y=0.5), Window(zoom=ZOOM, x=1.0, y=0.5)),
    Motion.pan_left: (Window(zoom=ZOOM, x=1.0, y=0.5), Window(zoom=ZOOM, x=0.0, y=0.5)),
}


def motion_for(index: int) -> MotionPath:
    """Deterministic variety: zoom in, pan right, zoom out, pan left, then again."""
    motion = _ORDER[index % len(_ORDER)]
    start, end = _PATHS[motion]
    return MotionPath(motion=motion, start=start, end=end)


def _lerp(a: float, b: float, progress: str) -> str:
    return f"({a:.6f}+({b - a:.6f})*{progress})" if a != b else f"{a:.6f}"


def perspective_filter(path: MotionPath, width: int, height: int, frames: int) -> str:
    """The `perspective` filter moving a window along `path` over `frames` frames of a width x height
    picture (its output has the same size). Zoom is interpolated geometrically, so it looks steady."""
    progress = f"(on/{max(1, frames - 1)})"
    if path.start.zoom == path.end.zoom:
        zoom = f"{path.start.zoom:.6f}"
    else:
        zoom = f"({path.start.zoom:.6f}*pow({path.end.zoom / path.start.zoom:.8f},{progress}))"
    window_w, window_h = f"({width}/{zoom})", f"({height}/{zoom})"
    left = f"(({width}-{window_w})*{_lerp(path.start.x, path.end.x, progress)})"
    top = f"(({height}-{window_h})*{_lerp(path.start.y, path.end.y, progress)})"
    right, bottom = f"({left}+{window_w})", f"({top}+{window_h})"
    corners = {"x0": left, "y0": top, "x1": right, "y1": top, "x2": left, "y2": bottom, "x3": right, "y3": bottom}
    options = ":".join(f"{name}='{expr}'" for name, expr in corners.items())
    return f"perspective={options}:interpolation=linear:sense=source:eval=frame"
