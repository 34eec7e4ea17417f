"""Burned captions, checked on rendered pixels: the highlighted word is on screen within one frame of its
spoken interval; English, Chinese and Arabic captions are drawn (real glyphs, not missing-glyph boxes)
and stay inside the format's safe area; an over-long word shrinks instead of being clipped."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceless.media.assemble import ClipRenderSpec, render_clip
from faceless.media.captions import build_caption_groups, caption_layout, to_ass
from faceless.media.ffmpeg import ffmpeg_exe
from faceless.media.fonts import install_fonts
from faceless.media.inspect import decode_frames
from faceless.media.timeline import SegmentSpan
from faceless.models import CaptionStyle, WordTiming
from tests.unit.media_inputs import silent_wav

FPS = 30
GREY = (100, 100, 100)


def flat_picture(path: Path) -> Path:
    Image.new("RGB", (64, 64), GREY).save(path)
    return path


def clip_frames(tmp_path: Path, words: list[WordTiming], language: str, size: tuple[int, int],
                style: CaptionStyle = CaptionStyle.bold, seconds: float = 2.0) -> np.ndarray:  # fmt: skip
    clip = render_clip(
        ClipRenderSpec(
            index=0, image_path=flat_picture(tmp_path / "flat.png"), voice_path=silent_wav(tmp_path / "v.wav", seconds),
            words=words, language=language, caption_style=style, seed="captions", width=size[0], height=size[1],
            fps=FPS, target=tmp_path / f"{language}-{style.value}.mp4",
        )
    )  # fmt: skip
    return decode_frames(clip.clip_path, *size).astype(int)


def drawn(frame: np.ndarray) -> np.ndarray:
    """Pixels the captions changed on the flat grey picture."""
    return np.abs(frame - np.array(GREY)).sum(axis=2) > 60


def yellow(pixels: np.ndarray) -> np.ndarray:
    """The highlight's pixels (the spoken word's yellow), in a frame or a stack of frames."""
    return (pixels[..., 0] > 170) & (pixels[..., 1] > 170) & (pixels[..., 2] < 110)


# ------------------------------------------------------------------ highlight timing

SPOKEN = [("ONE", 0.517, 0.861), ("TWO", 0.861, 1.243), ("SIX", 1.243, 1.702)]  # not on frame boundaries


def test_each_highlighted_word_is_on_screen_within_a_frame_of_its_spoken_interval(tmp_path):
    # GIVEN three words spoken back to back at times that fall between frames
    words = [WordTiming(word=w, start=s, end=e) for w, s, e in SPOKEN]
    frames = clip_frames(tmp_path, words, "en", (360, 640))
    # WHEN the yellow (highlighted) pixels are located in every frame
    highlight = yellow(frames)
    counts = highlight.sum(axis=(1, 2))
    lit = np.nonzero(counts > 20)[0]
    centres = np.array([np.nonzero(highlight[n])[1].mean() for n in lit])
    # the three words sit left to right on one line: which one is yellow follows from where the yellow is
    edges = np.sort(centres)
    cuts = [(edges[i] + edges[i + 1]) / 2 for i in np.argsort(np.diff(edges))[-2:]]
    which = np.searchsorted(sorted(cuts), centres)
    # THEN word i is yellow from its spoken start to its spoken end, each within one frame
    for i, (_, start, end) in enumerate(SPOKEN):
        shown = lit[which == i]
        assert len(shown) > 0
        assert abs(shown.min() - start * FPS) <= 1, f"word {i} lit at frame {shown.min()}, spoken at {start * FPS:.2f}"
        assert abs(shown.max() + 1 - end * FPS) <= 1, f"word {i} unlit at frame {shown.max() + 1}, ends {end * FPS:.2f}"
        assert np.all(np.diff(shown) == 1)  # one unbroken stretch
    # AND nothing is drawn before the first word nor after the last
    assert drawn(frames[int(0.517 * FPS) - 1]).sum() == 0
    assert drawn(frames[int(1.702 * FPS) + 2]).sum() == 0


# ------------------------------------------------------------------ scripts and safe areas

CAPTIONS = {
    "en": "Honeybees dance to tell",
    "zh": "蜜蜂用舞蹈告诉同伴",
    "ar": "النحل يرقص ليخبر رفاقه",
    "ru": "Пчёлы танцуют для сестёр",
    "el": "Οι μέλισσες χορεύουν",
    "hi": "मधुमक्खियाँ नाचती हैं",
    "th": "ผึ้งเต้นรำ บอกทาง",
    "am": "ንቦች ይጨፍራሉ",
}


def spoken(text: str) -> list[WordTiming]:
    parts = text.split()  # Chinese: one token, timed as a whole phrase (as speech engines do)
    step = 1.4 / len(parts)
    return [WordTiming(word=w, start=0.1 + step * i, end=0.1 + step * (i + 1)) for i, w in enumerate(parts)]


def tofu_reference(tmp_path: Path, text: str, size: tuple[int, int]) -> np.ndarray:
    """The same caption forced into the Latin face (which has no CJK or Arabic glyphs)."""
    span = SegmentSpan(index=0, start_frame=0, frames=60, narration_seconds=2.0)
    groups = build_caption_groups([(span, spoken(text))], FPS)
    install_fonts(tmp_path / "latin-fonts")  # Anton alone
    (tmp_path / "tofu.ass").write_text(to_ass(groups, caption_layout(*size, CaptionStyle.bold), FPS), "utf-8")
    raw = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         f"color=c=0x646464:s={size[0]}x{size[1]}:d=1", "-vf", "ass=tofu.ass:fontsdir=latin-fonts",
         "-ss", "0.5", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        cwd=tmp_path, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(int)


@pytest.mark.parametrize("language", list(CAPTIONS))
def test_captions_in_each_script_are_drawn_inside_the_safe_area(tmp_path, language):
    size = (360, 640)  # 9:16: clear of the bottom quarter and of the right-hand column of buttons
    frames = clip_frames(tmp_path, spoken(CAPTIONS[language]), language, size)
    frame = frames[15]  # 0.5 s: the caption is up
    mask = drawn(frame)
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    # THEN the caption is clearly visible: white text with its dark outline
    assert mask.sum() > 1500
    assert ((frame > 215).all(axis=2)).sum() > 300 and ((frame < 40).all(axis=2)).sum() > 200
    # AND every drawn pixel is inside the safe area
    layout = caption_layout(*size, CaptionStyle.bold)
    left, top, right, bottom = layout.safe_box
    assert cols.min() >= left and cols.max() < right, (cols.min(), cols.max(), layout.safe_box)
    assert rows.min() >= top and rows.max() < bottom, (rows.min(), rows.max(), layout.safe_box)
    # AND beyond English these are the script's glyphs, not a font's missing-glyph boxes
    if language != "en":
        tofu = drawn(tofu_reference(tmp_path, CAPTIONS[language], size))
        assert (mask ^ tofu).sum() > 0.5 * mask.sum()


@pytest.mark.parametrize("size", [(640, 360), (480, 480), (360, 640)])
def test_an_overlong_word_shrinks_to_fit_instead_of_being_clipped(tmp_path, size):
    words = [WordTiming(word="Pneumonoultramicroscopicsilicovolcanoconiosis", start=0.1, end=1.5)]
    frame = clip_frames(tmp_path, words, "en", size, seconds=1.6)[15]
    cols = np.nonzero(drawn(frame).any(axis=0))[0]
    left, _, right, _ = caption_layout(*size, CaptionStyle.bold).safe_box
    assert len(cols) > 0.5 * (right - left)  # drawn across most of the safe width...
    assert cols.min() >= left and cols.max() < right  # ...but not beyond it


@pytest.mark.parametrize("style", list(CaptionStyle))
def test_every_style_keeps_a_two_line_caption_inside_the_safe_area(tmp_path, style):
    size = (360, 640)
    words = spoken("extraordinary beekeepers communicate magnificently")
    frame = clip_frames(tmp_path, words, "en", size, style=style)[20]
    rows, cols = np.nonzero(drawn(frame).any(axis=1))[0], np.nonzero(drawn(frame).any(axis=0))[0]
    left, top, right, bottom = caption_layout(*size, style).safe_box
    assert len(rows) > 0
    assert cols.min() >= left and cols.max() < right and rows.min() >= top and rows.max() < bottom


# ------------------------------------------------------------------ reading order

# (language, spoken text, the words from left to right as the Unicode bidi algorithm orders the line in
# the language's direction: checked against FriBidi's fribidi_reorder_line when these were written)
READING = {
    # a Latin name and a number inside a right-to-left line: the cases a bidi algorithm must get right
    "english": ("en", "Apple was founded 1976", "Apple was founded 1976"),
    "arabic": ("ar", "شركة Apple تأسست 1976", "1976 تأسست Apple شركة"),
    "hebrew": ("he", "חברת Apple נוסדה 1976", "1976 נוסדה Apple חברת"),
    # a name of two Latin words, or a name and its number, still reads left to right inside the line
    "arabic, two-word name": ("ar", "شركة Apple Inc تأسست", "تأسست Apple Inc شركة"),
    "arabic, name and number": ("ar", "هاتف iPhone 15 جديد", "جديد iPhone 15 هاتف"),
    "hebrew, ending with a name": ("he", "נוסדה בידי Apple Inc.", "Apple Inc. בידי נוסדה"),
    # an Arabic video's line that starts with a Latin name is still an Arabic line
    "arabic, starting with a name": ("ar", "Apple Inc شركة أمريكية", "أمريكية شركة Apple Inc"),
    # and an English line quoting two Arabic words reads them right to left, in place
    "english, quoting arabic": ("en", "he said مرحبا بكم", "he said بكم مرحبا"),
    "english, quoting arabic and a number": ("en", "he said مرحبا 2024", "he said 2024 مرحبا"),
}


@pytest.mark.parametrize("case", list(READING))
def test_the_words_of_a_line_are_laid_out_in_the_languages_reading_order(tmp_path, case):
    # GIVEN four words spoken one after another on one line (the spoken word is yellow)
    language, text, left_to_right = READING[case]
    words = spoken(text)
    frames = clip_frames(tmp_path, words, language, (640, 360))
    highlight = yellow(frames)
    # WHEN each word is located by its yellow, in the middle of its spoken interval
    places = {}
    for word in words:
        rows, cols = np.nonzero(highlight[round((word.start + word.end) / 2 * FPS)])
        assert len(cols) > 20, f"{word.word!r} is not highlighted"
        places[word.word] = (rows.mean(), cols.mean())
    rows = [row for row, _ in places.values()]
    assert max(rows) - min(rows) < 20, f"not one line: {places}"  # Latin and Arabic glyphs sit a little apart
    # THEN the words stand in the reading order of the language's script: right to left for Arabic and
    # Hebrew, Latin names and numbers included, yet a name of several words or a name and its number
    # keep their own left-to-right order, as in print
    assert sorted(places, key=lambda word: places[word][1]) == left_to_right.split(), places


def test_a_latin_name_ending_a_right_to_left_line_has_its_full_stop_at_the_lines_end_on_the_left(tmp_path):
    # GIVEN an Arabic line that ends with a two-word Latin name and a full stop
    words = spoken("أسسها Steve Jobs.")
    frames = clip_frames(tmp_path, words, "ar", (640, 360))
    # WHEN "Jobs." is the highlighted word
    frame = frames[round((words[2].start + words[2].end) / 2 * FPS)]
    highlight = yellow(frame)
    highlighted = np.nonzero(highlight.any(axis=0))[0]
    caption = np.nonzero(drawn(frame).any(axis=0))[0]
    # THEN its full stop is the leftmost thing on the line (where an Arabic sentence ends), not stuck to
    # "Jobs" in the middle of the line: the highlight spans from the line's left end to "Jobs"
    assert highlighted.min() - caption.min() < 8, (highlighted.min(), caption.min())
    assert highlighted.max() - highlighted.min() > 0.4 * (caption.max() - caption.min())


@pytest.mark.parametrize(("language", "word"), [("en", "Extraordinarily"), ("ar", "والاستثنائية"), ("he", "והיוצאדופן")])
def test_a_karaoke_word_is_never_filled_against_its_reading_direction(tmp_path, language, word):
    # GIVEN one long word, sung out in the karaoke style
    other = {"en": "ok", "ar": "نعم", "he": "כן"}[language]
    words = [WordTiming(word=word, start=0.1, end=1.7), WordTiming(word=other, start=1.7, end=1.9)]
    frames = clip_frames(tmp_path, words, language, (640, 360), style=CaptionStyle.karaoke)
    highlight = yellow(frames)
    # WHEN a quarter of its time has passed, and when it has all been sung
    quarter = np.nonzero(highlight[round(0.5 * FPS)])[1]
    whole = np.nonzero(highlight[round(1.65 * FPS)])[1]
    assert len(quarter) > 20
    if language == "en":
        # THEN an English word is being filled from its start, its left end
        assert len(quarter) < 0.6 * len(whole) and quarter.mean() < (whole.min() + whole.max()) / 2
    else:
        # THEN an Arabic or Hebrew word, which libass could only sweep from the left (its end), is lit whole
        assert len(quarter) > 0.95 * len(whole), (len(quarter), len(whole))
