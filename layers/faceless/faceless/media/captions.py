"""Word-timed captions: short groups of words, as SRT, WebVTT and a burned-in ASS script.

All times are frame numbers on the video's timeline (integers), so every caption change lands on a
frame and the three formats agree. A group never spans two segments: each clip can burn its own.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field

from faceless.media.fonts import CAPTION_FONT_NAME, em_per_ass_size, text_width
from faceless.media.timeline import SegmentSpan, snap_to_frame
from faceless.models import CaptionStyle, WordTiming

MAX_WORDS_PER_GROUP = 4
MAX_CHARS_PER_GROUP = 24  # about two short lines at the caption size on 9:16
PAUSE_SPLIT_SECONDS = 0.6  # a longer silence between words starts a new group
BRIDGE_GAP_SECONDS = 0.3  # a shorter gap between two groups is bridged: no caption flashing off and on
_ENDS_PHRASE = re.compile(r"[.,!?;:…。，！？、；：—–]['\"”’»)\]]*$")
_SPACES = re.compile(r"\s+")
_ZERO_WIDTH_SPACE = "\u200b"


# ------------------------------------------------------------------ grouping


class CaptionWord(BaseModel):
    text: str
    start_frame: int = Field(ge=0)  # on the video's timeline
    end_frame: int = Field(ge=0)


class CaptionGroup(BaseModel):
    segment_index: int
    words: list[CaptionWord] = Field(min_length=1)
    start_frame: int = Field(ge=0)
    end_frame: int = Field(ge=1)

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    def highlight_bounds(self) -> list[tuple[int, int]]:
        """Frames during which each word is the current one: from its start to the next word's start,
        the first from the group's start, the last to the group's end (contiguous, may be empty)."""
        cuts = [self.start_frame]
        for word in self.words[1:]:
            cuts.append(min(max(word.start_frame, cuts[-1]), self.end_frame))
        cuts.append(self.end_frame)
        return list(zip(cuts[:-1], cuts[1:], strict=True))


def _clean(word: str) -> str:
    return _SPACES.sub(" ", word).strip()


def _segment_words(span: SegmentSpan, words: list[WordTiming], fps: int) -> list[CaptionWord]:
    """The segment's words on the global timeline, snapped to frames and kept inside the segment."""
    placed = []
    for timing in sorted(words, key=lambda w: w.start):
        text = _clean(timing.word)
        if not text:
            continue
        start = min(span.start_frame + snap_to_frame(timing.start, fps), span.end_frame)
        end = min(span.start_frame + snap_to_frame(max(timing.end, timing.start), fps), span.end_frame)
        placed.append(CaptionWord(text=text, start_frame=start, end_frame=max(start, end)))
    return placed


def _starts_new_group(group: list[CaptionWord], word: CaptionWord, fps: int) -> bool:
    if not group:
        return False
    previous = group[-1]
    chars = sum(len(w.text) + 1 for w in group) + len(word.text)
    return (
        len(group) >= MAX_WORDS_PER_GROUP
        or bool(_ENDS_PHRASE.search(previous.text))
        or chars > MAX_CHARS_PER_GROUP
        or (word.start_frame - previous.end_frame) > PAUSE_SPLIT_SECONDS * fps
    )


def _groups_of(segment_index: int, words: list[CaptionWord], segment_end: int, fps: int) -> list[CaptionGroup]:
    chunks: list[list[CaptionWord]] = []
    for word in words:
        if _starts_new_group(chunks[-1] if chunks else [], word, fps):
            chunks.append([])
        if not chunks:
            chunks.append([])
        chunks[-1].append(word)
    groups = []
    for position, chunk in enumerate(chunks):
        start = chunk[0].start_frame
        end = max(chunk[-1].end_frame, start + 1)  # a word shorter than a frame still shows for one
        if position + 1 < len(chunks):
            next_start = chunks[position + 1][0].start_frame
            if next_start - end < BRIDGE_GAP_SECONDS * fps:
                end = next_start  # bridge a short gap; and never two lines at once
        end = min(end, segment_end)
        if end > start:
            groups.append(CaptionGroup(segment_index=segment_index, words=chunk, start_frame=start, end_frame=end))
    return groups


def build_caption_groups(segments: list[tuple[SegmentSpan, list[WordTiming]]], fps: int) -> list[CaptionGroup]:
    """1-4 words per group, broken at punctuation, long pauses and ~two lines of text; each group shown
    from its first word's start to its last word's end on the video's timeline, snapped to frames
    (a gap shorter than BRIDGE_GAP_SECONDS before the next group is bridged, to avoid flashing)."""
    groups: list[CaptionGroup] = []
    for span, words in segments:
        groups.extend(_groups_of(span.index, _segment_words(span, words, fps), span.end_frame, fps))
    return groups


# ------------------------------------------------------------------ SRT and WebVTT


def _milliseconds(frame: int, fps: int) -> int:
    return (frame * 1000 + fps // 2) // fps


def _clock(milliseconds: int, separator: str) -> str:
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def to_srt(groups: list[CaptionGroup], fps: int) -> str:
    cues = []
    for number, group in enumerate(groups, start=1):
        start = _clock(_milliseconds(group.start_frame, fps), ",")
        end = _clock(_milliseconds(group.end_frame, fps), ",")
        cues.append(f"{number}\n{start} --> {end}\n{group.text}\n")
    return "\n".join(cues)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(groups: list[CaptionGroup], fps: int) -> str:
    cues = ["WEBVTT\n"]
    for group in groups:
        start = _clock(_milliseconds(group.start_frame, fps), ".")
        end = _clock(_milliseconds(group.end_frame, fps), ".")
        cues.append(f"{start} --> {end}\n{_vtt_escape(group.text)}\n")
    return "\n".join(cues)


# ------------------------------------------------------------------ ASS (burned in)


class CaptionLayout(BaseModel):
    """Where and how big captions are drawn, in the video's pixels (PlayRes = frame size)."""

    width: int
    height: int
    style: CaptionStyle
    em_pixels: int  # Anton's em in pixels (what Pillow measures with)
    font_size: int  # the ASS Fontsize giving that em under libass
    margin_side: int  # left and right: centred, clear of the right-hand UI column on 9:16
    margin_bottom: int  # clear of the bottom ~20% (titles, buttons) on 9:16
    uppercase: bool
    outline: float
    shadow: float

    @property
    def safe_width(self) -> int:
        return self.width - 2 * self.margin_side


_STYLE_EM = {CaptionStyle.bold: 0.10, CaptionStyle.karaoke: 0.082, CaptionStyle.minimal: 0.058}
_WHITE, _YELLOW, _BLACK = "&H00FFFFFF", "&H0000FFFF", "&H00000000"


def caption_layout(width: int, height: int, style: CaptionStyle) -> CaptionLayout:
    base = min(width, height)  # the frame's short side: the same text size in every format
    em = max(8, round(base * _STYLE_EM[style]))
    if height > width:  # 9:16 and other portrait frames
        side, bottom = 0.12 * width, 0.28 * height
    elif height == width:
        side, bottom = 0.08 * width, 0.16 * height
    else:
        side, bottom = 0.10 * width, 0.11 * height
    outline = {CaptionStyle.bold: 0.085, CaptionStyle.karaoke: 0.2, CaptionStyle.minimal: 0.04}[style] * em
    shadow = {CaptionStyle.bold: 0.03, CaptionStyle.karaoke: 0.0, CaptionStyle.minimal: 0.05}[style] * em
    return CaptionLayout(
        width=width,
        height=height,
        style=style,
        em_pixels=em,
        font_size=round(em / em_per_ass_size()),
        margin_side=round(side),
        margin_bottom=round(bottom),
        uppercase=style is not CaptionStyle.minimal,
        outline=round(outline, 1),
        shadow=round(shadow, 1),
    )


def ass_escape(text: str) -> str:
    """Make a word literal in ASS: braces escaped, and a zero-width space after each backslash so that
    no `\\N`, `\\h`, `\\{` sequence can form (libass has no escape for the backslash itself)."""
    text = text.replace("\\", "\\" + _ZERO_WIDTH_SPACE)
    return text.replace("{", "\\{").replace("}", "\\}")


def _ass_clock(frame: int, fps: int) -> str:
    # ASS has centiseconds; flooring keeps each event's first and last frame exactly (a frame is > 1 cs).
    centis = (frame * 100) // fps
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6000)
    seconds, centi = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{centi:02d}"


def _style_line(layout: CaptionLayout) -> str:
    if layout.style is CaptionStyle.karaoke:
        # \kf sweeps Secondary -> Primary; BorderStyle 4 (libass) draws one box per line in BackColour.
        primary, secondary, outline_colour, back, border_style = _YELLOW, _WHITE, _BLACK, "&H48000000", 4
    elif layout.style is CaptionStyle.minimal:
        primary, secondary, outline_colour, back, border_style = _WHITE, _YELLOW, "&H40000000", "&H90000000", 1
    else:
        primary, secondary, outline_colour, back, border_style = _WHITE, _YELLOW, _BLACK, "&H80000000", 1
    fields = [
        "Caption", CAPTION_FONT_NAME, layout.font_size, primary, secondary, outline_colour, back,
        0, 0, 0, 0, 100, 100, 0, 0, border_style, layout.outline, layout.shadow,
        2, layout.margin_side, layout.margin_side, layout.margin_bottom, 1,
    ]  # fmt: skip
    return "Style: " + ",".join(str(f) for f in fields)


def _fit_tag(words: list[str], layout: CaptionLayout) -> str:
    """A smaller font for this event if its longest word alone would not fit the safe width."""
    room = (layout.safe_width - 2 * layout.outline) * 0.96  # libass and Pillow hint a little differently
    widest = max(text_width(w, layout.em_pixels) for w in words)
    if widest <= room:
        return ""
    return f"\\fs{max(1, int(layout.font_size * room / widest))}"


def _display_words(group: CaptionGroup, layout: CaptionLayout) -> list[str]:
    return [w.text.upper() if layout.uppercase else w.text for w in group.words]


def _highlighted_line(words: list[str], current: int, style: CaptionStyle, fit: str) -> str:
    """The group's line with word `current` marked; `\\r` + fit returns to the (fitted) style after a mark."""
    reset = f"{{\\r{fit}}}"
    parts = []
    for position, word in enumerate(words):
        literal = ass_escape(word)
        if style is CaptionStyle.minimal and position != current:
            parts.append(f"{{\\1a&H68&\\3a&HA8&}}{literal}{reset}")  # others dimmed, the spoken word bright
        elif style is not CaptionStyle.minimal and position == current:
            parts.append(f"{{\\c{_YELLOW}&}}{literal}{reset}")
        else:
            parts.append(literal)
    return " ".join(parts)


def _dialogue(start: int, end: int, text: str, fps: int, offset: int) -> str:
    return f"Dialogue: 0,{_ass_clock(start - offset, fps)},{_ass_clock(end - offset, fps)},Caption,,0,0,0,,{text}"


def _group_events(group: CaptionGroup, layout: CaptionLayout, fps: int, offset: int) -> list[str]:
    words = _display_words(group, layout)
    fit = _fit_tag(words, layout)
    prefix = f"{{{fit}}}" if fit else ""
    bounds = group.highlight_bounds()
    if layout.style is CaptionStyle.karaoke:
        # one event; each word's \kf lasts until the next word starts (centiseconds, on frame-exact cuts)
        pieces = []
        for word, (start, end) in zip(words, bounds, strict=True):
            centis = (end - offset) * 100 // fps - (start - offset) * 100 // fps
            pieces.append(f"{{\\kf{centis}}}{ass_escape(word)}")
        return [_dialogue(group.start_frame, group.end_frame, prefix + " ".join(pieces), fps, offset)]
    return [
        _dialogue(start, end, prefix + _highlighted_line(words, current, layout.style, fit), fps, offset)
        for current, (start, end) in enumerate(bounds)
        if end > start
    ]


def to_ass(groups: list[CaptionGroup], layout: CaptionLayout, fps: int, offset_frame: int = 0) -> str:
    """An ASS script for these groups, times relative to `offset_frame` (a clip's first frame)."""
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {layout.width}",
        f"PlayResY: {layout.height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding",
        _style_line(layout),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = [line for group in groups for line in _group_events(group, layout, fps, offset_frame)]
    return "\n".join(header + events) + "\n"


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
