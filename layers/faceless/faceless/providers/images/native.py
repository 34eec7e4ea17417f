"""What real image providers hand back: a few native sizes, never exactly the video's. We ask for the
native size closest to the output's aspect ratio, keep the picture as it comes, and assembly
cover-fits it (scale to cover, centre crop): nothing is ever stretched."""

from __future__ import annotations

import io
import math

from PIL import Image, UnidentifiedImageError

from faceless.errors import ProviderResponseError


def closest_size(sizes: list[tuple[int, int]], width: int, height: int) -> tuple[int, int]:
    """The native size whose aspect ratio is nearest to width:height (least cropped by a cover-fit)."""
    wanted = math.log(width / height)
    return min(sizes, key=lambda size: (abs(math.log(size[0] / size[1]) - wanted), -size[0] * size[1]))


def closest_ratio(ratios: list[str], width: int, height: int) -> str:
    """The "W:H" aspect ratio, from `ratios`, nearest to width:height."""
    wanted = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = (int(part) for part in ratio.split(":"))
        return abs(math.log(w / h) - wanted)

    return min(ratios, key=distance)


def as_png(data: bytes, what: str) -> tuple[bytes, int, int]:
    """(PNG bytes, width, height) of an image a provider returned; PNGs pass through untouched."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            if image.format == "PNG":
                return data, width, height
            buffer = io.BytesIO()
            converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            converted.save(buffer, format="PNG", compress_level=1)
            return buffer.getvalue(), width, height
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ProviderResponseError(f"{what} returned data that is not an image: {error}") from None
