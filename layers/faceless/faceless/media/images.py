"""Pictures in: any size or aspect, always cover-fitted (scaled to cover, centre-cropped), never stretched."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from faceless.errors import RenderError


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
