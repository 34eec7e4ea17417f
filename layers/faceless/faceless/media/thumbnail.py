"""The thumbnail: the strongest segment picture (contrast, colour, a subject: `picture_strength`),
cover-fitted to the thumbnail size (1280x720 for 16:9, else the video's size), with the title over a
dark gradient so it reads on any image, each word in the caption face of its script ("iPhone" in an
Arabic title in Anton).

The title is drawn by libass (the `ass` filter of our static ffmpeg), like the captions: it carries its
own FriBidi and HarfBuzz. Pillow would shape and order Arabic and Hebrew only where the system has
libfribidi (Pillow loads it at run time; the Lambda image has none): without it an Arabic title comes
out unjoined and backwards. Pillow still measures the lines (a width, for breaking them), where a
missing libfribidi only makes Arabic measure a little wide.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from faceless.agents.text import reading_units
from faceless.errors import RenderError
from faceless.media.captions import (
    ass_document,
    ass_escape,
    direction_marks,
    gap_between,
    reads_right_to_left,
)
from faceless.media.encoder import filter_path
from faceless.media.ffmpeg import run_ffmpeg
from faceless.media.fonts import Face, FontSet, anton_path, install_fonts, text_width
from faceless.media.scripts import Script
from faceless.media.images import cover_fit, load_rgb

MAX_TITLE_LINES = 4
_LINE_SPACING = 1.12  # of the em
_LATIN = Face(Script.latin, "Anton", anton_path())


def thumbnail_size(width: int, height: int) -> tuple[int, int]:
    """1280x720 for landscape videos (what the platforms ask for), else the video's own size."""
    return (1280, 720) if width > height else (width, height)


_DETAIL_CAP = 8.0  # mean |Laplacian| past which more detail is clutter behind a title, not strength


def picture_strength(rgb: np.ndarray) -> float:
    """How strong a picture (H x W x 3 RGB) is as a cover, on a copy at most 256 px across: luma
    contrast, colourfulness (Hasler and Suesstrunk's metric) and a subject (the picture's middle more
    salient than the whole, by frequency-tuned saliency: Achanta et al. 2009), plus some fine detail,
    capped (a busy texture behind the title is no stronger for it); very dark or washed-out pictures
    score lower. The renderer scores each picture it has decoded anyway (a second PNG decode would
    cost ~40 ms)."""
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, 256 / max(height, width))
    small = np.ascontiguousarray(rgb)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
    luma = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    contrast = float(luma.std())
    detail = min(_DETAIL_CAP, float(np.abs(cv2.Laplacian(luma, cv2.CV_32F)).mean()))
    red, green, blue = (small[..., channel].astype(np.float32) for channel in range(3))
    red_green, yellow_blue = red - green, 0.5 * (red + green) - blue
    colourfulness = float(
        np.hypot(red_green.std(), yellow_blue.std()) + 0.3 * np.hypot(red_green.mean(), yellow_blue.mean())
    )
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    saliency = np.linalg.norm(cv2.GaussianBlur(lab, (0, 0), 3) - lab.reshape(-1, 3).mean(axis=0), axis=2)
    rows, columns = saliency.shape
    middle = saliency[rows // 4 : rows - rows // 4, columns // 4 : columns - columns // 4]
    overall = float(saliency.mean())
    subject = float(middle.mean()) / overall - 1.0 if overall > 1.0 else 0.0
    brightness = float(luma.mean())
    exposure = min(1.0, brightness / 50.0, (255.0 - brightness) / 50.0)
    # a subject counts most: a half-and-half pattern has the most contrast and colour a picture can have
    strength = contrast + 0.5 * colourfulness + 40.0 * subject + detail
    return round(max(0.0, strength) * max(0.2, exposure), 4)


def image_strength(path: Path) -> float:
    """`picture_strength` of an image file (the same score the renderer gives the decoded picture)."""
    return picture_strength(np.asarray(load_rgb(path)))


def strongest_image(paths: list[Path]) -> Path:
    """The picture with the highest `image_strength` (the first one on ties)."""
    if not paths:
        raise RenderError("no picture to make a thumbnail from")
    scores = [image_strength(p) for p in paths]
    return paths[int(np.argmax(scores))]


class TitleWord(NamedTuple):
    text: str
    face: Face  # the caption face of its script, as in the captions
    glued: bool = False  # written against the word before it (Chinese, Thai...: no space between words)


def title_words(title: str, fonts: FontSet | None = None) -> list[TitleWord]:
    """The title's words, each in the face of its script (Anton's in capitals). A script written without
    spaces (Chinese, Japanese, Thai...) gives its words (Japanese its phrases: `reading_units`), so that
    lines break between two words, never inside one, and never before a closing mark such as "，" or after an opening "「"."""
    words = []
    for token in title.split() or [" "]:
        for n, piece in enumerate(reading_units(token)):
            face = fonts.face_for(piece) if fonts is not None else _LATIN
            words.append(TitleWord(piece.upper() if face.script is Script.latin else piece, face, glued=n > 0))
    return words


def gap_before(previous: TitleWord | None, word: TitleWord) -> str:
    """What goes between `previous` and `word` on a line, as between caption words (`gap_between`)."""
    return gap_between(previous.text if previous is not None else None, word.text, word.glued)


def _advance(previous: TitleWord | None, word: TitleWord, em_pixels: int) -> int:
    """What `word` adds to a line after `previous`: the space before it (in its face) and itself."""
    return text_width(gap_before(previous, word) + word.text, em_pixels, word.face.path)


def _line_width(line: list[TitleWord], em_pixels: int) -> int:
    return sum(_advance(line[k - 1] if k else None, word, em_pixels) for k, word in enumerate(line))


def wrap_to_width(words: list[TitleWord], em_pixels: int, max_width: int) -> list[list[TitleWord]] | None:
    """Greedy line breaking by measured width; None if a single word is wider than `max_width`. A line
    that would break inside a phrase written without spaces (Thai) breaks at the space before that
    phrase instead, if the line keeps at least half the width and the phrase's start fits on the next."""
    lines: list[list[TitleWord]] = []
    width = 0
    for word in words:
        alone = _advance(None, word, em_pixels)
        if alone > max_width:
            return None
        after = width + _advance(lines[-1][-1], word, em_pixels) if lines else max_width + 1
        if after <= max_width:
            lines[-1].append(word)
            width = after
            continue
        line = [word]
        if lines and word.glued:
            current = lines[-1]
            space = max((j for j in range(1, len(current)) if not current[j].glued), default=None)
            if space is not None and _line_width(current[:space], em_pixels) >= max_width / 2:
                carried = [*current[space:], word]
                if _line_width(carried, em_pixels) <= max_width:
                    del current[space:]
                    line = carried
        lines.append(line)
        width = _line_width(line, em_pixels)
    return lines


def balanced_wrap(
    words: list[TitleWord], em_pixels: int, max_width: int, lines: list[list[TitleWord]]
) -> list[list[TitleWord]]:
    """`lines` (the greedy wrap at `max_width`) rewrapped into as many lines with the narrowest widest
    line: the greedy wrap at the least width that still needs no more. Lines come out even ("WHY THE /
    SKY IS BLUE"), not full lines and a last word alone ("WHY THE SKY IS / BLUE")."""
    if len(lines) == 1:
        return lines
    narrowest, widest = max(_advance(None, word, em_pixels) for word in words), max_width
    while narrowest < widest:  # the line count only falls as the width grows
        middle = (narrowest + widest) // 2
        trial = wrap_to_width(words, em_pixels, middle)
        if trial is not None and len(trial) <= len(lines):
            widest = middle
        else:
            narrowest = middle + 1
    return wrap_to_width(words, em_pixels, widest) or lines


def fit_title(title: str, width: int, height: int, fonts: FontSet | None = None) -> tuple[int, list[list[TitleWord]]]:
    """The largest em size at which the title fits in <= 4 lines inside the margins, and its lines
    balanced."""
    words = title_words(title, fonts)
    max_width = int(width * 0.84)
    em = round(min(width, height) * 0.14)
    while em > 8:
        lines = wrap_to_width(words, em, max_width)
        if lines is not None and len(lines) <= MAX_TITLE_LINES:
            return em, balanced_wrap(words, em, max_width, lines)  # balanced once, at the size that fits
        em = int(em * 0.92)
    return 8, [words]


def _dark_gradient(width: int, height: int) -> Image.Image:
    """Black, transparent above 30% of the height, rising to ~85% opaque at the bottom."""
    ramp = np.clip((np.arange(height, dtype=np.float32) / height - 0.30) / 0.55, 0.0, 1.0)
    alpha = (np.power(ramp, 1.2) * 218).astype(np.uint8)
    mask = Image.fromarray(np.repeat(alpha[:, None], width, axis=1), mode="L")
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    layer.putalpha(mask)
    return layer


class _TitleBlock(NamedTuple):
    top: int  # row of the first line's top
    line_height: int
    lines: int

    @property
    def bottom(self) -> int:
        return self.top + self.line_height * self.lines


def _title_block(lines: list[list[TitleWord]], em: int, height: int) -> _TitleBlock:
    """Where the title's lines go: centred on 66% of the height, clear of the bottom strip of buttons."""
    latin = all(word.face.script is Script.latin for line in lines for word in line)
    line_height = round(em * _LINE_SPACING * (1.0 if latin else 1.25))
    top = round(height * 0.66 - line_height * len(lines) / 2)
    return _TitleBlock(max(0, min(top, int(height * 0.86) - line_height * len(lines))), line_height, len(lines))


def title_ass(
    lines: list[list[TitleWord]], em: int, width: int, block: _TitleBlock, first_row: int, rows: int,
    right_to_left: bool = False,
) -> str:  # fmt: skip
    """An ASS script drawing the title's lines, centred, white with a black outline, on the `rows` rows
    of the picture from `first_row`; each word in its face. A right-to-left title (or one holding
    right-to-left words) gets the captions' direction marks (captions.direction_marks) and Encoding -1,
    so libass orders it as the bidi algorithm does, in the title's direction."""
    outline = max(1, round(em * 0.05))
    primary = lines[0][0].face
    style = (
        f"Style: Title,{primary.family},{em / primary.em_per_ass_size:.2f},&H00FFFFFF,&H00FFFFFF,&H00000000,"
        f"&H00000000,0,0,0,0,100,100,0,0,1,{outline},0,8,0,0,0,-1"
    )
    dialogues = []
    for n, line in enumerate(lines):
        texts = [word.text for word in line]
        marks = direction_marks(texts, list(range(len(line))), right_to_left)
        runs = []
        for k, (word, mark) in enumerate(zip(line, marks, strict=True)):
            gap = gap_before(line[k - 1] if k else None, word)
            font = f"{{\\fn{word.face.family}\\fs{em / word.face.em_per_ass_size:.2f}}}"
            runs.append(f"{gap}{font}{mark}{ass_escape(word.text)}")
        position = f"{{\\pos({width / 2:.1f},{block.top - first_row + n * block.line_height})}}"
        dialogues.append(f"Dialogue: 0,0:00:00.00,0:00:10.00,Title,,0,0,0,,{position}{''.join(runs)}")
    return ass_document(width, rows, [style], dialogues)


def _burn(strip: Image.Image, script: str, fonts_dir: Path, scratch: Path) -> Image.Image:
    """`strip` (RGB) with the ASS `script` burned in by libass, in RGB (no YUV round trip)."""
    width, height = strip.size
    (scratch / "title.ass").write_text(script, encoding="utf-8")
    (scratch / "strip.rgb").write_bytes(strip.tobytes())
    burn = f"ass=filename={filter_path(scratch / 'title.ass')}:fontsdir={filter_path(fonts_dir)}"
    done = run_ffmpeg(
        ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-i", str(scratch / "strip.rgb"),
         "-vf", burn, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
        what="drawing the thumbnail's title",
        stdout=subprocess.PIPE,
    )  # fmt: skip
    if len(done.stdout) != width * height * 3:
        raise RenderError(f"drawing the thumbnail's title: ffmpeg gave {len(done.stdout)} bytes, not one picture")
    return Image.frombytes("RGB", (width, height), done.stdout)


def make_thumbnail(
    image_path: Path, title: str, width: int, height: int, target: Path, fonts: FontSet | None = None
) -> Path:
    """`width` x `height` is the thumbnail's size (see `thumbnail_size`). Without `fonts`, the title
    is set in the Latin face alone."""
    picture = cover_fit(load_rgb(image_path), width, height).convert("RGBA")
    picture.alpha_composite(_dark_gradient(width, height))
    em, lines = fit_title(title, width, height, fonts)
    block = _title_block(lines, em, height)
    right_to_left = reads_right_to_left(title, fonts)
    # libass draws on the rows around the title only (less for ffmpeg to hold while the video encodes)
    first_row, last_row = max(0, block.top - em), min(height, block.bottom + em)
    titled = picture.convert("RGB")
    with tempfile.TemporaryDirectory(prefix=".thumbnail-", dir=target.parent) as scratch_name:
        scratch = Path(scratch_name)
        fonts_dir = fonts.folder if fonts is not None else install_fonts(scratch / "fonts")
        script = title_ass(lines, em, width, block, first_row, last_row - first_row, right_to_left)
        strip = _burn(titled.crop((0, first_row, width, last_row)), script, fonts_dir, scratch)
    titled.paste(strip, (0, first_row))
    try:
        titled.save(target, format="JPEG", quality=90, optimize=True)
    except OSError as exc:
        raise RenderError(f"cannot write thumbnail {target}: {exc}") from exc
    return target
