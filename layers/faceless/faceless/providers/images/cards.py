"""The offline image provider: illustrative cards drawn with numpy and Pillow.

A card is a small painted scene (a palette per art style, a composition per shot) with the
segment's key words set large in Anton. The scene is painted at a quarter of the output size and
upscaled with bicubic filtering, which gives soft edges for free and keeps a 1080x1920 card fast;
grain and text are then added at full size so the frame has detail everywhere (Ken Burns motion
stays visible). The output size *is* the native size, so nothing is ever stretched.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from faceless.agents.text import STOP_WORDS
from faceless.errors import InvalidRequestError
from faceless.models import ArtStyle, Shot
from faceless.providers.base import GeneratedImage, ImageRequest

PROVIDER_NAME = "offline"
MODEL_NAME = "pillow-cards-v1"
MIN_SIDE = 16
MAX_SIDE = 8192
_SCENE_SCALE = 4  # the scene is painted at 1/4 size: soft shapes and speed
_CALM_FROM = 0.64  # captions are burned in below this fraction of the height later on
_FONT_LOCK = threading.Lock()

RGB = tuple[float, float, float]
Array = np.ndarray


# ---------------------------------------------------------------- key words

_WEAK_SALIENCE = 4.5  # below this, a third or fourth word adds clutter, not meaning
_WORD_PATTERN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def key_words(text: str, max_words: int = 4, max_chars: int = 26) -> list[str]:
    """The 2–4 most salient words of `text`, in reading order, stop-words dropped.

    Salience favours longer words, capitalised words inside a sentence (names) and numbers. Fewer
    words are kept when they would not fit a large headline (`max_chars` letters in total) or are
    weak (short, late, adverbs), but at least two when the text has two content words.
    """
    tokens = _WORD_PATTERN.findall(text.replace("\u2019", "'"))
    candidates: list[tuple[float, int, str]] = []
    seen: set[str] = set()
    for position, token in enumerate(tokens):
        folded = token.casefold()
        if folded in STOP_WORDS or folded in seen or not _is_content_word(token):
            continue
        seen.add(folded)
        candidates.append((_salience(token, position), position, token))
    ranked = sorted(candidates, key=lambda item: (-item[0], item[1]))
    chosen: list[tuple[int, str]] = []
    letters = 0
    for salience, position, token in ranked:
        if len(chosen) >= max_words:
            break
        if len(chosen) >= 2 and (letters + len(token) > max_chars or salience < _WEAK_SALIENCE):
            break
        chosen.append((position, token))
        letters += len(token)
    return [token for _, token in sorted(chosen)]


def _is_content_word(token: str) -> bool:
    if token.isdigit():
        return len(token) >= 2
    return len(token) >= 3


def _salience(token: str, position: int) -> float:
    """Longer is better; names and numbers more so; the topic tends to come early; adverbs
    ("-ly") rarely make a headline."""
    score = float(min(len(token), 12)) - 0.15 * min(position, 20)
    if token.isdigit():
        score += 3.0
    elif token[0].isupper() and position > 0:
        score += 2.5
    if token.casefold().endswith("ly"):
        score -= 5.0
    return score


# ---------------------------------------------------------------- palettes


def _hex(code: str) -> RGB:
    code = code.lstrip("#")
    return (int(code[0:2], 16) / 255, int(code[2:4], 16) / 255, int(code[4:6], 16) / 255)


@dataclass(frozen=True)
class Palette:
    sky_top: RGB
    sky_bottom: RGB
    glow: RGB
    accents: tuple[RGB, RGB, RGB]
    ground_top: RGB
    ground_bottom: RGB
    text: RGB
    text_shadow: RGB
    panel: RGB
    panel_opacity: float
    grain: float  # std-dev of the full-size grain, in 8-bit levels
    vignette: float  # 0 = none, 1 = black corners


PALETTES: dict[ArtStyle, Palette] = {
    ArtStyle.cinematic: Palette(
        sky_top=_hex("06222c"), sky_bottom=_hex("1f6f7a"), glow=_hex("ff9440"),
        accents=(_hex("f2703a"), _hex("ffc27a"), _hex("0f4f5c")),
        ground_top=_hex("123c44"), ground_bottom=_hex("04151a"),
        text=_hex("fff3e2"), text_shadow=_hex("000000"), panel=_hex("04161c"), panel_opacity=0.42,
        grain=5.0, vignette=0.55,
    ),
    ArtStyle.illustration: Palette(
        sky_top=_hex("2f8fe0"), sky_bottom=_hex("9fe0ff"), glow=_hex("ffe45c"),
        accents=(_hex("ff6b4a"), _hex("3fbf6f"), _hex("9b5de5")),
        ground_top=_hex("5cc85a"), ground_bottom=_hex("23804a"),
        text=_hex("ffffff"), text_shadow=_hex("14203f"), panel=_hex("1b2a5c"), panel_opacity=0.40,
        grain=1.5, vignette=0.12,
    ),
    ArtStyle.anime: Palette(
        sky_top=_hex("5aa9ec"), sky_bottom=_hex("ffd6e8"), glow=_hex("fff4d0"),
        accents=(_hex("ffa8c5"), _hex("8ee3d8"), _hex("b8a6f5")),
        ground_top=_hex("96dba0"), ground_bottom=_hex("4f9f78"),
        text=_hex("ffffff"), text_shadow=_hex("473a7a"), panel=_hex("4c3f86"), panel_opacity=0.34,
        grain=2.0, vignette=0.14,
    ),
    ArtStyle.watercolor: Palette(
        sky_top=_hex("78a9cc"), sky_bottom=_hex("f0e1c6"), glow=_hex("f4c98f"),
        accents=(_hex("d9786f"), _hex("86ad6c"), _hex("4f7fae")),
        ground_top=_hex("c2a976"), ground_bottom=_hex("8f7d5c"),
        text=_hex("2a2d40"), text_shadow=_hex("fffaf0"), panel=_hex("f8f1e1"), panel_opacity=0.62,
        grain=3.0, vignette=0.0,
    ),
    ArtStyle.documentary: Palette(
        sky_top=_hex("6f7d78"), sky_bottom=_hex("cdbd9b"), glow=_hex("ecd3a0"),
        accents=(_hex("8a5f3a"), _hex("b08a4f"), _hex("59694b")),
        ground_top=_hex("75634a"), ground_bottom=_hex("2f271d"),
        text=_hex("faf5ec"), text_shadow=_hex("000000"), panel=_hex("1e1912"), panel_opacity=0.45,
        grain=4.5, vignette=0.38,
    ),
    ArtStyle.minimal: Palette(
        sky_top=_hex("1f2a44"), sky_bottom=_hex("f3ede2"), glow=_hex("f3ede2"),
        accents=(_hex("1f2a44"), _hex("f3ede2"), _hex("8d93a3")),
        ground_top=_hex("1f2a44"), ground_bottom=_hex("1f2a44"),
        text=_hex("1f2a44"), text_shadow=_hex("f3ede2"), panel=_hex("f3ede2"), panel_opacity=0.82,
        grain=1.2, vignette=0.0,
    ),
}


# ---------------------------------------------------------------- the painting canvas


class Canvas:
    """A float RGB image (0..1) with coordinates; shapes are sized in units of the short side."""

    def __init__(self, width: int, height: int, out_width: int, out_height: int) -> None:
        self.width = width
        self.height = height
        self.image = np.zeros((height, width, 3), dtype=np.float32)
        short = min(out_width, out_height)
        self.sx = out_width / short  # fraction of width -> short-side units
        self.sy = out_height / short
        self.x = ((np.arange(width, dtype=np.float32) + 0.5) / width)[None, :]  # 0..1
        self.y = ((np.arange(height, dtype=np.float32) + 0.5) / height)[:, None]  # 0..1
        self.pixel = 1.0 / min(width, height)  # one scene pixel, in short-side units

    def distance(self, cx: float, cy: float) -> Array:
        """Distance from (cx, cy), given as fractions of width and height, in short-side units."""
        return np.hypot((self.x - cx) * self.sx, (self.y - cy) * self.sy)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float) -> Array:
        """1 on the ellipse's edge, 0 at its centre (radii in short-side units)."""
        return np.hypot((self.x - cx) * self.sx / rx, (self.y - cy) * self.sy / ry)

    def paint(self, color: RGB | Array, alpha: Array | float) -> None:
        alpha_array = np.asarray(alpha, dtype=np.float32)
        if alpha_array.ndim == 2:
            alpha_array = alpha_array[..., None]
        self.image += (np.asarray(color, dtype=np.float32) - self.image) * alpha_array

    def window(self, cx: float, cy: float, reach: float) -> tuple[slice, slice] | None:
        """The rows and columns within `reach` (short-side units) of (cx, cy); None if off-canvas."""
        half_w = reach / self.sx * self.width
        half_h = reach / self.sy * self.height
        x0, x1 = max(0, int(cx * self.width - half_w) - 1), min(self.width, int(cx * self.width + half_w) + 2)
        y0, y1 = max(0, int(cy * self.height - half_h) - 1), min(self.height, int(cy * self.height + half_h) + 2)
        if x0 >= x1 or y0 >= y1:
            return None
        return slice(y0, y1), slice(x0, x1)

    def disc(self, cx: float, cy: float, radius: float, softness: float, color: RGB | Array,
             opacity: float = 1.0, additive: bool = False) -> None:
        """A soft disc, computed on its bounding window only (small shapes stay cheap)."""
        window = self.window(cx, cy, radius + softness)
        if window is None:
            return
        rows, cols = window
        distance = np.hypot((self.x[:, cols] - cx) * self.sx, (self.y[rows] - cy) * self.sy)
        alpha = (_fill_inside(distance, radius, softness) * opacity)[..., None]
        target = self.image[rows, cols]
        ink = np.asarray(color, dtype=np.float32)
        if additive:
            target += ink * alpha
        else:
            target += (ink - target) * alpha

    def light(self, color: RGB, amount: Array | float) -> None:
        """Add light (for glows and bokeh): brightens without covering."""
        amount_array = np.asarray(amount, dtype=np.float32)
        if amount_array.ndim == 2:
            amount_array = amount_array[..., None]
        self.image += np.asarray(color, dtype=np.float32) * amount_array

    def vertical_gradient(self, top: RGB, bottom: RGB, start: float = 0.0, end: float = 1.0) -> Array:
        t = np.clip((self.y - start) / max(end - start, 1e-6), 0.0, 1.0)
        return _mix(top, bottom, np.broadcast_to(t, (self.height, self.width)))


def _mix(a: RGB | Array, b: RGB | Array, t: Array | float) -> Array:
    a_array = np.asarray(a, dtype=np.float32)
    b_array = np.asarray(b, dtype=np.float32)
    t_array = np.asarray(t, dtype=np.float32)
    if t_array.ndim == 2:
        t_array = t_array[..., None]
    return a_array + (b_array - a_array) * t_array


def _shade(color: RGB | Array, factor: float) -> Array:
    return np.asarray(color, dtype=np.float32) * np.float32(factor)


def _smoothstep(edge0: float, edge1: float, x: Array) -> Array:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _fill_inside(distance: Array, radius: Array | float, softness: float) -> Array:
    """Alpha of a shape `distance <= radius`, with an edge `softness` wide."""
    return _smoothstep(softness, -softness, distance - radius)


def _value_noise(rng: np.random.Generator, canvas: Canvas, cells: float, octaves: int = 3) -> Array:
    """Smooth fractal noise in 0..1 (bicubic-upscaled random grids; no per-pixel Python)."""
    total = np.zeros((canvas.height, canvas.width), dtype=np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        count = cells * (2**octave)
        grid_w = max(2, int(round(count * canvas.sx)) + 2)
        grid_h = max(2, int(round(count * canvas.sy)) + 2)
        grid = Image.fromarray(rng.random((grid_h, grid_w), dtype=np.float32), mode="F")
        layer = np.asarray(grid.resize((canvas.width, canvas.height), Image.Resampling.BICUBIC))
        weight = 0.5**octave
        total += layer * weight
        weight_sum += weight
    total /= weight_sum
    low, high = float(total.min()), float(total.max())
    return (total - low) / max(high - low, 1e-6)


def _noise_1d(rng: np.random.Generator, length: int, cells: int, octaves: int = 3) -> Array:
    total = np.zeros(length, dtype=np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        count = cells * (2**octave)
        knots = rng.random(count + 2).astype(np.float32)
        position = np.linspace(0, count, length, endpoint=False, dtype=np.float32)
        index = position.astype(np.int64)
        fraction = position - index
        fraction = fraction * fraction * (3 - 2 * fraction)
        weight = 0.55**octave
        total += (knots[index] * (1 - fraction) + knots[index + 1] * fraction) * weight
        weight_sum += weight
    return total / weight_sum


def _bokeh(canvas: Canvas, rng: np.random.Generator, colors: list[RGB], count: int, top: float, bottom: float,
           strength: float) -> None:
    """Soft out-of-focus light discs: the texture that makes camera motion readable."""
    for _ in range(count):
        cx, cy = rng.uniform(0.02, 0.98), rng.uniform(top, bottom)
        radius = rng.uniform(0.015, 0.07)
        color = colors[int(rng.integers(len(colors)))]
        canvas.disc(cx, cy, radius, radius * 0.35, color, strength * rng.uniform(0.4, 1.0), additive=True)


def _blurred(image: Array, radius: float) -> Array:
    """A Gaussian blur of a float RGB image (through 8-bit Pillow: plenty for a soft backdrop)."""
    as_bytes = Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
    return np.asarray(as_bytes.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32) / 255


# ---------------------------------------------------------------- compositions, one per shot


def _compose_wide(canvas: Canvas, palette: Palette, rng: np.random.Generator) -> None:
    """A horizon with layered distant ridges under a glowing sky."""
    horizon = 0.6
    canvas.image[:] = canvas.vertical_gradient(palette.sky_top, palette.sky_bottom, 0.0, horizon)
    sun_x = rng.uniform(0.28, 0.72)
    sun_y = horizon - rng.uniform(0.085, 0.11)
    sun_distance = canvas.distance(sun_x, sun_y)
    canvas.paint(palette.glow, 0.6 * np.exp(-((sun_distance / 0.5) ** 2)))  # mixed, not added: stays warm
    canvas.light(palette.glow, 0.2 * np.exp(-((sun_distance / 0.2) ** 2)))
    canvas.paint(_mix(palette.glow, (1.0, 1.0, 1.0), 0.45), _fill_inside(sun_distance, 0.075, 0.01))
    for _ in range(5):  # long soft cloud bands
        band = canvas.ellipse(rng.uniform(0.1, 0.9), rng.uniform(0.08, horizon - 0.15),
                              rng.uniform(0.25, 0.6), rng.uniform(0.02, 0.05))
        canvas.light(_mix(palette.sky_bottom, palette.glow, 0.5), 0.22 * np.exp(-(band**2)))
    ridge_colors = [_shade(palette.accents[2], 0.9), _shade(palette.accents[2], 0.6),
                    _shade(palette.ground_bottom, 0.9)]
    haze = [0.62, 0.36, 0.1]
    bases = [horizon - 0.04, horizon - 0.018, horizon + 0.004]
    heights = [0.06, 0.04, 0.025]
    column = np.arange(canvas.width)
    for layer in range(3):
        profile = bases[layer] - heights[layer] * _noise_1d(rng, canvas.width, cells=3 + 2 * layer)
        if layer == 2:  # a line of pines on the nearest ridge
            teeth = np.clip(1.0 - np.abs((column * 22.0 / canvas.width) % 1.0 - 0.5) * 3.2, 0, 1)
            present = rng.random(23) < 0.55
            profile = profile - 0.03 * teeth * present[(column * 22 // canvas.width)]
        alpha = _smoothstep(-canvas.pixel, canvas.pixel, canvas.y - profile[None, :])
        color = _mix(ridge_colors[layer], palette.sky_bottom, haze[layer])
        canvas.paint(color, alpha)
        mist = np.exp(-(((canvas.y - bases[layer]) / 0.025) ** 2)) * 0.12
        canvas.light(palette.sky_bottom, np.broadcast_to(mist, (canvas.height, canvas.width)))
    ground = canvas.vertical_gradient(palette.ground_top, palette.ground_bottom, horizon, 1.0)
    canvas.paint(ground, _smoothstep(horizon - 0.002, horizon + 0.01, canvas.y) * np.ones_like(canvas.x))
    streaks = _noise_1d(rng, canvas.height, cells=30)[:, None]
    reflection = np.exp(-(((canvas.x - sun_x) * canvas.sx / 0.06) ** 2)) * (canvas.y > horizon)
    fade = np.exp(-(canvas.y - horizon) / 0.12)
    canvas.light(palette.glow, reflection * fade * (0.15 + 0.35 * streaks))
    below_horizon = np.clip(canvas.y - horizon, 0, None)
    canvas.paint(palette.glow, 0.22 * np.exp(-below_horizon / 0.08) * (canvas.y > horizon) * np.ones_like(canvas.x))
    _bokeh(canvas, rng, [palette.glow, palette.sky_bottom], 10, 0.05, horizon - 0.1, 0.08)


def _compose_close_up(canvas: Canvas, palette: Palette, rng: np.random.Generator) -> None:
    """One large, lit, central form against a soft radial backdrop."""
    backdrop = canvas.distance(0.5, 0.45)
    canvas.image[:] = _mix(_mix(palette.sky_bottom, palette.glow, 0.25), palette.sky_top, np.clip(backdrop / 1.1, 0, 1))
    _bokeh(canvas, rng, [palette.glow, palette.accents[1], palette.sky_bottom], 26, 0.0, 1.0, 0.16)
    cx, cy, radius = 0.5 + rng.uniform(-0.04, 0.04), 0.54, 0.31
    distance = canvas.distance(cx, cy)
    canvas.light(palette.glow, 0.35 * np.exp(-(((distance - radius) / 0.09) ** 2)))
    shadow = canvas.ellipse(cx + 0.05, cy + radius / canvas.sy * 1.02, radius * 0.95, radius * 0.16)
    canvas.paint(_shade(palette.sky_top, 0.5), 0.45 * np.exp(-(shadow**2) * 2))
    nx = (canvas.x - cx) * canvas.sx / radius
    ny = (canvas.y - cy) * canvas.sy / radius
    nz = np.sqrt(np.clip(1.0 - nx * nx - ny * ny, 0.0, 1.0))
    light_dir = np.array([-0.5, -0.6, 0.62], dtype=np.float32)
    light_dir /= np.linalg.norm(light_dir)
    lambert = np.clip(nx * light_dir[0] + ny * light_dir[1] + nz * light_dir[2], 0.0, 1.0)
    warp = _value_noise(rng, canvas, cells=3)
    bands = 0.5 + 0.5 * np.sin(ny * 9.0 + warp * 5.0 + nx * 2.0)
    body_color = palette.accents[0]
    surface = _mix(_shade(body_color, 0.22), body_color, lambert**0.8)
    surface = _mix(surface, _mix(body_color, palette.accents[1], 0.6), bands * 0.35 * lambert)
    rim = ((1.0 - nz) ** 3) * np.clip(-nx * 0.6 + ny * 0.4 + 0.3, 0, 1)
    surface = surface + np.asarray(palette.glow, dtype=np.float32) * (rim * 0.7)[..., None]
    specular = np.exp(-((nx + 0.33) ** 2 + (ny + 0.42) ** 2) / 0.02) * 0.55
    surface = surface + specular[..., None]
    canvas.paint(surface, _fill_inside(distance, radius, canvas.pixel * 1.2))


def _compose_aerial(canvas: Canvas, palette: Palette, rng: np.random.Generator) -> None:
    """Fields seen from above: a tilted patchwork, hedgerows, a river and cloud shadows."""
    angle = rng.uniform(-0.45, 0.45)
    px, py = canvas.x * canvas.sx, canvas.y * canvas.sy
    u = px * np.cos(angle) + py * np.sin(angle) + 2.0
    v = -px * np.sin(angle) + py * np.cos(angle) + 2.0
    u_edges = np.cumsum(rng.uniform(0.09, 0.26, 80))
    v_edges = np.cumsum(rng.uniform(0.07, 0.2, 80))
    u_cell = np.searchsorted(u_edges, u)
    v_cell = np.searchsorted(v_edges, v)
    u_edge_distance = np.minimum(u - np.take(np.concatenate([[0.0], u_edges]), u_cell), np.take(u_edges, u_cell) - u)
    v_edge_distance = np.minimum(v - np.take(np.concatenate([[0.0], v_edges]), v_cell), np.take(v_edges, v_cell) - v)
    field_colors = np.array(
        [palette.ground_top, palette.ground_bottom, _mix(palette.accents[0], palette.ground_top, 0.45),
         _mix(palette.accents[1], palette.ground_top, 0.35), _mix(palette.glow, palette.ground_top, 0.4)],
        dtype=np.float32,
    )
    table = rng.integers(0, len(field_colors), (81, 81))
    brightness = rng.uniform(0.85, 1.12, (81, 81)).astype(np.float32)
    striped = rng.random((81, 81)) < 0.45
    cell = (u_cell, v_cell)
    canvas.image[:] = field_colors[table[cell]] * brightness[cell][..., None]
    rows = 0.5 + 0.5 * np.sin(v * (2 * np.pi / 0.03) + u * 0.5)
    canvas.image *= (1.0 - 0.14 * rows * striped[cell])[..., None]
    hedge = np.minimum(u_edge_distance, v_edge_distance)
    canvas.paint(_shade(palette.ground_bottom, 0.55), _smoothstep(0.009, 0.003, hedge) * 0.85)
    river_v = 2.0 + rng.uniform(0.7, 1.0) + 0.12 * np.sin(u * 3.1 + rng.uniform(0, 6)) + 0.05 * np.sin(u * 7.7)
    river_distance = np.abs(v - river_v)
    canvas.paint(_shade(palette.ground_bottom, 0.8), _fill_inside(river_distance, 0.045, 0.006))
    canvas.paint(_mix(palette.sky_top, palette.sky_bottom, 0.5), _fill_inside(river_distance, 0.032, 0.004))
    canvas.light(palette.glow, _fill_inside(river_distance, 0.008, 0.006) * 0.25)
    canopy = _shade(_mix(palette.ground_bottom, palette.accents[1], 0.3), 0.7)
    for _ in range(45):  # copses of trees, each with its shadow
        cx, cy, radius = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.008, 0.022)
        canvas.disc(cx + 0.006, cy + 0.004, radius, 0.004, _shade(palette.ground_bottom, 0.35), 0.6)
        canvas.disc(cx, cy, radius, 0.003, canopy)
    clouds = _value_noise(rng, canvas, cells=2.5)
    canvas.image *= (1.0 - 0.28 * _smoothstep(0.5, 0.8, clouds))[..., None]
    canvas.light(palette.glow, 0.12 * np.exp(-((canvas.distance(rng.uniform(0.2, 0.8), 0.2) / 0.6) ** 2)))


def _compose_detail(canvas: Canvas, palette: Palette, rng: np.random.Generator) -> None:
    """A macro texture (domain-warped ripples) with dew drops and a shallow depth of field."""
    angle = rng.uniform(0, np.pi)
    px, py = canvas.x * canvas.sx, canvas.y * canvas.sy
    warp = _value_noise(rng, canvas, cells=2.0)
    phase = (px * np.cos(angle) + py * np.sin(angle)) * 7.0 + warp * 4.0
    ripples = (0.5 + 0.5 * np.sin(2 * np.pi * phase)) ** 1.6
    tint = _value_noise(rng, canvas, cells=1.5)
    base = _mix(_shade(palette.accents[2], 0.55), palette.accents[1], tint)
    canvas.image[:] = _mix(_shade(base, 0.45), base, ripples)
    veins = np.abs(np.sin(2 * np.pi * (phase * 0.5 + 0.25)))
    canvas.light(palette.glow, _smoothstep(0.06, 0.0, veins) * 0.25)
    for _ in range(int(rng.integers(14, 22))):  # dew drops: small shaded spheres
        cx, cy, radius = rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.8), rng.uniform(0.015, 0.06)
        window = canvas.window(cx, cy, radius * 1.6)
        if window is None:
            continue
        rows, cols = window
        nx = (canvas.x[:, cols] - cx) * canvas.sx / radius
        ny = (canvas.y[rows] - cy) * canvas.sy / radius
        inside = _fill_inside(np.hypot(nx, ny), 1.0, 0.12)[..., None]
        patch = canvas.image[rows, cols]
        drop_shadow = _fill_inside(np.hypot(nx - 0.25, ny - 0.3), 1.0, 0.3)[..., None] * 0.4
        patch += (_shade(palette.accents[2], 0.35) - patch) * drop_shadow
        patch += (_mix(patch, palette.glow, np.clip(0.35 + 0.35 * ny, 0, 1)) - patch) * inside * 0.55
        patch += np.exp(-((nx + 0.35) ** 2 + (ny + 0.4) ** 2) / 0.03)[..., None] * inside * 0.8
    focus = _smoothstep(0.2, 0.45, np.abs(canvas.y - 0.42))
    focus = np.broadcast_to(focus, (canvas.height, canvas.width))
    canvas.image[:] = _mix(canvas.image, _blurred(canvas.image, 4.0), focus)
    _bokeh(canvas, rng, [palette.glow, palette.accents[0]], 14, 0.0, 1.0, 0.14)


def _compose_medium(canvas: Canvas, palette: Palette, rng: np.random.Generator) -> None:
    """A mid-size subject (a lone tree) standing in a landscape."""
    ground_y = 0.7
    canvas.image[:] = canvas.vertical_gradient(palette.sky_top, palette.sky_bottom, 0.0, ground_y)
    light_x = rng.uniform(0.2, 0.8)
    canvas.paint(palette.glow, 0.45 * np.exp(-((canvas.distance(light_x, 0.3) / 0.55) ** 2)))
    _bokeh(canvas, rng, [palette.glow, palette.sky_bottom], 12, 0.05, ground_y - 0.05, 0.1)
    hills = ground_y - 0.025 - 0.05 * _noise_1d(rng, canvas.width, cells=3)
    canvas.paint(_mix(palette.accents[2], palette.sky_bottom, 0.5),
                 _smoothstep(-canvas.pixel, canvas.pixel, canvas.y - hills[None, :]))
    ground = canvas.vertical_gradient(palette.ground_top, palette.ground_bottom, ground_y, 1.0)
    canvas.paint(ground, _smoothstep(ground_y - 0.003, ground_y + 0.006, canvas.y) * np.ones_like(canvas.x))
    meadow = _value_noise(rng, canvas, cells=6)
    canvas.image *= (1.0 - 0.08 * meadow * (canvas.y > ground_y))[..., None]
    # The tree is sized in short-side units from the ground up, so it stays mid-size in any frame;
    # in a landscape frame it is smaller and stands off-centre, beside the headline's middle.
    scale = 1.0 if canvas.sy >= 1.3 else 0.72
    side = 0.0 if canvas.sy >= 1.3 else float(rng.choice([-1.0, 1.0])) * 0.22
    cx = 0.5 + side + rng.uniform(-0.08, 0.08)
    shadow = canvas.ellipse(cx + 0.04, ground_y + 0.004, 0.3 * scale, 0.035 * scale)
    canvas.paint(_shade(palette.ground_bottom, 0.5), 0.55 * np.exp(-(shadow**2) * 1.5))
    trunk_height, trunk_width = 0.3 * scale, 0.055 * scale
    trunk_top = ground_y - trunk_height / canvas.sy
    taper = np.clip((canvas.y - trunk_top) / (ground_y - trunk_top), 0, 1)
    trunk = _fill_inside(np.abs((canvas.x - cx) * canvas.sx), trunk_width * (0.55 + 0.45 * taper) / 2, canvas.pixel)
    trunk = trunk * _smoothstep(trunk_top - 0.01, trunk_top + 0.01, canvas.y)
    trunk = trunk * _smoothstep(ground_y + 0.01, ground_y - 0.002, canvas.y)
    canvas.paint(_shade(palette.ground_bottom, 0.6), trunk)
    leaf = palette.accents[1]
    offsets = [(0.0, -0.07, 0.15), (-0.12, -0.02, 0.11), (0.12, -0.025, 0.115), (-0.06, -0.13, 0.11),
               (0.07, -0.125, 0.1), (0.0, 0.02, 0.11), (-0.15, 0.04, 0.075), (0.15, 0.035, 0.08)]
    canopy_y = trunk_top - 0.02 * scale / canvas.sy
    for dx, dy, radius in offsets:
        ox, oy = cx + 1.2 * scale * dx / canvas.sx, canopy_y + 1.2 * scale * dy / canvas.sy
        radius *= 1.2 * scale * rng.uniform(0.9, 1.1)
        nx = (canvas.x - ox) * canvas.sx / radius
        ny = (canvas.y - oy) * canvas.sy / radius
        lit = np.clip(0.55 - 0.45 * ny - 0.3 * nx * np.sign(cx - light_x), 0, 1)
        canvas.paint(_mix(_shade(leaf, 0.35), leaf, lit), _fill_inside(np.hypot(nx, ny), 1.0, 0.04))
    _bokeh(canvas, rng, [palette.glow], 8, 0.3, 0.6, 0.1)


_COMPOSITIONS: dict[Shot, Callable[[Canvas, Palette, np.random.Generator], None]] = {
    Shot.wide: _compose_wide,
    Shot.close_up: _compose_close_up,
    Shot.aerial: _compose_aerial,
    Shot.detail: _compose_detail,
    Shot.medium: _compose_medium,
}


# ---------------------------------------------------------------- style finishing


def _luminance(image: Array) -> Array:
    return image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114


def _saturate(image: Array, amount: float) -> Array:
    grey = _luminance(image)[..., None]
    return grey + (image - grey) * amount


def _finish_style(canvas: Canvas, style: ArtStyle, palette: Palette, rng: np.random.Generator) -> None:
    image = np.clip(canvas.image, 0.0, 1.2)
    if style is ArtStyle.cinematic:
        image = np.clip(image, 0, 1)
        image = image * image * (3 - 2 * image) * 0.55 + image * 0.45  # gentle S-curve
    elif style is ArtStyle.illustration:
        image = np.round(_saturate(np.clip(image, 0, 1), 1.15) * 7.0) / 7.0  # flat colour bands
    elif style is ArtStyle.anime:
        bloom = _blurred(np.clip(image - 0.55, 0, 1), 6.0)
        image = _mix(image, (1.0, 1.0, 1.0), 0.12) + bloom * 0.5
    elif style is ArtStyle.watercolor:
        paper = np.asarray((0.97, 0.94, 0.87), dtype=np.float32)
        image = _mix(_blurred(image, 1.5), paper, 0.2)
        washes = _value_noise(rng, canvas, cells=3.0, octaves=4)
        granules = _value_noise(rng, canvas, cells=25.0, octaves=2)
        image = image * (0.9 + 0.16 * washes[..., None]) * (1.0 - 0.07 * granules[..., None])
    elif style is ArtStyle.documentary:
        image = _saturate(image, 0.7) * 0.92 + 0.04  # faded blacks, muted colour
    elif style is ArtStyle.minimal:
        tone = _luminance(np.clip(image, 0, 1))
        low, high = np.percentile(tone, [2, 98])
        tone = _smoothstep(0.0, 1.0, np.clip((tone - low) / max(high - low, 1e-3), 0, 1))
        image = _mix(palette.ground_top, palette.sky_bottom, tone)  # a duotone of two colours
    canvas.image[:] = image


def _calm_lower_third(canvas: Canvas) -> None:
    """Soften the caption zone: keep its colours, lose the busy detail."""
    weight = np.broadcast_to(_smoothstep(_CALM_FROM, _CALM_FROM + 0.12, canvas.y), (canvas.height, canvas.width))
    softened = _blurred(canvas.image, 9.0)
    zone = canvas.image[int(_CALM_FROM * canvas.height):]
    softened = _mix(softened, zone.reshape(-1, 3).mean(axis=0), 0.3)  # and a little less contrast
    canvas.image[:] = _mix(canvas.image, softened, weight * 0.8)


def _vignette(canvas: Canvas, strength: float) -> None:
    if strength <= 0:
        return
    radius = np.hypot((canvas.x - 0.5) * 1.4, (canvas.y - 0.48) * 1.2)
    canvas.image *= (1.0 - strength * _smoothstep(0.35, 1.0, radius))[..., None]


# ---------------------------------------------------------------- text


@lru_cache(maxsize=1)
def font_path() -> Path:
    import fontpkg_anton

    return Path(fontpkg_anton.ROOT) / "files" / "Anton-Regular.ttf"


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), size)


@lru_cache(maxsize=4096)
def _has_glyph(char: str) -> bool:
    """Anton has no CJK, Cyrillic or Arabic: such words are left to the captions."""
    if char.isspace():
        return True
    probe = _font(24)
    missing = probe.getmask("\ue000")
    mask = probe.getmask(char)
    return not (mask.size == missing.size and bytes(mask) == bytes(missing))


def _renderable(word: str) -> bool:
    return all(_has_glyph(char) for char in word)


@dataclass(frozen=True)
class TextLayout:
    """Wrapped headline lines at one font size; heights are cap heights (the text is upper case)."""

    font: ImageFont.FreeTypeFont
    lines: list[str]
    cap_height: int
    line_gap: int

    @property
    def height(self) -> int:
        return len(self.lines) * self.cap_height + (len(self.lines) - 1) * self.line_gap

    def line_width(self, line: str) -> float:
        return self.font.getlength(line)


def _wrap(words: list[str], font: ImageFont.FreeTypeFont, max_width: float) -> list[str] | None:
    """Greedy wrapping; None when a single word is wider than the box."""
    lines: list[str] = []
    for word in words:
        if font.getlength(word) > max_width:
            return None
        if lines and font.getlength(f"{lines[-1]} {word}") <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _make_layout(font: ImageFont.FreeTypeFont, lines: list[str]) -> TextLayout:
    cap_height = -font.getbbox("H", anchor="ls")[1]
    return TextLayout(font=font, lines=lines, cap_height=cap_height, line_gap=max(1, int(cap_height * 0.24)))


def layout_text(words: list[str], box_width: int, box_height: int, max_size: int, min_size: int) -> TextLayout | None:
    """The largest font size at which `words` wrap inside the box (shrinking by 8% a step)."""
    size = max_size
    while True:
        font = _font(size)
        lines = _wrap(words, font, box_width)
        if lines is not None:
            layout = _make_layout(font, lines)
            if layout.height <= box_height:
                return layout
        if size <= min_size:
            break
        size = max(min_size, int(size * 0.92))
    fitting = [word for word in words if _font(min_size).getlength(word) <= box_width]
    lines = _wrap(fitting, _font(min_size), box_width)
    return _make_layout(_font(min_size), lines) if lines else None


# The Ken Burns camera crops up to 1 - 1/1.185 = 15.6% off any edge (`media.kenburns.MAX_ZOOM`; a test
# holds the two together): the headline's panel keeps inside what every motion shows, and its text
# a little further in.
CAMERA_MARGIN = 0.16
TEXT_MARGIN = 0.18


def _headline_layout(words: list[str], width: int, height: int) -> TextLayout | None:
    """Large type in a box clear of the camera margin at the sides and 28% of the height tall."""
    box_width = width - 2 * int(round(TEXT_MARGIN * width))
    max_size = max(12, int(min(0.21 * width, 0.15 * height)))
    min_size = max(8, int(0.035 * min(width, height)))
    return layout_text([word.upper() for word in words], box_width, int(0.28 * height), max_size, min_size)


def _draw_headline(image: Image.Image, words: list[str], palette: Palette) -> None:
    """The key words on a translucent rounded panel, with a soft drop shadow, centred at 28% height
    (lower when that would put them in the camera margin)."""
    width, height = image.size
    layout = _headline_layout(words, width, height)
    if layout is None:
        return
    pad_x, pad_y = int(layout.cap_height * 0.45), int(layout.cap_height * 0.38)
    block_width = int(max(layout.line_width(line) for line in layout.lines))
    top = int(max(CAMERA_MARGIN * height + pad_y, 0.28 * height - layout.height / 2))
    margin_x = int(math.ceil(CAMERA_MARGIN * width))
    left, upper = max(margin_x, (width - block_width) // 2 - pad_x), top - pad_y
    right, lower = min(width - margin_x, (width + block_width) // 2 + pad_x), top + layout.height + pad_y
    size = (right - left, lower - upper)
    # Everything is composed on the panel's crop only: cheap, and nothing can leak below it.
    region = image.crop((left, upper, right, lower)).convert("RGBA")
    panel = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(panel).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius=int(layout.cap_height * 0.3),
                                            fill=_rgba(palette.panel, palette.panel_opacity))
    region = Image.alpha_composite(region, panel)
    text_mask, shadow_mask = Image.new("L", size, 0), Image.new("L", size, 0)
    text_draw, shadow_draw = ImageDraw.Draw(text_mask), ImageDraw.Draw(shadow_mask)
    shadow_offset = max(1, int(layout.cap_height * 0.05))
    for number, line in enumerate(layout.lines):
        baseline = top - upper + number * (layout.cap_height + layout.line_gap) + layout.cap_height
        x = width / 2 - left
        text_draw.text((x, baseline), line, font=layout.font, fill=255, anchor="ms")
        shadow_draw.text((x + shadow_offset, baseline + shadow_offset), line, font=layout.font, fill=255, anchor="ms")
    shadow_mask = shadow_mask.filter(ImageFilter.GaussianBlur(max(1.0, layout.cap_height * 0.06)))
    for color, mask, opacity in ((palette.text_shadow, shadow_mask, 0.75), (palette.text, text_mask, 1.0)):
        layer = Image.new("RGBA", size, _rgba(color, 0.0))
        layer.putalpha(mask.point(lambda value, o=opacity: int(value * o)))
        region = Image.alpha_composite(region, layer)
    image.paste(region.convert("RGB"), (left, upper))


def _rgba(color: RGB, opacity: float) -> tuple[int, int, int, int]:
    return (int(color[0] * 255), int(color[1] * 255), int(color[2] * 255), int(opacity * 255))


# ---------------------------------------------------------------- the provider


def encode_png(rgb: Array) -> bytes:
    """An 8-bit RGB PNG with the "Up" filter on every row and fast zlib.

    Pillow picks a filter per row adaptively, which costs twice as much on a 1080x1920 card
    (~0.18 s against ~0.08 s) for a file barely smaller: grain does not compress anyway."""
    height, width, _ = rgb.shape
    rows = np.ascontiguousarray(rgb, dtype=np.uint8).reshape(height, width * 3)
    scanlines = np.empty((height, width * 3 + 1), dtype=np.uint8)
    scanlines[:, 0] = 2  # "Up": each byte minus the byte above (the row above the first is zeros)
    scanlines[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=scanlines[1:, 1:])  # uint8 arithmetic wraps modulo 256

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join((b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header),
                     chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 1)), chunk(b"IEND", b"")))


def _seed(request: ImageRequest) -> int:
    digest = hashlib.sha256(f"{request.seed}|{request.index}|{request.prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _validate(request: ImageRequest) -> None:
    for label, value in (("width", request.width), ("height", request.height)):
        if not MIN_SIDE <= value <= MAX_SIDE:
            raise InvalidRequestError(f"image {label} must be between {MIN_SIDE} and {MAX_SIDE} pixels, got {value}")


def paint_scene(request: ImageRequest, rng: np.random.Generator) -> Image.Image:
    """The card without its headline, at the output size."""
    palette = PALETTES[ArtStyle(request.art_style)]
    scene_width = max(8, -(-request.width // _SCENE_SCALE))
    scene_height = max(8, -(-request.height // _SCENE_SCALE))
    canvas = Canvas(scene_width, scene_height, request.width, request.height)
    _COMPOSITIONS[Shot(request.shot)](canvas, palette, rng)
    _finish_style(canvas, ArtStyle(request.art_style), palette, rng)
    _calm_lower_third(canvas)
    _vignette(canvas, palette.vignette)
    small = Image.fromarray((np.clip(canvas.image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8))
    full = np.asarray(small.resize((request.width, request.height), Image.Resampling.BICUBIC), dtype=np.int16)
    # Grain at full size: fine texture everywhere, and it dithers away gradient banding.
    grain = _grain(rng, request.width, request.height, palette.grain)
    return Image.fromarray(np.clip(full + grain[..., None], 0, 255).astype(np.uint8))


def _grain(rng: np.random.Generator, width: int, height: int, strength: float) -> Array:
    """Film grain: the sum of two uniform integer fields (triangular, ~`strength` std-dev).

    Integer draws are ~8x faster than Gaussian ones at this size and look the same."""
    reach = max(1, int(round(strength)))
    first = rng.integers(-reach, reach + 1, (height, width), dtype=np.int16)
    return first + rng.integers(-reach, reach + 1, (height, width), dtype=np.int16)


def render_card_layers(request: ImageRequest) -> tuple[Image.Image, Image.Image | None]:
    """(the card, the same scene without its headline, or None when no words were set on it)."""
    _validate(request)
    rng = np.random.default_rng(_seed(request))
    image = paint_scene(request, rng)
    scene = None
    with _FONT_LOCK:  # FreeType faces are shared through the cache and are not thread-safe
        words = [word for word in key_words(request.text) if _renderable(word)]
        if words:
            scene = image.copy()
            _draw_headline(image, words, PALETTES[ArtStyle(request.art_style)])
    return image, scene


def encode_jpeg(image: Image.Image, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


class CardImageGenerator:
    """Deterministic illustrative cards, drawn locally at exactly the requested size."""

    name = PROVIDER_NAME

    def generate(self, request: ImageRequest) -> GeneratedImage:
        image, scene = render_card_layers(request)
        # the scene without the headline is only ever a thumbnail's background: a JPEG (~8 ms to write
        # against the PNG's ~76 ms) is plenty, and the thumbnail is a JPEG anyway
        return GeneratedImage(data=encode_png(np.asarray(image)), width=image.width, height=image.height,
                              clean_data=encode_jpeg(scene) if scene is not None else None,
                              provider=PROVIDER_NAME, model=MODEL_NAME)
