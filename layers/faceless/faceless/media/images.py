"""Pictures in: any size or aspect, always cover-fitted (scaled to cover, centre-cropped), never stretched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from faceless.errors import RenderError

_WIDE_GREY_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N"}  # 16-bit (or 32-bit integer) greyscale


def _eight_bit_grey(image: Image.Image) -> Image.Image:
    """A wide greyscale picture (a 16-bit PNG opens as I;16) scaled to 8 bits: Pillow's own conversion
    to RGB clips every value over 255, so such a picture came out almost all white."""
    values = np.asarray(image, dtype=np.float64)
    top = 255.0 if image.mode == "I" and values.max(initial=0) <= 255 else 65535.0
    return Image.fromarray(np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8), "L")


def load_rgb(path: Path) -> Image.Image:
    """An image file as RGB, turned upright per its EXIF orientation, transparency laid on black."""
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            image.load()
    except FileNotFoundError as exc:
        raise RenderError(f"image not found: {path}") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise RenderError(f"cannot read image {path}: {exc}") from exc
    if image.mode in _WIDE_GREY_MODES:
        image = _eight_bit_grey(image)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGB", image.size, (0, 0, 0))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def cover_fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale uniformly so the picture covers width x height, then crop the centre. Never stretches."""
    if image.width < 1 or image.height < 1:
        raise RenderError("cannot cover-fit an empty image")
    return ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def cover_fit_file(source: Path, width: int, height: int, target: Path) -> Path:
    """Cover-fit an image file into a PNG of exactly width x height (fast, lossless compression)."""
    cover_fit(load_rgb(source), width, height).save(target, format="PNG", compress_level=1)
    return target
