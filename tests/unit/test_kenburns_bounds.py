"""Regression: a zoom-out ending at 1.0 must not round below 1 on its last frame (it did: 1.14 *
(1/1.14) ** 1 == 0.9999999999999999, which failed the Window model and so the whole render)."""

from __future__ import annotations

import pytest

from faceless.media.kenburns import Motion, MotionPath, Window, window_at


@pytest.mark.parametrize("start_zoom", [round(1.11 + i * 0.0003, 4) for i in range(200)])
def test_every_frame_of_a_zoom_out_stays_inside_the_picture(start_zoom):
    path = MotionPath(motion=Motion.zoom_out, start=Window(zoom=start_zoom, x=0.3, y=0.7), end=Window(zoom=1.0))
    frames = 157
    zooms = [window_at(path, frame, frames).zoom for frame in range(frames)]
    assert zooms[-1] == 1.0
    assert all(1.0 <= z <= start_zoom for z in zooms)
