"""The thumbnail: the first picture, cover-fitted to the video's size, with the title set in Anton over
a dark gradient so it reads on any image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from faceless.errors import RenderError
from faceless.media.fonts import pil_font, text_width
from faceless.media.images import cover_fit, load_rgb

MAX_TITLE_LINES = 4
_LINE_SPACING = 1.08  # of the em; Anton's caps are tall, lines sit close


def wrap_to_width(words: list[str], em_pixels: int, max_width: int) -> list[str] | None:
    """Greedy line breaking by measured width; None if a single word is wider than `max_width`."""
    lines: list[str] = []
    for word in words:
        if text_width(word, em_pixels) > max_width:
            return None
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(candidate, em_pixels) <= max_width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def fit_title(title: str, width: int, height: int) -> tuple[int, list[str]]:
    """The largest em size (and its lines) at which the title fits in <= 4 lines inside the margins."""
    words = title.upper().split() or [" "]
    max_width = int(width * 0.84)
    em = round(min(width, height) * 0.14)
    while em > 8:
        lines = wrap_to_width(words, em, max_width)
        if lines is not None and len(lines) <= MAX_TITLE_LINES:
            return em, lines
        em = int(em * 0.92)
    return 8, [" ".join(words)]


def _dark_gradient(width: int, height: int) -> Image.Image:
    """Black, transparent above 30% of the height, rising to ~85% opaque at the bottom."""
    ramp = np.clip((np.arange(height, dtype=np.float32) / height - 0.30) / 0.55, 0.0, 1.0)
    alpha = (np.power(ramp, 1.2) * 218).astype(np.uint8)
    mask = Image.fromarray(np.repeat(alpha[:, None], width, axis=1), mode="L")
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    layer.putalpha(mask)
    return layer


def make_thumbnail(image_path: Path, title: str, width: int, height: int, target: Path) -> Path:
    picture = cover_fit(load_rgb(image_path), width, height).convert("RGBA")
    picture.alpha_composite(_dark_gradient(width, height))
    em, lines = fit_title(title, width, height)
    font = pil_font(em)
    draw = ImageDraw.Draw(picture)
    line_height = round(em * _LINE_SPACING)
    block_height = line_height * len(lines)
    top = round(height * 0.66 - block_height / 2)  # lower-middle, clear of the bottom UI strip
    top = max(0, min(top, int(height * 0.86) - block_height))
    stroke = max(1, round(em * 0.05))
    for number, line in enumerate(lines):
        draw.text(
            (width / 2, top + number * line_height),
            line,
            font=font,
            fill=(255, 255, 255, 255),
            anchor="ma",  # horizontal middle, ascender on the given y
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 255),
        )
    try:
        picture.convert("RGB").save(target, format="JPEG", quality=90, optimize=True)
    except OSError as exc:
        raise RenderError(f"cannot write thumbnail {target}: {exc}") from exc
    return target
