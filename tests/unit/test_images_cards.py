"""The offline image provider: Pillow-drawn cards."""

from __future__ import annotations

import io
import itertools
from functools import lru_cache

import numpy as np
import pytest
from PIL import Image

from faceless.errors import InvalidRequestError
from faceless.media.kenburns import MAX_ZOOM, motion_for
from faceless.models import ArtStyle, Shot
from faceless.providers.base import ImageRequest
from faceless.providers.images.cards import MODEL_NAME, CardImageGenerator, key_words

TEXT = "The ancient forests of Borneo hide creatures that science has barely begun to describe."
LUMA = np.array([0.299, 0.587, 0.114])


def _request(**changes: object) -> ImageRequest:
    fields: dict[str, object] = dict(index=3, prompt="a rainforest at dawn", text=TEXT, shot=Shot.wide,
                                     art_style=ArtStyle.cinematic, width=540, height=960, seed=7)
    fields.update(changes)
    return ImageRequest(**fields)


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64)


def _render(**changes: object) -> np.ndarray:
    return _decode(CardImageGenerator().generate(_request(**changes)).data)


@lru_cache(maxsize=64)
def _luminance(style: ArtStyle, shot: Shot, text: str = TEXT) -> np.ndarray:
    return _render(art_style=style, shot=shot, text=text) @ LUMA


@pytest.mark.parametrize("width,height", [(1080, 1920), (1080, 1080), (1920, 1080), (333, 517)])
def test_card_is_a_png_of_exactly_the_requested_size(width: int, height: int) -> None:
    # GIVEN a request for a given output size
    request = _request(width=width, height=height, shot=Shot.medium)
    # WHEN a card is generated
    image = CardImageGenerator().generate(request)
    # THEN it is a PNG of exactly that size (its native size: nothing will be stretched)
    assert image.data.startswith(b"\x89PNG\r\n\x1a\n")
    decoded = Image.open(io.BytesIO(image.data))
    decoded.load()
    assert decoded.size == (width, height) == (image.width, image.height)
    assert decoded.mode == "RGB"
    assert (image.provider, image.model) == ("offline", MODEL_NAME)


def test_same_request_gives_the_same_bytes_and_another_seed_another_card() -> None:
    # GIVEN one request, made twice, and the same request with another seed
    generator = CardImageGenerator()
    # WHEN they are generated
    first, again = generator.generate(_request()), generator.generate(_request())
    reseeded = generator.generate(_request(seed=8))
    # THEN the same request is byte-identical, a new seed draws a different card
    assert first.data == again.data
    assert first.data != reseeded.data


def test_every_shot_has_its_own_composition() -> None:
    # GIVEN one style and text, drawn with every shot
    for style in ArtStyle:
        # WHEN the cards are compared pair by pair
        for a, b in itertools.combinations(Shot, 2):
            difference = np.abs(_luminance(style, a) - _luminance(style, b)).mean()
            # THEN each pair differs clearly (mean luminance difference over the frame, 0..255)
            assert difference > 8.0, (style, a, b, difference)


def test_every_style_has_its_own_palette() -> None:
    # GIVEN one shot and text, drawn in every style
    for shot in Shot:
        colours = {style: _render(art_style=style, shot=shot).mean(axis=(0, 1)) for style in ArtStyle}
        # WHEN their average colours are compared pair by pair
        for a, b in itertools.combinations(ArtStyle, 2):
            distance = np.abs(colours[a] - colours[b]).sum()
            # THEN they differ clearly
            assert distance > 8.0, (shot, a, b, distance)


def test_cards_have_detail_everywhere_for_visible_camera_motion() -> None:
    # GIVEN every style and shot, drawn without text (so the headline cannot supply the detail)
    for style, shot in itertools.product(ArtStyle, Shot):
        luminance = _luminance(style, shot, "")
        height, width = luminance.shape
        # THEN the frame is far from a flat fill, and so is every quadrant
        assert luminance.std() > 12.0, (style, shot)
        quadrants = [luminance[:height // 2, :width // 2], luminance[:height // 2, width // 2:],
                     luminance[height // 2:, :width // 2], luminance[height // 2:, width // 2:]]
        assert min(q.std() for q in quadrants) > 4.0, (style, shot)
        # AND fine texture (pixel-to-pixel) exists in every cell of a 4x4 grid
        for rows, cols in itertools.product(np.array_split(np.arange(height), 4), np.array_split(np.arange(width), 4)):
            cell = luminance[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
            assert np.abs(np.diff(cell, axis=1)).mean() > 0.5, (style, shot)


def test_headline_is_drawn_in_the_upper_middle_and_leaves_the_caption_zone_alone() -> None:
    # GIVEN the same card with the narration's key words and with no text at all
    with_text = _luminance(ArtStyle.documentary, Shot.aerial)
    without_text = _luminance(ArtStyle.documentary, Shot.aerial, "")
    height, width = with_text.shape
    changed = np.abs(with_text - without_text) > 0
    rows = np.nonzero(changed.any(axis=1))[0]
    cols = np.nonzero(changed.any(axis=0))[0]
    # THEN the headline changed a large region in the upper-middle of the frame
    assert changed.mean() > 0.05
    assert rows.min() >= 0.05 * height and rows.max() < 0.6 * height
    # AND it stays inside the side margins, and the lower third (for captions) is untouched
    assert cols.min() >= 0.03 * width and cols.max() <= 0.97 * width
    assert not changed[int(0.62 * height):].any()


def test_a_card_with_a_headline_also_gives_its_scene_without_it_for_the_thumbnail() -> None:
    # GIVEN a card whose narration has key words, and the same card drawn with no text
    card = CardImageGenerator().generate(_request(shot=Shot.aerial, art_style=ArtStyle.documentary))
    with_text = _decode(card.data) @ LUMA
    without_text = _luminance(ArtStyle.documentary, Shot.aerial, "")
    headline = np.abs(with_text - without_text) > 0
    # WHEN its clean picture is decoded
    assert card.clean_data is not None and card.clean_data[:3] == b"\xff\xd8\xff"  # a JPEG
    clean = _decode(card.clean_data) @ LUMA
    # THEN it is the scene without the headline (JPEG-close), at the same size
    assert clean.shape == with_text.shape
    assert np.abs(clean - without_text).mean() < 3  # the grain costs JPEG ~2 levels
    # AND where the headline was drawn, it shows the scene, not the words
    assert np.abs(clean - without_text)[headline].mean() * 8 < np.abs(clean - with_text)[headline].mean()


def test_a_card_with_no_words_set_on_it_has_no_separate_clean_picture() -> None:
    # GIVEN narration with no word the card can set (none at all, or only in a script Anton lacks)
    for text in ("", "古代の森には未知の生き物が住んでいる"):
        # WHEN its card is drawn
        # THEN the card itself is clean: nothing else is stored for the thumbnail
        assert CardImageGenerator().generate(_request(text=text)).clean_data is None


@pytest.mark.parametrize("width,height", [(1080, 1920), (1080, 1080), (1920, 1080)])
def test_the_headline_stays_inside_what_every_camera_motion_shows(width: int, height: int) -> None:
    # GIVEN the most any segment's camera zooms (checked against the motions themselves), and so the
    # edge band some motion crops away
    most = max(max(p.start.zoom, p.end.zoom) for p in (motion_for(i, f"job-{j}") for i in range(12) for j in range(40)))
    assert most <= MAX_ZOOM
    cropped = 1 - 1 / MAX_ZOOM
    # WHEN a card with long key words is drawn, with and without them
    words = "Photosynthesis transforms sunlight everywhere"
    changed = np.abs(_render(width=width, height=height, text=words) - _render(width=width, height=height, text="")) > 0
    rows, cols = np.nonzero(changed.any(axis=1))[0], np.nonzero(changed.any(axis=0))[0]
    # THEN the headline and its panel lie wholly inside the band no motion crops: never cut at a frame edge
    assert rows.size and cols.size
    assert cols.min() >= cropped * width and cols.max() < (1 - cropped) * width
    assert rows.min() >= cropped * height and rows.max() < (1 - cropped) * height


def test_text_in_a_script_the_font_lacks_is_left_to_the_captions() -> None:
    # GIVEN narration in Japanese (Anton has no such glyphs)
    japanese = _luminance(ArtStyle.anime, Shot.wide, "古代の森には未知の生き物が住んでいる")
    # WHEN it is drawn
    # THEN no boxes of missing glyphs are drawn: the card equals the one without text
    assert np.array_equal(japanese, _luminance(ArtStyle.anime, Shot.wide, ""))


def test_key_words_drop_stop_words_and_keep_reading_order() -> None:
    # GIVEN narration sentences
    # WHEN their key words are chosen
    words = key_words(TEXT)
    # THEN 2-4 salient words come back, no stop-words, in the order they were spoken
    assert words == ["ancient", "Borneo", "creatures"]
    assert key_words("Why did the Roman Empire fall so quickly after 410?") == ["Roman", "Empire", "410"]
    assert key_words("It is what it is, and that is all there is to it.") == []
    assert key_words("The cat.") == ["cat"]
    assert key_words("The first three days of the new Roman empire") == ["Roman", "empire"]  # not FIRST THREE
    many = key_words("Photosynthesis converts sunlight, water and carbon dioxide into glucose and oxygen.")
    assert 2 <= len(many) <= 4
    assert not {word.lower() for word in many} & {"and", "into", "the"}


def test_key_words_are_deduplicated_case_insensitively() -> None:
    # GIVEN a word repeated in several cases
    words = key_words("Volcanoes, volcanoes everywhere: VOLCANOES erupting.")
    # THEN it is chosen once, as first written
    assert [word.lower() for word in words].count("volcanoes") == 1
    assert words[0] == "Volcanoes"


@pytest.mark.parametrize("width,height", [(0, 100), (100, 8), (9000, 100)])
def test_an_impossible_size_is_an_invalid_request(width: int, height: int) -> None:
    with pytest.raises(InvalidRequestError):
        CardImageGenerator().generate(_request(width=width, height=height))
