"""Pictures in: whatever mode a provider's file opens in, the renderer gets the picture as RGB."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from faceless.media.images import load_rgb


@pytest.mark.parametrize("bits", [16, 8])
def test_a_greyscale_picture_of_any_depth_keeps_its_tones(tmp_path, bits):
    # GIVEN a greyscale PNG ramp from black to white, 16-bit (opens as I;16) or 8-bit
    top = 65535 if bits == 16 else 255
    ramp = np.tile(np.linspace(0, top, 256), (64, 1)).astype(np.uint16 if bits == 16 else np.uint8)
    path = tmp_path / f"ramp{bits}.png"
    Image.fromarray(ramp).save(path)
    # WHEN loaded for rendering
    rgb = np.asarray(load_rgb(path)).astype(int)
    # THEN it is the same ramp in 8-bit RGB: black stays black, mid-grey mid-grey (not clipped to white)
    assert rgb.shape == (64, 256, 3)
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    row = rgb[0, :, 0]
    assert row[0] == 0 and row[-1] == 255
    assert np.abs(row - np.linspace(0, 255, 256)).max() <= 1
