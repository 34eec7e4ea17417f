"""The thumbnail: the strongest segment picture, the platform's size, the title in the caption face
of its script (Chinese and Arabic titles drawn with real glyphs; Arabic and Hebrew read right to left,
even where Pillow has no Raqm to shape them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from faceless.media import fonts as fonts_module
from faceless.media.fonts import prepare_fonts
from faceless.media.captions import joiner
from faceless.media.fonts import text_width
from faceless.media.thumbnail import (
    fit_title,
    gap_before,
    image_strength,
    make_thumbnail,
    strongest_image,
    thumbnail_size,
    title_words,
    wrap_to_width,
)


def flat(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (400, 700), colour).save(path)
    return path


def busy(path: Path) -> Path:
    rng = np.random.default_rng(3)
    image = Image.fromarray(rng.integers(40, 200, (700, 400, 3), dtype=np.uint8))
    draw = ImageDraw.Draw(image)
    for i in range(12):
        draw.rectangle([20 * i, 30 * i, 20 * i + 80, 30 * i + 50], fill=(250, 250, 250) if i % 2 else (5, 5, 5))
    image.save(path)
    return path


def test_the_strongest_picture_is_the_one_with_contrast_and_colour(tmp_path):
    dull, dark, lively = flat(tmp_path / "dull.png", (120, 120, 120)), flat(tmp_path / "dark.png", (3, 3, 3)), busy(tmp_path / "busy.png")
    assert image_strength(lively) > image_strength(dull) >= 0
    assert strongest_image([dull, dark, lively]) == lively


ORANGE, TEAL = (230, 110, 40), (20, 70, 80)


def subject_on_calm_ground(path: Path) -> Path:
    image = Image.new("RGB", (400, 700), TEAL)
    ImageDraw.Draw(image).ellipse([80, 230, 320, 470], fill=ORANGE)
    image.save(path)
    return path


def checkerboard(path: Path, cell: int) -> Path:
    rows, columns = np.indices((700, 400)) // cell
    cells = ((rows + columns) % 2).astype(bool)[..., None]
    Image.fromarray(np.where(cells, ORANGE, TEAL).astype(np.uint8)).save(path)
    return path


def test_a_picture_with_a_clear_subject_beats_a_busy_pattern_of_the_same_colours(tmp_path):
    # GIVEN an orange disc in the middle of a calm teal ground, and checkerboards of the same two colours
    subject = subject_on_calm_ground(tmp_path / "subject.png")
    patterns = [checkerboard(tmp_path / f"check{cell}.png", cell) for cell in (8, 24, 60)]
    # WHEN the thumbnail's picture is chosen among them
    # THEN it is the disc: a busy pattern has more edges but no subject, and a title reads badly on it
    assert strongest_image([*patterns, subject]) == subject


@pytest.mark.parametrize(("video", "expected"), [((1920, 1080), (1280, 720)), ((1080, 1920), (1080, 1920)), ((1080, 1080), (1080, 1080))])
def test_the_thumbnail_has_the_platform_size(video, expected):
    assert thumbnail_size(*video) == expected


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "How honeybees tell each other where flowers are"), ("zh", "蜜蜂如何告诉同伴花在哪里"), ("ar", "كيف يخبر النحل رفاقه بمكان الأزهار"),
     ("hi", "मधुमक्खियाँ फूलों का रास्ता कैसे बताती हैं"), ("el", "Πώς οι μέλισσες δείχνουν τα λουλούδια")],
)
def test_the_title_is_set_in_the_face_of_its_script(tmp_path, language, title):
    picture = flat(tmp_path / "p.png", (40, 60, 90))
    fonts = prepare_fonts(tmp_path / "fonts", [title], language)
    target = make_thumbnail(picture, title, 1280, 720, tmp_path / "thumbnail.jpg", fonts)
    with Image.open(target) as image:
        assert image.format == "JPEG" and image.size == (1280, 720)
        pixels = np.asarray(image.convert("RGB")).astype(int)
    white = (pixels > 230).all(axis=2)
    rows, cols = np.nonzero(white.any(axis=1))[0], np.nonzero(white.any(axis=0))[0]
    # THEN the title is drawn (white text), inside the margins, in the lower middle
    assert white.sum() > 3000
    assert cols.min() >= 0.06 * 1280 and cols.max() <= 0.94 * 1280
    assert rows.min() > 0.3 * 720
    # AND not as the missing-glyph boxes of a face without the script: drawn with Anton alone, it differs
    if language != "en":
        boxes = np.asarray(Image.open(make_thumbnail(picture, title, 1280, 720, tmp_path / "boxes.jpg")).convert("RGB"))
        assert ((boxes.astype(int) > 230).all(axis=2) ^ white).sum() > 0.3 * white.sum()


def _title_mask(tmp_path: Path, title: str, language: str, name: str) -> np.ndarray:
    picture = flat(tmp_path / "p.png", (40, 60, 90))
    fonts = prepare_fonts(tmp_path / f"fonts-{name}", [title], language)
    with Image.open(make_thumbnail(picture, title, 1280, 720, tmp_path / f"{name}.jpg", fonts)) as image:
        return ((np.asarray(image.convert("RGB")) > 200).all(axis=2) * 255).astype(np.uint8)


def _where(mask: np.ndarray, word: np.ndarray) -> tuple[float, int]:
    """(match score, left column) of the best place of `word`'s drawn box inside `mask`."""
    import cv2

    rows, cols = np.nonzero(word)
    template = word[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scores = cv2.matchTemplate(mask, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (left, _) = cv2.minMaxLoc(scores)
    return best, left


@pytest.fixture
def pillow_without_raqm(monkeypatch):
    """Pillow as on a machine without libfribidi (the Lambda image): no Raqm, so its basic layout, which
    neither joins Arabic letters nor orders right-to-left text."""
    from PIL import ImageFont

    monkeypatch.setattr(ImageFont.core, "HAVE_RAQM", False)
    fonts_module.pil_font.cache_clear()  # fonts made with Raqm must not be reused
    with pytest.warns(UserWarning, match="Raqm"):
        yield
    fonts_module.pil_font.cache_clear()


@pytest.mark.parametrize(
    ("language", "first", "second"),
    # the last: an Arabic title that starts with a Latin name still reads right to left
    [("ar", "النحل", "يرقص"), ("he", "הדבורים", "רוקדות"), ("ar", "Apple", "تطلق")],
)
def test_a_right_to_left_title_reads_right_to_left_joined_even_where_pillow_cannot_shape(
    tmp_path, pillow_without_raqm, language, first, second
):
    # GIVEN Pillow without Raqm (the fixture)
    # WHEN a two-word title is drawn, and each of its words alone
    both = _title_mask(tmp_path, f"{first} {second}", language, "both")
    alone = [_title_mask(tmp_path, word, language, f"word{n}") for n, word in enumerate((first, second))]
    # THEN each word appears in the title drawn as it is alone (shaped by the same engine)...
    (first_score, first_left), (second_score, second_left) = (_where(both, word) for word in alone)
    assert first_score > 0.9 and second_score > 0.9, (first_score, second_score)
    # ...and the first word is on the right: the title reads right to left
    assert first_left > second_left


@pytest.mark.parametrize(
    ("language", "title", "size"),
    [
        ("en", "Why the sky is blue", (1080, 1920)),  # was WHY THE SKY IS / BLUE
        ("en", "How honeybees tell each other where the flowers are", (1280, 720)),  # was ... / ARE
        ("zh", "蜜蜂用舞蹈告诉同伴花在哪里", (1080, 1080)),  # was 6 + 6 characters, then 里 alone
        ("ar", "يرقص النحل ليخبر بعضه بعضا بمكان الأزهار", (1280, 720)),  # was ... / الأزهار
    ],
)
def test_the_titles_lines_are_even_not_full_lines_and_a_word_left_alone(tmp_path, language, title, size):
    # GIVEN a title that fills its lines but one at the largest size that fits
    fonts = prepare_fonts(tmp_path / "fonts", [title], language)
    # WHEN it is fitted to the thumbnail
    em, lines = fit_title(title, *size, fonts)
    # THEN it keeps that size and that number of lines, and no line is under half the widest
    assert len(lines) == len(wrap_to_width(title_words(title, fonts), em, int(size[0] * 0.84)))
    widths = [
        sum(text_width((joiner(line[i - 1].text, word.text) if i else "") + word.text, em, word.face.path)
            for i, word in enumerate(line))
        for line in lines
    ]  # fmt: skip
    assert len(lines) > 1 and min(widths) >= 0.5 * max(widths), [[w.text for w in line] for line in lines]


def test_a_titles_lines_break_between_words_never_inside_one_or_at_punctuation():
    # GIVEN a Chinese title with a comma, quotation marks and a full stop
    tokens = [word.text for word in title_words("蜜蜂跳舞，告诉同伴「花田」在哪里。")]
    # THEN a line may break only between two words (蜜蜂 "bee" was 蜜 | 蜂), and "，", "」", "。" stay with
    # what they close and "「" with what it opens
    assert tokens == ["蜜蜂", "跳舞，", "告诉", "同伴", "「花田」", "在", "哪里。"]
    # AND a Thai title breaks between its words too, written together but for the space between its phrases
    thai = title_words("ผึ้งเต้นรำ บอกทาง")
    assert [(word.text, word.glued) for word in thai] == [("ผึ้ง", False), ("เต้นรำ", True), ("บอก", False), ("ทาง", True)]
    assert [gap_before(thai[k - 1] if k else None, word) for k, word in enumerate(thai)] == ["", "", " ", ""]


def test_a_thai_titles_line_breaks_at_the_space_between_phrases_rather_than_inside_one(tmp_path):
    # GIVEN a Thai title of two phrases (Thai puts spaces between phrases, none between words), and a width
    # that holds the first phrase and the start of the second
    title = "ผึ้งสื่อสารกันด้วยการเต้นรำ เมื่อผึ้งงานพบแหล่งดอกไม้"
    fonts = prepare_fonts(tmp_path / "fonts", [title], "th")
    words = title_words(title, fonts)
    first = [w for w in words[: next(k for k in range(1, len(words)) if not words[k].glued)]]
    em = 60
    width = sum(text_width(gap_before(first[k - 1] if k else None, w) + w.text, em, w.face.path) for k, w in enumerate(first))
    width += text_width(" " + words[len(first)].text + words[len(first) + 1].text, em, words[0].face.path)
    # WHEN it is wrapped
    lines = wrap_to_width(words, em, width)
    # THEN the first line is the first phrase: the break is at the space, not between two words of a phrase
    assert [w.text for w in lines[0]] == [w.text for w in first]
    assert "".join(w.text for w in lines[1]).startswith("เมื่อผึ้งงาน")
