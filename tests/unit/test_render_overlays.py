"""Captions composited from states libass drew once (overlays.py) give the pixels ffmpeg's `ass` filter
gives when it burns them on every frame, in every script and format; animated styles keep the filter."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from faceless.errors import RenderError
from faceless.media.assemble import _burn_in
from faceless.media.captions import (
    CaptionEvent,
    build_caption_groups,
    caption_band,
    caption_events,
    caption_layout,
    caption_texts,
    to_ass,
    write_text,
)
from faceless.media.encoder import filter_path, raw_input_args
from faceless.media.ffmpeg import ffmpeg_exe
from faceless.media.fonts import prepare_fonts
from faceless.media.overlays import CaptionBurner
from faceless.media.timeline import build_timeline
from faceless.models import CaptionStyle, WordTiming

FPS = 30
WORDS = {
    "en": "Bees dance to tell their sisters where the flowers grow".split(),
    "zh": ["蜜蜂", "通过", "跳舞", "告诉", "同伴", "花朵", "在哪里"],
    "ar": "النحل يخبر بعضه البعض أين توجد الزهور".split(),
}


def caption_setup(tmp_path: Path, language: str, size: tuple[int, int], style: CaptionStyle):
    words = WORDS[language]
    timings = [WordTiming(word=w, start=0.27 * i + 0.05, end=0.27 * i + 0.25) for i, w in enumerate(words)]
    timeline = build_timeline([(0, 0.27 * len(words) + 0.3)], FPS)
    groups = build_caption_groups([(timeline.spans[0], timings)], FPS)
    fonts = prepare_fonts(tmp_path / f"fonts-{language}", caption_texts(groups), language)
    return groups, caption_layout(*size, style, fonts), fonts, timeline.total_frames


def burned_by_filter(tmp_path: Path, frames: np.ndarray, script: str, fonts_dir: Path, size: tuple[int, int]) -> np.ndarray:
    raw = tmp_path / "frames.yuv"
    frames.tofile(raw)
    ass = write_text(tmp_path / "filter.ass", script)
    burn = f"ass=filename={filter_path(ass)}:fontsdir={filter_path(fonts_dir)}"
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", *raw_input_args(*size, FPS, str(raw)), "-vf", burn, "-f", "rawvideo",
         "-pix_fmt", "yuv420p", "pipe:1"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(done.stdout, np.uint8).reshape(frames.shape)


@pytest.mark.parametrize(
    ("language", "size", "style"),
    [
        ("en", (540, 960), CaptionStyle.bold),
        ("en", (640, 360), CaptionStyle.minimal),
        ("zh", (540, 960), CaptionStyle.bold),
        ("ar", (480, 480), CaptionStyle.minimal),
    ],
)
def test_composited_caption_states_match_the_ass_filter_on_every_frame(tmp_path, language, size, style):
    # GIVEN word-timed captions and frames of noise (every background value, so any error would show)
    groups, layout, fonts, count = caption_setup(tmp_path, language, size, style)
    width, height = size
    frames = np.random.default_rng(7).integers(0, 256, (count, width * height * 3 // 2), dtype=np.uint8)
    # WHEN ffmpeg's ass filter burns them, and the burner composites the states libass drew once
    expected = burned_by_filter(tmp_path, frames, to_ass(groups, layout, FPS), fonts.folder, size)
    burned = frames.copy()
    burner = CaptionBurner(caption_events(groups, layout, FPS), layout, fonts.folder, tmp_path)
    for index in range(count):
        burner.burn(index, burned[index])
    burner.close()
    # THEN every pixel of every frame is the same, to rounding; and captions were really drawn
    assert int(np.abs(burned.astype(int) - expected).max()) <= 2
    assert int((expected != frames).sum()) > count * 500


def test_the_caption_band_holds_two_lines_above_the_bottom_safe_margin():
    # GIVEN the bold 9:16 layout WHEN its band is computed
    layout = caption_layout(1080, 1920, CaptionStyle.bold)
    top, bottom = caption_band(layout)
    # THEN it ends just under the safe area, holds two lines with room to spare, and is even
    assert layout.height - layout.margin_bottom <= bottom <= layout.height
    assert bottom - top >= 2 * layout.font_size_for(layout.primary) * 1.5
    assert top % 2 == 0 and bottom % 2 == 0


def test_static_styles_are_composited_and_karaoke_keeps_the_ass_filter(tmp_path):
    # GIVEN captions WHEN the render chooses how to burn them per style
    groups, _, fonts, _ = caption_setup(tmp_path, "en", (360, 640), CaptionStyle.bold)
    choices = {}
    for style in CaptionStyle:
        scratch = tmp_path / style.value
        scratch.mkdir()
        choice = _burn_in(groups, 360, 640, style, fonts, FPS, 0, scratch)
        choices[style] = choice
        if choice.burner is not None:
            choice.burner.abort()
    # THEN bold and minimal use the burner; karaoke (sweeps within an event) is burned by the filter
    assert choices[CaptionStyle.bold].burner is not None and choices[CaptionStyle.bold].filter_script is None
    assert choices[CaptionStyle.minimal].burner is not None
    assert choices[CaptionStyle.karaoke].burner is None and choices[CaptionStyle.karaoke].filter_script.is_file()


def test_a_renderer_that_dies_is_a_clear_render_error(tmp_path):
    # GIVEN a burner whose libass renderer has died
    groups, layout, fonts, _ = caption_setup(tmp_path, "en", (360, 640), CaptionStyle.bold)
    burner = CaptionBurner(caption_events(groups, layout, FPS), layout, fonts.folder, tmp_path)
    burner.abort()
    frame = np.zeros(360 * 640 * 3 // 2, dtype=np.uint8)
    # WHEN a frame with a caption is burned THEN a RenderError says which caption state is missing
    with pytest.raises(RenderError, match="drawing the captions: state 0 of"):
        burner.burn(groups[0].start_frame, frame)


def test_overlapping_events_are_refused():
    layout = caption_layout(360, 640, CaptionStyle.bold)
    events = [CaptionEvent(start_frame=0, end_frame=10, text="A"), CaptionEvent(start_frame=5, end_frame=12, text="B")]
    with pytest.raises(ValueError, match="overlap"):
        CaptionBurner(events, layout, None, Path("/nonexistent"))
