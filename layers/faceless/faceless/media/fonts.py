"""The caption and title face (Anton, OFL, from the fontpkg-anton wheel) and its metrics.

libass sizes a font like VSFilter does: an ASS `Fontsize` is the height usWinAscent + usWinDescent
(OS/2 table), not the em. Anton's em is only ~0.58 of that, so to measure a caption with Pillow (which
sizes by em) we convert with the ratio read from the font file itself.
"""

from __future__ import annotations

import shutil
import struct
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from faceless.errors import ConfigurationError

CAPTION_FONT_NAME = "Anton"


@lru_cache(maxsize=1)
def anton_path() -> Path:
    try:
        import fontpkg_anton
    except ImportError as exc:  # pragma: no cover - a packaging error
        raise ConfigurationError("fontpkg-anton is not installed: no caption font") from exc
    path = Path(fontpkg_anton.ROOT) / "files" / "Anton-Regular.ttf"
    if not path.is_file():
        raise ConfigurationError(f"caption font missing: {path}")
    return path


def _sfnt_tables(data: bytes) -> dict[str, int]:
    count = struct.unpack(">H", data[4:6])[0]
    tables = {}
    for i in range(count):
        tag, _checksum, offset, _length = struct.unpack(">4sIII", data[12 + 16 * i : 28 + 16 * i])
        tables[tag.decode("latin-1")] = offset
    return tables


@lru_cache(maxsize=8)
def em_per_ass_size(font: Path | None = None) -> float:
    """Pixels of em per unit of ASS Fontsize for this font: unitsPerEm / (winAscent + winDescent)."""
    data = (font or anton_path()).read_bytes()
    tables = _sfnt_tables(data)
    units_per_em = struct.unpack(">H", data[tables["head"] + 18 : tables["head"] + 20])[0]
    win_ascent, win_descent = struct.unpack(">HH", data[tables["OS/2"] + 74 : tables["OS/2"] + 78])
    return units_per_em / (win_ascent + win_descent)


@lru_cache(maxsize=32)
def pil_font(em_pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(anton_path()), max(1, em_pixels))


def text_width(text: str, em_pixels: int) -> int:
    """Advance width of one line of text in Anton at this em size, in pixels."""
    return int(round(pil_font(em_pixels).getlength(text)))


def install_fonts(folder: Path) -> Path:
    """Copy the caption face into `folder` (libass's `fontsdir`), so the filter graph names a plain path."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(anton_path(), folder / anton_path().name)
    return folder
