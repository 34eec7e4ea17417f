"""What a finished video's thumbnail was made from, read from its pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def _grey(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.float64)


def pictures_by_likeness_to_the_thumbnail(folder: Path) -> list[tuple[float, str]]:
    """(mean grey difference, file name) of every stored segment picture (the cards as drawn, and
    their scenes without words) against the thumbnail at 5-25% of its height (above the title, over the top of
    the panel where the cards set their words), closest first. Needs pictures of the thumbnail's size."""
    thumbnail = _grey(folder / "thumbnail.jpg")
    band = slice(int(0.05 * thumbnail.shape[0]), int(0.25 * thumbnail.shape[0]))
    rows = []
    for picture in sorted((folder / "images").iterdir()):
        pixels = _grey(picture)
        assert pixels.shape == thumbnail.shape, picture
        rows.append((float(np.abs(pixels[band] - thumbnail[band]).mean()), picture.name))
    return sorted(rows)


def assert_thumbnail_made_from_a_clean_scene(folder: Path) -> None:
    """The thumbnail's picture is a card's scene without its words (the card's own headline would
    compete with the title): it matches that scene closely, and the card as drawn clearly less."""
    likeness = dict((name, difference) for difference, name in pictures_by_likeness_to_the_thumbnail(folder))
    closest = min(likeness, key=likeness.__getitem__)
    assert closest.endswith(".clean.jpg"), likeness
    assert likeness[closest] < 5, likeness
    assert likeness[closest.replace(".clean.jpg", ".png")] > 4 * likeness[closest], likeness
