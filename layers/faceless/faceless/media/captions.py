"""Word-timed captions: short groups of words, as SRT, WebVTT and a burned-in ASS script.

All times are frame numbers on the video's timeline (integers), so every caption change lands on a
frame and the three formats agree. A group never spans two segments: each clip can burn its own, and
a segment's groups are the same whether computed alone (its clip) or with the others (one render).

Scripts: each word is set in the face of its script (Anton for Latin, Noto CJK / Arabic / Hebrew,
see fonts.py). Chinese, Japanese, Thai, Lao, Khmer and Myanmar are written without spaces between
words, so speech engines time whole phrases: such tokens are cut into their words (ICU's word breaker;
Japanese into its phrases, BudouX: agents.text.reading_units), timed in proportion to their letters,
and joined without spaces (a Thai phrase's own spaces kept).
Lines are broken by us (measured with the same font files, shaped by raqm), at most two per caption,
and the size shrinks until they fit the safe area: libass never wraps or clips them. Right-to-left
lines are given in logical order; libass (fribidi + harfbuzz) orders and joins them. libass lays out
each override-tag run (here: each word) as its own bidi paragraph, as VSFilter does, so the line's
direction is set word by word: a line that reads right to left (the video's language is Arabic,
Hebrew...; without a language, its first strong letter decides), or holds right-to-left words, uses a
style with Encoding -1 (each run's own direction) and direction marks on its words (`direction_marks`),
which make libass order the line as the Unicode bidi algorithm does: right to left for Arabic, with
"Apple Inc" or "iPhone 15" still reading left to right inside it. Lines without right-to-left letters
are drawn as before: style Encoding 1, no marks.
"""

from __future__ import annotations

import re
import unicodedata
from math import ceil
from pathlib import Path

import regex
from pydantic import BaseModel, ConfigDict, Field

from faceless.agents.text import (
    CJK_SENTENCE_MARKS,
    CLAUSE_MARKS,
    SENTENCE_MARKS,
    is_unspaced,
    reading_units,
    without_pictographs,
)
from faceless.media.fonts import (
    Face,
    FontSet,
    anton_path,
    em_per_ass_size,
    text_width,
)
from faceless.media.scripts import Script, char_script, is_cjk_char
from faceless.media.timeline import SegmentSpan, snap_to_frame
from faceless.models import CaptionStyle, WordTiming

MAX_WORDS_PER_GROUP = 4
MAX_UNITS_PER_GROUP = 24  # about two short lines; a CJK character counts 2
MAX_LINES = 2
PAUSE_SPLIT_SECONDS = 0.6  # a longer silence between words starts a new group
BRIDGE_GAP_SECONDS = 0.3  # a shorter gap between two groups is bridged: no caption flashing off and on
# a phrase ends at a sentence's or a clause's mark (the narration splitter's), an Ethiopic semicolon or a dash
_ENDS_PHRASE = re.compile(rf"[{SENTENCE_MARKS}{CJK_SENTENCE_MARKS}{CLAUSE_MARKS}፤—–]['\"”’»」』)\]]*$")
_SPACES = re.compile(r"\s+")
_SPOKEN = regex.compile(r"[\p{L}\p{M}\p{N}]")  # what takes time to say: letters, their marks (Thai vowel signs), digits
_ZERO_WIDTH_SPACE = "\u200b"
_LEFT_TO_RIGHT_MARK, _RIGHT_TO_LEFT_MARK = "\u200e", "\u200f"
_STYLE, _BIDI_STYLE = "Caption", "CaptionBidi"


# ------------------------------------------------------------------ grouping


class CaptionWord(BaseModel):
    text: str
    start_frame: int = Field(ge=0)  # on the video's timeline
    end_frame: int = Field(ge=0)
    glued: bool = False  # written against the word before it: a word of a phrase without spaces (Thai, Chinese...)


def joiner(left: str, right: str) -> str:
    """What goes between two words: nothing between CJK characters, else a space."""
    return "" if left and right and is_cjk_char(left[-1]) and is_cjk_char(right[0]) else " "


def gap_between(previous: str | None, word: str, glued: bool = False) -> str:
    """What goes before `word`: nothing at the start (`previous` None) or when it is glued to the word
    before (written together: a phrase without spaces), else `joiner`'s."""
    return "" if previous is None or glued else joiner(previous, word)


def word_gaps(words: list[CaptionWord]) -> list[str]:
    """What goes before each word (`gap_between`)."""
    return [gap_between(words[i - 1].text if i else None, word.text, word.glued) for i, word in enumerate(words)]


def join_words(words: list[str], gaps: list[str]) -> str:
    return "".join(gap + word for gap, word in zip(gaps, words, strict=True))


def _units(text: str) -> int:
    return sum(2 if is_cjk_char(c) else 1 for c in text)


class CaptionGroup(BaseModel):
    segment_index: int
    words: list[CaptionWord] = Field(min_length=1)
    start_frame: int = Field(ge=0)
    end_frame: int = Field(ge=1)

    @property
    def text(self) -> str:
        return join_words([word.text for word in self.words], word_gaps(self.words))

    def highlight_bounds(self) -> list[tuple[int, int]]:
        """Frames during which each word is the current one: from its start to the next word's start,
        the first from the group's start, the last to the group's end (contiguous, may be empty)."""
        cuts = [self.start_frame]
        for word in self.words[1:]:
            cuts.append(min(max(word.start_frame, cuts[-1]), self.end_frame))
        cuts.append(self.end_frame)
        return list(zip(cuts[:-1], cuts[1:], strict=True))


def _clean(word: str) -> str:
    return _SPACES.sub(" ", without_pictographs(word)).strip()  # no caption face draws emoji


def _split_unspaced(text: str, start: float, end: float) -> list[tuple[str, float, float]]:
    """A token of a script written without spaces (a Thai phrase, a Chinese clause), cut into its words
    (Japanese into its phrases: `reading_units`; punctuation stays with the word before it), each timed
    in proportion to its letters (punctuation takes no time). Any other token comes back whole."""
    pieces = reading_units(text) if is_unspaced(text) else (text,)
    if len(pieces) == 1:
        return [(text, start, end)]
    weights = [max(1, len(_SPOKEN.findall(piece))) for piece in pieces]
    total, cursor, out = sum(weights), 0, []
    for piece, weight in zip(pieces, weights, strict=True):
        piece_start = start + (end - start) * cursor / total
        cursor += weight
        out.append((piece, piece_start, start + (end - start) * cursor / total))
    return out


def _segment_words(span: SegmentSpan, words: list[WordTiming], fps: int) -> list[CaptionWord]:
    """The segment's words on the global timeline, snapped to frames and kept inside the segment."""
    placed = []
    for timing in sorted(words, key=lambda w: w.start):
        text = _clean(timing.word)
        if not text:
            continue
        pieces = _split_unspaced(text, timing.start, max(timing.end, timing.start))
        for n, (piece, start_s, end_s) in enumerate(pieces):
            start = min(span.start_frame + snap_to_frame(start_s, fps), span.end_frame)
            end = min(span.start_frame + snap_to_frame(end_s, fps), span.end_frame)
            placed.append(CaptionWord(text=piece, start_frame=start, end_frame=max(start, end), glued=n > 0))
    return placed


def _ends_phrase(previous: CaptionWord, word: CaptionWord, fps: int) -> bool:
    """Whether a group must end between these two words: after punctuation, or at a long pause."""
    pause = word.start_frame - previous.end_frame
    return bool(_ENDS_PHRASE.search(previous.text)) or pause > PAUSE_SPLIT_SECONDS * fps


def _phrases(words: list[CaptionWord], fps: int) -> list[list[CaptionWord]]:
    phrases: list[list[CaptionWord]] = []
    for word in words:
        if not phrases or _ends_phrase(phrases[-1][-1], word, fps):
            phrases.append([])
        phrases[-1].append(word)
    return phrases


def _fits(words: list[CaptionWord]) -> bool:
    text = join_words([w.text for w in words], word_gaps(words))
    return len(words) <= MAX_WORDS_PER_GROUP and _units(text) <= MAX_UNITS_PER_GROUP


_QUOTES_AND_BRACKETS = "\"'“”‘’«»()[]"  # around a word, not part of it
_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
    "million billion".split()
)


def _is_number(text: str) -> bool:
    """'15', '1969,', '2.0', '٢٠٢٤' (any script's digits), '3%', 'eight': a number a caption keeps with
    the word before it ("iPhone 15", "in 1969", "figure eight")."""
    core = text.strip(_QUOTES_AND_BRACKETS).rstrip(".,!?;:…%")
    if core.lower() in _NUMBER_WORDS:
        return True
    return bool(core) and all(char.isdigit() or char in ".,:/-" for char in core) and core[0].isdigit()


# Words that lean on the word after them (articles, prepositions, conjunctions, determiners): a caption
# ending on one ("other where the | flowers are") reads as cut mid-thought. English, whose words these
# are; where another language shares one ("a", "in") it leans forward there too.
_LEANS_FORWARD = frozenset(
    "a an the of to in on at for with from by into onto upon about over under between through after "
    "before during without within across against among toward towards like than and or but nor so if "
    "as because while although though when whose my your our their its his this these those each every "
    "very not no".split()
)
# Chinese particles that lean on the word before them (了, 的, 吗): a caption or a line starting with one
# ("看懂 | 了舞蹈") reads as cut mid-word. ICU's word breaker gives them as words; Japanese is cut into
# phrases that keep their particles (agents.text.reading_units).
_LEANS_BACK = frozenset("了 的 地 得 着 过 吗 呢 吧 啊 呀 嘛".split())
_GROUP_COST = 1.0  # fewer, fuller groups
_LEANING_END_COST = 2.0  # a group ends on a word that leans on the next one
_NUMBER_CUT_COST = 2.0  # a number starts a group apart from the word before it ("iPhone | 15")
_LONE_WORD_COST = 1.5  # a group of one word, in a phrase of several
_SHORT_GROUP_COST = 0.05  # per (missing word)^2: of equal groupings, the more even one
_INSIDE_PHRASE_COST = 1.0  # a group ends between two words written together (a Thai phrase: its spaces part phrases)


def _leans_forward(text: str) -> bool:
    return text.strip(_QUOTES_AND_BRACKETS).lower() in _LEANS_FORWARD


def _leans_back(text: str) -> bool:
    return _ENDS_PHRASE.sub("", text).strip(_QUOTES_AND_BRACKETS) in _LEANS_BACK


def _has_spaced_phrases(phrase: list[CaptionWord]) -> bool:
    """Whether words written together are parted by spaces here (Thai's phrases), not only by punctuation
    (Chinese, Japanese): then a group had best end at a space."""
    return any(not word.glued and is_unspaced(word.text) and not is_cjk_char(word.text[0]) for word in phrase[1:])


def _group_cost(phrase: list[CaptionWord], start: int, end: int, spaced: bool) -> float:
    """`spaced`: `_has_spaced_phrases(phrase)`, found once per phrase."""
    size = end - start
    cost = _GROUP_COST + _SHORT_GROUP_COST * (MAX_WORDS_PER_GROUP - size) ** 2
    if size == 1 and len(phrase) > 1:
        cost += _LONE_WORD_COST
    if end < len(phrase):
        cost += _LEANING_END_COST if _leans_forward(phrase[end - 1].text) or _leans_back(phrase[end].text) else 0.0
        cost += _NUMBER_CUT_COST if _is_number(phrase[end].text) else 0.0
        cost += _INSIDE_PHRASE_COST if spaced and phrase[end].glued else 0.0
    return cost


def _phrase_groups(phrase: list[CaptionWord]) -> list[list[CaptionWord]]:
    """A phrase cut into groups (at most MAX_WORDS_PER_GROUP words and MAX_UNITS_PER_GROUP units, a
    longer word alone) at the least cost (`_group_cost`): as few groups as fit, none ending on a word
    that leans on the next ("other where the | flowers are" is "each other where | the flowers are"),
    no number cut off from the word before it ("iPhone | 15"), no lone last word ("and walks a figure |
    eight" is "and walks | a figure eight"), even sizes where it costs nothing else; of equal costs,
    the one whose first groups are fuller (reading order). Every grouping is tried: a phrase has few words."""
    count = len(phrase)
    spaced = _has_spaced_phrases(phrase)
    best: list[tuple[float, int]] = [(0.0, count)] * (count + 1)  # from word i: (cost, end of its first group)
    for start in range(count - 1, -1, -1):
        best[start] = (float("inf"), start + 1)
        for end in range(start + 1, count + 1):
            if end > start + 1 and not _fits(phrase[start:end]):
                break
            cost = _group_cost(phrase, start, end, spaced) + best[end][0]
            if cost <= best[start][0]:  # on a tie the longer first group wins
                best[start] = (cost, end)
    groups, start = [], 0
    while start < count:
        end = best[start][1]
        groups.append(phrase[start:end])
        start = end
    return groups


def _groups_of(segment_index: int, words: list[CaptionWord], segment_end: int, fps: int) -> list[CaptionGroup]:
    chunks = [group for phrase in _phrases(words, fps) for group in _phrase_groups(phrase)]
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
    """1-4 words per group, broken at punctuation, long pauses and ~two lines of text, and inside a
    phrase where a reader pauses (no lone last word, no number cut off from its word, no group ending
    on "the" or "to": see `_phrase_groups`); each group shown
    from its first word's start to its last word's end on the video's timeline, snapped to frames
    (a gap shorter than BRIDGE_GAP_SECONDS before the next group is bridged, to avoid flashing)."""
    groups: list[CaptionGroup] = []
    for span, words in segments:
        groups.extend(_groups_of(span.index, _segment_words(span, words, fps), span.end_frame, fps))
    return groups


# Greek accents a capital does not carry: tonos (acute), varia (grave), perispomeni, the breathings
_GREEK_CAPITAL_DROPS = frozenset("\u0301\u0300\u0342\u0313\u0314")
_GREEK_DIGRAPH_FIRST, _GREEK_DIGRAPH_SECOND = frozenset("ΑΕΟΥ"), frozenset("ΙΥ")


def shout(text: str) -> str:
    """`text` in capitals, as the bold styles set it. Greek capitals drop their accents (ΜΈΛΙΣΣΕΣ is
    written ΜΕΛΙΣΣΕΣ), and a vowel that loses one keeps the two vowels apart with a diaeresis on
    the second (τσάι, ΤΣΑΪ), as Greek typesetting does; other scripts' accents stay (ÉTÉ)."""
    upper = text.upper()
    if not any(char_script(char) is Script.greek for char in upper):
        return upper
    out: list[str] = []
    base = ""  # the last letter, whose marks follow it
    dropped_from = ""  # the capital vowel whose accent was just dropped
    for char in unicodedata.normalize("NFD", upper):
        if not unicodedata.combining(char):
            diaeresis = dropped_from in _GREEK_DIGRAPH_FIRST and char in _GREEK_DIGRAPH_SECOND
            out.append(char + "\u0308" if diaeresis else char)
            base, dropped_from = char, ""
        elif char in _GREEK_CAPITAL_DROPS and char_script(base) is Script.greek:
            dropped_from = base
        elif not (char == "\u0308" and out[-1].endswith("\u0308")):  # ΐ: one diaeresis is enough
            out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


def caption_texts(groups: list[CaptionGroup], uppercase: bool = True) -> list[str]:
    """Every text a caption script will draw (for choosing and cutting the fonts)."""
    texts = [w.text for g in groups for w in g.words]
    return texts + ([shout(t) for t in texts] if uppercase else [])


# ------------------------------------------------------------------ SRT and WebVTT


def _milliseconds(frame: int, fps: int) -> int:
    return (frame * 1000 + fps // 2) // fps


def _clock(milliseconds: int, separator: str) -> str:
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def _cue_text(text: str, right_to_left: bool) -> str:
    """A cue whose first strong letter goes against the video's direction (an Arabic video's cue that
    starts with a Latin name, an English one that starts with an Arabic quote) starts with the mark of
    the video's direction: players take a cue's direction from its first strong letter."""
    direction = strong_direction(text)
    if right_to_left and direction == "L":
        return _RIGHT_TO_LEFT_MARK + text
    if not right_to_left and direction == "R":
        return _LEFT_TO_RIGHT_MARK + text
    return text


def to_srt(groups: list[CaptionGroup], fps: int, right_to_left: bool = False) -> str:
    cues = []
    for number, group in enumerate(groups, start=1):
        start = _clock(_milliseconds(group.start_frame, fps), ",")
        end = _clock(_milliseconds(group.end_frame, fps), ",")
        cues.append(f"{number}\n{start} --> {end}\n{_cue_text(group.text, right_to_left)}\n")
    return "\n".join(cues)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(groups: list[CaptionGroup], fps: int, right_to_left: bool = False) -> str:
    cues = ["WEBVTT\n"]
    for group in groups:
        start = _clock(_milliseconds(group.start_frame, fps), ".")
        end = _clock(_milliseconds(group.end_frame, fps), ".")
        cues.append(f"{start} --> {end}\n{_vtt_escape(_cue_text(group.text, right_to_left))}\n")
    return "\n".join(cues)


# ------------------------------------------------------------------ layout: the safe area


class CaptionLayout(BaseModel):
    """Where and how big captions are drawn, in the video's pixels (PlayRes = frame size).

    The safe area is the box the text must stay inside: 9:16 keeps clear of the bottom ~quarter
    (title, description, buttons) and of the right-hand column of buttons; 1:1 and 16:9 keep a
    broadcast-style margin. Captions sit at the bottom of the safe area, centred in it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    width: int
    height: int
    style: CaptionStyle
    em_pixels: int  # the em of the Latin face, in pixels
    margin_left: int
    margin_right: int
    margin_bottom: int
    margin_top: int
    uppercase: bool
    outline: float
    shadow: float
    fonts: FontSet | None = None  # None: Anton only (Latin captions)

    @property
    def safe_width(self) -> int:
        return self.width - self.margin_left - self.margin_right

    @property
    def safe_box(self) -> tuple[int, int, int, int]:
        """left, top, right, bottom (exclusive) of the area captions must stay inside."""
        return self.margin_left, self.margin_top, self.width - self.margin_right, self.height - self.margin_bottom

    @property
    def margin_side(self) -> int:  # the narrower side margin (kept for callers of the first version)
        return min(self.margin_left, self.margin_right)

    def face(self, text: str) -> Face:
        if self.fonts is None:
            return Face(Script.latin, "Anton", anton_path())
        return self.fonts.face_for(text)

    @property
    def primary(self) -> Face:
        return self.fonts.primary if self.fonts is not None else Face(Script.latin, "Anton", anton_path())

    def em_for(self, face: Face) -> int:
        """Non-Latin faces have a smaller eye than Anton's tall caps: give them a slightly larger em."""
        return round(self.em_pixels * (1.0 if face.script is Script.latin else 0.86))

    def font_size_for(self, face: Face) -> float:
        return self.em_for(face) / em_per_ass_size(face.path)

    @property
    def font_size(self) -> int:
        return round(self.font_size_for(self.primary))


_STYLE_EM = {CaptionStyle.bold: 0.10, CaptionStyle.karaoke: 0.082, CaptionStyle.minimal: 0.058}
_WHITE, _YELLOW, _BLACK = "&H00FFFFFF", "&H0000FFFF", "&H00000000"


def safe_margins(width: int, height: int) -> tuple[float, float, float, float]:
    """left, right, bottom, top margins as fractions of the frame, per format."""
    if height > width:  # 9:16 and other portrait frames: platform UI on the right and at the bottom
        return 0.08, 0.16, 0.25, 0.12
    if height == width:
        return 0.08, 0.08, 0.14, 0.08
    return 0.10, 0.10, 0.10, 0.08


def caption_layout(width: int, height: int, style: CaptionStyle, fonts: FontSet | None = None) -> CaptionLayout:
    base = min(width, height)  # the frame's short side: the same text size in every format
    em = max(8, round(base * _STYLE_EM[style]))
    left, right, bottom, top = safe_margins(width, height)
    outline = {CaptionStyle.bold: 0.085, CaptionStyle.karaoke: 0.2, CaptionStyle.minimal: 0.04}[style] * em
    shadow = {CaptionStyle.bold: 0.03, CaptionStyle.karaoke: 0.0, CaptionStyle.minimal: 0.05}[style] * em
    return CaptionLayout(
        width=width,
        height=height,
        style=style,
        em_pixels=em,
        margin_left=round(left * width),
        margin_right=round(right * width),
        margin_bottom=round(bottom * height),
        margin_top=round(top * height),
        uppercase=style is not CaptionStyle.minimal,
        outline=round(outline, 1),
        shadow=round(shadow, 1),
        fonts=fonts,
    )


# ------------------------------------------------------------------ ASS (burned in)


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


def _style_line(layout: CaptionLayout, bidi: bool = False) -> str:
    if layout.style is CaptionStyle.karaoke:
        # \kf sweeps Secondary -> Primary; BorderStyle 4 (libass) draws one box per line in BackColour.
        primary, secondary, outline_colour, back, border_style = _YELLOW, _WHITE, _BLACK, "&H48000000", 4
    elif layout.style is CaptionStyle.minimal:
        primary, secondary, outline_colour, back, border_style = _WHITE, _YELLOW, "&H40000000", "&H90000000", 1
    else:
        primary, secondary, outline_colour, back, border_style = _WHITE, _YELLOW, _BLACK, "&H80000000", 1
    face, name = layout.primary, _BIDI_STYLE if bidi else _STYLE
    fields = [
        name, face.family, round(layout.font_size_for(face), 2), primary, secondary, outline_colour, back,
        0, 0, 0, 0, 100, 100, 0, 0, border_style, layout.outline, layout.shadow,
        # Encoding: 1 (libass: every run left to right, VSFilter's way), -1 (each run's own direction)
        2, layout.margin_left, layout.margin_right, _margin_v(layout), -1 if bidi else 1,
    ]  # fmt: skip
    return "Style: " + ",".join(str(f) for f in fields)


def _margin_v(layout: CaptionLayout) -> int:
    # the border and shadow are drawn outside the glyphs' box: keep them inside the safe area too
    return layout.margin_bottom + ceil(layout.outline + layout.shadow)


def _display(word: str, layout: CaptionLayout) -> str:
    # only caseless scripts are left alone by upper(); Latin is shouted, as the bold styles do
    return shout(word) if layout.uppercase else word


def _measure(text: str, face: Face, em: int) -> float:
    return float(text_width(text, em, face.path))


def _break_rank(words: list[str], k: int, gaps: list[str]) -> int:
    """How well a line break before word k reads: 0 where a reader pauses, after punctuation ("DANCE, |
    TO TELL"), before a word that opens a phrase ("TELLS | THE DISTANCE", "VOTES | WITH ITS FEET") or at
    the space between two phrases of a script written without spaces (Thai); 2 inside a number
    ("NINETEEN | FORTIES", "3 | 000") or before a particle that leans on the word before it ("看懂 | 了");
    else 1. Which content words belong together ("THE WHOLE | SWARM") no word list can tell, so those are
    left to balance."""
    before, after = words[k - 1], words[k]
    punctuated = bool(_ENDS_PHRASE.search(before))  # as the phrases are found: any script's marks
    if gaps[k] and is_unspaced(before) and is_unspaced(after):
        return 0
    if (_is_number(before) and _is_number(after) or _leans_back(after)) and not punctuated:
        return 2
    if _leans_forward(before):
        return 1
    return 0 if punctuated or _leans_forward(after) else 1


def break_lines(
    words: list[str], layout: CaptionLayout, gaps: list[str] | None = None
) -> tuple[list[list[int]], float]:
    """Word indices per line and a scale (<= 1) for the font so that every line fits the safe width,
    in at most MAX_LINES lines. Greedy filling, then balanced into the fewest lines, broken where it reads
    best (`_break_rank`) among the splits that fit. `gaps`: what goes before each word (`joiner`'s if None)."""
    # libass and Pillow hint a little differently: a few percent to spare
    room = (layout.safe_width - 2 * layout.outline - layout.shadow) * 0.94
    faces = [layout.face(w) for w in words]
    widths = [_measure(w, f, layout.em_for(f)) for w, f in zip(words, faces, strict=True)]
    if gaps is None:
        gaps = [gap_between(words[i - 1] if i else None, word) for i, word in enumerate(words)]
    spaces = [_measure(" ", faces[i], layout.em_for(faces[i])) if gaps[i] else 0.0 for i in range(len(words))]

    def line_width(indices: list[int]) -> float:
        return sum(widths[i] + (spaces[i] if n else 0.0) for n, i in enumerate(indices))

    def fill(limit: float) -> list[list[int]]:
        lines: list[list[int]] = []
        for i in range(len(words)):
            if lines and line_width([*lines[-1], i]) <= limit:
                lines[-1].append(i)
            else:
                lines.append([i])
        return lines

    def widest(k: int) -> float:  # two lines split before word k
        return max(line_width(list(range(k))), line_width(list(range(k, len(words)))))

    lines = fill(room)
    if len(lines) == 2 and len(words) >= 2:
        # of the splits that fit, the one that reads best ("TELLS THE | DISTANCE" is "TELLS | THE DISTANCE"),
        # then the narrower widest line (balanced)
        fitting = [k for k in range(1, len(words)) if widest(k) <= room] or list(range(1, len(words)))
        best = min(fitting, key=lambda k: (_break_rank(words, k, gaps), widest(k)))
        lines = [list(range(best)), list(range(best, len(words)))]
    if len(lines) <= MAX_LINES and all(line_width(line) <= room for line in lines):
        return lines, 1.0
    # too long for two lines at this size: the best two-line split, scaled down to fit
    if len(words) == 1:
        return [[0]], room / widths[0]
    best = min(range(1, len(words)), key=widest)
    lines = [list(range(best)), list(range(best, len(words)))]
    return lines, min(1.0, room / max(line_width(line) for line in lines))


def _word_tags(layout: CaptionLayout, face: Face, scale: float, highlight: str) -> str:
    size = layout.font_size_for(face) * scale
    return f"{{\\r\\fn{face.family}\\fs{size:.2f}{highlight}}}"


def _highlight(layout: CaptionLayout, position: int, current: int | None) -> str:
    if current is None:
        return ""
    if layout.style is CaptionStyle.minimal:
        return "" if position == current else "\\1a&H68&\\3a&HA8&"  # others dimmed, the spoken word bright
    return f"\\c{_YELLOW}&" if position == current else ""


def strong_direction(text: str) -> str | None:
    """"L" or "R": the direction of the text's first strong letter; None if it has none (digits,
    punctuation)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "L"
        if kind in ("R", "AL"):
            return "R"
    return None


def is_right_to_left(text: str) -> bool:
    """Whether text reads right to left: its first strong letter is of a right-to-left script (the
    Unicode bidi algorithm's rule for a paragraph's direction)."""
    return strong_direction(text) == "R"


def has_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


def reads_right_to_left(text: str, fonts: FontSet | None) -> bool:
    """The direction of a caption or title: its language's (an Arabic video's line that starts with a
    Latin name is still an Arabic line), or without the language's faces its first strong letter's."""
    if fonts is not None:
        return fonts.primary.rtl
    return is_right_to_left(text)


def direction_marks(words: list[str], line: list[int], right_to_left: bool) -> list[str]:
    """The mark each word of a line starts with, so that libass orders the line as the Unicode bidi
    algorithm orders it in the line's direction.

    libass lays out every override-tag run (here: every word) as its own bidi paragraph. How it then
    places the runs was measured (tests/unit/test_render_captions.py): a run that starts with the
    line's mark takes the line's direction, and unmarked runs of the other direction that follow one
    another stay together in their own order. So a word in the line's direction, and the line's first
    word, start with the line's mark (U+200F or U+200E); the words of a phrase of the other direction
    ("Apple Inc", "iPhone 15" in an Arabic line; two Arabic words quoted in an English one) do not.
    Digits after such a word belong to its phrase, as in the bidi algorithm (rule W7). A left-to-right
    line without right-to-left letters needs no marks: all are ""."""
    if not right_to_left and not any(has_right_to_left(words[i]) for i in line):
        return [""] * len(line)
    mark = _RIGHT_TO_LEFT_MARK if right_to_left else _LEFT_TO_RIGHT_MARK
    other = "L" if right_to_left else "R"
    marks, in_phrase = [], False
    for n, i in enumerate(line):
        direction = strong_direction(words[i])
        in_phrase = direction == other or (in_phrase and direction is None)
        marks.append("" if n and in_phrase else mark)
    return marks


def _karaoke_tag(word: str) -> str:
    """\\kf sweeps the highlight across a word from left to right, whatever the script (libass): an
    Arabic or Hebrew word would fill from its end. Those light up whole when spoken (\\k) instead."""
    return "\\k" if strong_direction(word) == "R" else "\\kf"


def _line_text(
    words: list[str], lines: list[list[int]], layout: CaptionLayout, scale: float, current: int | None,
    gaps: list[str], karaoke: list[int] | None = None, right_to_left: bool = False,
) -> str:  # fmt: skip
    out = []
    for line_number, line in enumerate(lines):
        if line_number:
            out.append("\\N")
        for n, (i, mark) in enumerate(zip(line, direction_marks(words, line, right_to_left), strict=True)):
            face = layout.face(words[i])
            gap = gaps[i] if n else ""
            sweep = f"{{{_karaoke_tag(words[i])}{karaoke[i]}}}" if karaoke is not None else ""
            tags = _word_tags(layout, face, scale, _highlight(layout, i, current))
            out.append(f"{gap}{tags}{sweep}{mark}{ass_escape(words[i])}")
    return "".join(out)


class CaptionEvent(BaseModel):
    """One burned-in caption state: `text` (ASS, override tags included) on frames [start_frame, end_frame),
    counted from the first frame of the picture it is burned into."""

    start_frame: int
    end_frame: int
    text: str
    bidi: bool = False  # its words carry direction marks: drawn with the bidi style (see the module's docstring)


def is_animated(style: CaptionStyle) -> bool:
    """Whether a caption's picture changes within an event (karaoke sweeps) rather than only between them."""
    return style is CaptionStyle.karaoke


def _group_events(group: CaptionGroup, layout: CaptionLayout, fps: int, offset: int) -> list[CaptionEvent]:
    words = [_display(w.text, layout) for w in group.words]
    gaps = word_gaps(group.words)
    lines, scale = break_lines(words, layout, gaps)
    bounds = [(start - offset, end - offset) for start, end in group.highlight_bounds()]
    rtl = reads_right_to_left(" ".join(words), layout.fonts)
    bidi = rtl or any(has_right_to_left(word) for word in words)  # else: as always, every run left to right

    def text(current: int | None, karaoke: list[int] | None = None) -> str:
        return _line_text(words, lines, layout, scale, current, gaps, karaoke=karaoke, right_to_left=rtl)

    if layout.style is CaptionStyle.karaoke:
        # one event; each word's \kf lasts until the next word starts (centiseconds, on frame-exact cuts)
        kf = [end * 100 // fps - start * 100 // fps for start, end in bounds]
        start, end = group.start_frame - offset, group.end_frame - offset
        return [CaptionEvent(start_frame=start, end_frame=end, text=text(None, kf), bidi=bidi)]
    return [
        CaptionEvent(start_frame=start, end_frame=end, text=text(current), bidi=bidi)
        for current, (start, end) in enumerate(bounds)
        if end > start
    ]


def caption_events(
    groups: list[CaptionGroup], layout: CaptionLayout, fps: int, offset_frame: int = 0
) -> list[CaptionEvent]:
    """The caption states of these groups, in order, frames relative to `offset_frame` (a clip's first frame)."""
    return [event for group in groups for event in _group_events(group, layout, fps, offset_frame)]


def ass_document(width: int, height: int, styles: list[str], dialogues: list[str]) -> str:
    """An ASS script on a `width` x `height` canvas (in pixels) with these Style and Dialogue lines."""
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 2",  # we break the lines ourselves (break_lines, fit_title): libass must not re-wrap them
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding",
        *styles,
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    return "\n".join(header + dialogues) + "\n"


def _ass_script(layout: CaptionLayout, dialogues: list[str]) -> str:
    styles = [_style_line(layout), _style_line(layout, bidi=True)]
    return ass_document(layout.width, layout.height, styles, dialogues)


def _dialogue(event: CaptionEvent, start: int, end: int, fps: int, layer: int = 0, margin_v: int = 0) -> str:
    # margin_v 0: the style's
    style = _BIDI_STYLE if event.bidi else _STYLE
    return f"Dialogue: {layer},{_ass_clock(start, fps)},{_ass_clock(end, fps)},{style},,0,0,{margin_v},,{event.text}"


def to_ass(groups: list[CaptionGroup], layout: CaptionLayout, fps: int, offset_frame: int = 0) -> str:
    """An ASS script for these groups, times relative to `offset_frame` (a clip's first frame)."""
    events = caption_events(groups, layout, fps, offset_frame)
    return _ass_script(layout, [_dialogue(e, e.start_frame, e.end_frame, fps) for e in events])


STATES_RATE = 10  # frames per second of a states script: one state per 100 ms, whatever the video's rate


def caption_band(layout: CaptionLayout) -> tuple[int, int]:
    """Rows [top, bottom) of the frame that hold every caption, with room to spare: at most MAX_LINES
    lines (a line is at most its face's ASS size, winAscent + winDescent; half as much again is kept
    free) above the bottom safe margin, plus the outline and shadow. Even, for the chroma planes."""
    faces = list(layout.fonts.faces.values()) if layout.fonts is not None else [layout.primary]
    line = max(layout.font_size_for(face) for face in faces)
    border = layout.outline + layout.shadow
    bottom = min(layout.height, layout.height - layout.margin_bottom + ceil(border) + 8)
    top = max(0, bottom - ceil(MAX_LINES * line * 1.5 + 2 * border) - 8)
    return top - top % 2, bottom + bottom % 2 if bottom < layout.height else layout.height


def states_ass(events: list[CaptionEvent], layout: CaptionLayout, band: tuple[int, int]) -> str:
    """The caption states for overlays.py: state k alone on frame k of a STATES_RATE stream, drawn twice
    on a canvas of two `band`s stacked (the rows that hold captions), once in each: the same pixels as
    in the frame, moved up by band[0] (the lower copy) or by band[0] + the band's height (the upper).
    One libass then draws each state once, instead of once per video frame it stays on screen."""
    top, bottom = band
    rows = bottom - top
    canvas = layout.model_copy(
        update={"height": 2 * rows, "margin_bottom": layout.margin_bottom - (layout.height - bottom), "margin_top": 0}
    )
    upper = _margin_v(canvas) + rows
    lines = []
    for k, event in enumerate(events):
        # separate layers: libass never moves one copy out of the other's way
        lines.append(_dialogue(event, k, k + 1, STATES_RATE, layer=0, margin_v=upper))
        lines.append(_dialogue(event, k, k + 1, STATES_RATE, layer=1))
    return _ass_script(canvas, lines)


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
