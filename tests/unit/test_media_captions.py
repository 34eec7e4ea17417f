"""Captions and timeline, without rendering a video: grouping, SRT/WebVTT/ASS text, frame arithmetic."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from faceless.media.captions import (
    MAX_WORDS_PER_GROUP,
    ass_escape,
    build_caption_groups,
    caption_layout,
    to_ass,
    to_srt,
    to_vtt,
)
from faceless.media.ffmpeg import ffmpeg_exe
from faceless.media.fonts import install_fonts
from faceless.media.probe import parse_ffmpeg_banner
from faceless.media.timeline import build_timeline, frames_for, sample_at_frame, snap_to_frame
from faceless.models import CaptionStyle, WordTiming

FPS = 30
SRT_CUE = re.compile(r"(\d+)\n(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})\n(.+)\n")
VTT_CUE = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n(.+)\n")


def words(text: str, start: float = 0.0, step: float = 0.3) -> list[WordTiming]:
    return [
        WordTiming(word=w, start=round(start + i * step, 3), end=round(start + i * step + step * 0.9, 3))
        for i, w in enumerate(text.split())
    ]


def seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


# ------------------------------------------------------------------ timeline


def test_segment_lengths_round_up_to_whole_frames():
    # GIVEN narrations of 1.0 s (exact), 1.01 s and 0 s
    # WHEN laid on a 30 fps timeline
    timeline = build_timeline([(0, 1.0), (1, 1.01), (2, 0.0)], FPS)
    # THEN each lasts its narration rounded up to frames (at least one), end to end
    assert [s.frames for s in timeline.spans] == [30, 31, 1]
    assert timeline.start_seconds() == [0.0, 1.0, pytest.approx(61 / 30)]
    assert timeline.total_frames == 62
    assert frames_for(5.0000000001, FPS) == 150


def test_audio_sample_boundaries_are_exact_integers_without_drift():
    # GIVEN a 48 kHz track cut at frame boundaries
    # THEN frame k starts at sample k * 1600 at 30 fps, and never drifts at 24 fps either
    assert sample_at_frame(31, 30) == 31 * 1600
    assert sample_at_frame(24 * 600, 24) == 48_000 * 600


# ------------------------------------------------------------------ grouping


def test_groups_hold_one_to_four_words_break_at_punctuation_and_sit_on_the_global_timeline():
    # GIVEN two segments; the second starts at frame 45
    timeline = build_timeline([(0, 1.5), (1, 3.0)], FPS)
    first = words("Hello, world of tiny words here")
    second = words("one two three four five six", start=0.1)
    # WHEN grouped
    groups = build_caption_groups([(timeline.spans[0], first), (timeline.spans[1], second)], FPS)
    # THEN a comma ends a group, no group has more than 4 words (nor leaves a lone word), none crosses a segment
    assert [g.text for g in groups][:3] == ["Hello,", "world of tiny", "words here"]
    assert all(1 <= len(g.words) <= MAX_WORDS_PER_GROUP for g in groups)
    assert all(g.start_frame < g.end_frame for g in groups)
    # AND the first group starts on its first word's snapped start; segment 2's at 45 + its word's start
    assert groups[0].start_frame == snap_to_frame(first[0].start, FPS)
    later = [g for g in groups if g.segment_index == 1]
    assert later[0].start_frame == 45 + snap_to_frame(0.1, FPS) == 48
    assert all(45 <= g.start_frame and g.end_frame <= 135 for g in later)
    # AND groups never overlap
    assert all(a.end_frame <= b.start_frame for a, b in zip(groups, groups[1:], strict=False))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # no lone last word, and no group ending on a word that leans on the next ("a", "to", "the")
        ("and walks a figure eight", ["and walks", "a figure eight"]),
        ("robots built like bees were used to test it, then",
         ["robots built like bees", "were used", "to test it,", "then"]),  # fmt: skip
        ("How honeybees tell each other where the flowers are.", ["How honeybees tell", "each other where", "the flowers are."]),
        ("Her sisters follow closely,", ["Her sisters", "follow closely,"]),
        ("Later, robots built like bees", ["Later,", "robots built like bees"]),
        # the last word cannot join the one before it when the two would be too long for a caption
        ("a b c extraordinarily unbelievable", ["a b c extraordinarily", "unbelievable"]),
        # a number stays with the word before it
        ("Apple now sells iPhone 15 everywhere", ["Apple now sells", "iPhone 15 everywhere"]),
        ("the crew landed in 1969 after years", ["the crew landed", "in 1969 after years"]),
        ("عادت مركبة الفضاء أبولو ١١ إلى الأرض", ["عادت مركبة الفضاء", "أبولو ١١ إلى الأرض"]),
        # a Hindi sentence ends with a danda: the next one starts a new caption
        ("वह आई। मधुमक्खियाँ नाचती हैं", ["वह आई।", "मधुमक्खियाँ नाचती हैं"]),  # was "वह आई। मधुमक्खियाँ"
    ],
)
def test_a_phrase_is_grouped_with_no_lone_word_no_number_cut_off_and_no_word_leaning_on_the_next(text, expected):
    # GIVEN a phrase whose words, filled four to a group, would leave its last word alone, cut a number
    # from its word or end a group on a word that leans on the next
    timeline = build_timeline([(0, 10.0)], FPS)
    # WHEN grouped
    groups = build_caption_groups([(timeline.spans[0], words(text))], FPS)
    # THEN the groups are cut where a reader pauses; a phrase of one word (up to its punctuation) stays one group
    assert [g.text for g in groups] == expected


def test_a_long_pause_splits_a_group_and_words_beyond_the_clip_are_clamped():
    timeline = build_timeline([(0, 2.0)], FPS)
    timings = [
        WordTiming(word="before", start=0.0, end=0.3),
        WordTiming(word="after", start=1.2, end=1.5),
        WordTiming(word="late", start=1.9, end=9.0),
        WordTiming(word="  ", start=1.95, end=1.99),
    ]
    groups = build_caption_groups([(timeline.spans[0], timings)], FPS)
    assert [g.text for g in groups] == ["before", "after late"]
    assert groups[-1].end_frame == 60  # clamped to the segment's end


def test_emoji_never_reach_a_caption_and_an_emoji_only_word_is_no_caption_word():
    # GIVEN word timings with an emoji inside a word and one that is only an emoji
    timeline = build_timeline([(0, 2.0)], FPS)
    timings = [
        WordTiming(word="bees🐝", start=0.0, end=0.3),
        WordTiming(word="🌸", start=0.3, end=0.6),
        WordTiming(word="dance", start=0.6, end=0.9),
    ]
    # WHEN grouped THEN the captions (burned in, SRT, VTT) hold the words only
    groups = build_caption_groups([(timeline.spans[0], timings)], FPS)
    assert [g.text for g in groups] == ["bees dance"]


def test_highlight_bounds_are_contiguous_over_the_group():
    timeline = build_timeline([(0, 2.0)], FPS)
    group = build_caption_groups([(timeline.spans[0], words("a b c d"))], FPS)[0]
    bounds = group.highlight_bounds()
    assert bounds[0][0] == group.start_frame and bounds[-1][1] == group.end_frame
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))


# ------------------------------------------------------------------ SRT and WebVTT


def test_srt_and_vtt_are_well_formed_and_match_the_groups():
    # GIVEN groups from word timings that do not fall on frames
    timeline = build_timeline([(0, 4.0)], FPS)
    timings = words("It was <late>. Then & only then, the end.", start=0.21, step=0.37)
    groups = build_caption_groups([(timeline.spans[0], timings)], FPS)
    # WHEN written
    srt, vtt = to_srt(groups, FPS), to_vtt(groups, FPS)
    # THEN every SRT cue parses, numbered from 1, times are the groups' frames in ms
    cues = SRT_CUE.findall(srt)
    assert len(cues) == len(groups) == srt.count(" --> ")
    assert [int(c[0]) for c in cues] == list(range(1, len(groups) + 1))
    for cue, group in zip(cues, groups, strict=True):
        assert seconds(*cue[1:5]) == pytest.approx(group.start_frame / FPS, abs=0.0006)
        assert seconds(*cue[5:9]) == pytest.approx(group.end_frame / FPS, abs=0.0006)
        assert cue[9] == group.text
    assert seconds(*cues[0][1:5]) == pytest.approx(snap_to_frame(0.21, FPS) / FPS, abs=0.0006)
    # AND the WebVTT has its header, the same times with a dot, and escaped markup characters
    assert vtt.startswith("WEBVTT\n\n")
    vtt_cues = VTT_CUE.findall(vtt)
    assert [c[:8] for c in vtt_cues] == [c[1:9] for c in cues]
    assert "&lt;late&gt;." in vtt and "&amp;" in vtt and "<late>" not in vtt


# ------------------------------------------------------------------ ASS


def test_ass_escapes_braces_and_backslashes():
    assert ass_escape("{x}") == "\\{x\\}"
    escaped = ass_escape("C:\\Notes")
    assert "\\N" not in escaped and escaped.replace("\u200b", "") == "C:\\Notes"


def test_ass_events_start_on_the_right_frame_and_the_styles_differ():
    timeline = build_timeline([(0, 3.0)], FPS)
    groups = build_caption_groups([(timeline.spans[0], words("one two three", start=2 / 30, step=0.5))], FPS)
    scripts = {style: to_ass(groups, caption_layout(1080, 1920, style), FPS) for style in CaptionStyle}
    # frame 2 is 0.0667 s: floored to 0.06 so libass shows it from frame 2, not frame 3
    assert "Dialogue: 0,0:00:00.06," in scripts[CaptionStyle.bold]
    # bold: a yellow word per event; karaoke: one event with \kf summing to the group; minimal: dimmed others
    assert scripts[CaptionStyle.bold].count("Dialogue:") == 3
    assert scripts[CaptionStyle.bold].count("\\c&H0000FFFF&") == 3
    karaoke = [line for line in scripts[CaptionStyle.karaoke].splitlines() if line.startswith("Dialogue:")]
    assert len(karaoke) == 1
    kf = [int(n) for n in re.findall(r"\\kf(\d+)", karaoke[0])]
    group = groups[0]
    assert sum(kf) == group.end_frame * 100 // FPS - group.start_frame * 100 // FPS
    assert "\\1a&H68&" in scripts[CaptionStyle.minimal]
    assert len({s.split("[Events]")[0] for s in scripts.values()}) == 3  # three different style lines


def test_ass_layout_keeps_clear_of_the_bottom_quarter_and_the_right_column_on_9_16():
    layout = caption_layout(1080, 1920, CaptionStyle.bold)
    assert layout.margin_bottom >= 0.25 * 1920
    assert layout.margin_right >= 0.15 * 1080 and layout.margin_left >= 0.08 * 1080 - 1
    left, top, right, bottom = layout.safe_box
    assert (left, right, bottom) == (layout.margin_left, 1080 - layout.margin_right, 1920 - layout.margin_bottom)
    # landscape and square keep symmetric margins
    for width, height in ((1920, 1080), (1080, 1080)):
        other = caption_layout(width, height, CaptionStyle.bold)
        assert other.margin_left == other.margin_right and other.margin_bottom >= 0.1 * height


def test_a_word_too_wide_for_the_frame_gets_a_smaller_font():
    timeline = build_timeline([(0, 2.0)], FPS)
    long_word = words("Pneumonoultramicroscopicsilicovolcanoconiosis")
    groups = build_caption_groups([(timeline.spans[0], long_word)], FPS)
    layout = caption_layout(1080, 1920, CaptionStyle.bold)
    size = int(re.search(r"\\fs(\d+)", to_ass(groups, layout, FPS)).group(1))
    assert size < layout.font_size


def _burn(ass_text: str, tmp_path, name: str) -> np.ndarray:
    (tmp_path / f"{name}.ass").write_text(ass_text, encoding="utf-8")
    install_fonts(tmp_path / "fonts")
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=0x336699:s=360x640:d=1",
         "-vf", f"ass={name}.ass:fontsdir=fonts", "-ss", "0.1", "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"],
        cwd=tmp_path, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(out, np.uint8).reshape(640, 360, 3).astype(int)


def test_the_three_caption_styles_look_different_when_burned(tmp_path):
    # GIVEN one group rendered by libass in each style on a plain frame
    timeline = build_timeline([(0, 1.0)], FPS)
    groups = build_caption_groups([(timeline.spans[0], words("look at this"))], FPS)
    frames = {s: _burn(to_ass(groups, caption_layout(360, 640, s), FPS), tmp_path, s.value) for s in CaptionStyle}
    blank = _burn(to_ass([], caption_layout(360, 640, CaptionStyle.bold), FPS), tmp_path, "blank")
    # THEN each draws something, in the lower-middle, and no two styles draw the same pixels
    for frame in frames.values():
        changed = np.abs(frame - blank).sum(axis=2) > 60
        rows = np.nonzero(changed.any(axis=1))[0]
        assert changed.sum() > 200
        assert rows.min() > 0.45 * 640 and rows.max() < 0.8 * 640
    styles = list(frames.values())
    for i in range(len(styles)):
        for j in range(i + 1, len(styles)):
            assert np.abs(styles[i] - styles[j]).mean() > 0.5


# ------------------------------------------------------------------ probe parsing


def test_probe_parses_the_stream_summary_ffmpeg_prints():
    banner = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'v.mp4':
  Duration: 00:01:02.50, start: 0.000000, bitrate: 921 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 1080x1920 [SAR 1:1 DAR 9:16], 918 kb/s, 30 fps, 30 tbr, 15360 tbn (default)
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 192 kb/s (default)
"""  # noqa: E501
    info = parse_ffmpeg_banner(banner)
    assert (info.width, info.height, info.video_codec, info.video_profile) == (1080, 1920, "h264", "High")
    assert (info.pix_fmt, info.fps, info.duration_seconds) == ("yuv420p", 30.0, 62.5)
    assert (info.audio_codec, info.audio_sample_rate, info.audio_channels) == ("aac", 48000, 2)


# ------------------------------------------------------------------ scripts: CJK, right-to-left


def test_a_chinese_phrase_is_highlighted_word_by_word_timed_by_length_and_joined_without_spaces():
    # GIVEN Chinese narration timed as one token (speech engines see no spaces)
    timeline = build_timeline([(0, 6.4)], FPS)
    phrase = [WordTiming(word="蜜蜂用舞蹈告诉同伴花在哪里。它们飞得很远。", start=0.0, end=6.3)]
    groups = build_caption_groups([(timeline.spans[0], phrase)], FPS)
    pieces = [w for g in groups for w in g.words]
    # THEN it is highlighted a word at a time (never 方|向 or 太|阳: a fixed count of characters cut
    # words in two), in order, covering the whole phrase
    assert [w.text for w in pieces] == ["蜜蜂", "用", "舞蹈", "告诉", "同伴", "花", "在", "哪里。", "它们", "飞", "得很", "远。"]
    assert [w.start_frame for w in pieces] == sorted(w.start_frame for w in pieces)
    assert pieces[0].start_frame == 0 and pieces[-1].end_frame == snap_to_frame(6.3, FPS)
    # AND each word's time is in proportion to its characters (punctuation takes none): 2 of 19
    assert pieces[1].start_frame == snap_to_frame(6.3 * 2 / 19, FPS)
    # AND a caption has no spaces between Chinese characters; the SRT shows it that way too
    assert all(" " not in g.text for g in groups)
    assert "蜜蜂用舞蹈" in to_srt(groups, FPS)


@pytest.mark.parametrize(
    ("text", "particle"), [("其他蜜蜂看懂了舞蹈，就直接飞向花田。", "了"), ("ミツバチは複雑なダンスを踊ります。", "な")]
)
def test_no_caption_starts_with_a_particle_that_belongs_to_the_word_before_it(text, particle):
    # GIVEN Chinese or Japanese narration with a particle that leans on the word before it (看懂了, ミツバチは)
    timeline = build_timeline([(0, 6.0)], FPS)
    groups = build_caption_groups([(timeline.spans[0], [WordTiming(word=text, start=0.0, end=5.5)])], FPS)
    # THEN no caption starts with it (one started "了舞蹈，")
    assert particle in "".join(g.text for g in groups)
    assert not any(g.words[0].text == particle for g in groups), [g.text for g in groups]


def test_a_japanese_caption_goes_phrase_by_phrase_each_word_with_its_particles():
    # GIVEN Japanese narration timed as one token, with a number in it
    timeline = build_timeline([(0, 6.0)], FPS)
    text = "ミツバチは複雑なダンスで互いに伝え合います。2024年の研究です。"
    groups = build_caption_groups([(timeline.spans[0], [WordTiming(word=text, start=0.0, end=5.5)])], FPS)
    # THEN each highlighted piece is a phrase, a word with the particles and endings that lean on it (ICU's
    # words gave 伝え|合|い|ます), and a number is never cut (2024 stays whole)
    pieces = [w.text for g in groups for w in g.words]
    assert pieces == ["ミツバチは", "複雑な", "ダンスで", "互いに", "伝え合います。", "2024年の", "研究です。"]
    assert all(" " not in g.text for g in groups) and "".join(pieces) == text


def test_a_thai_narration_is_captioned_a_few_words_at_a_time_parted_where_its_spaces_are():
    # GIVEN Thai narration as a speech engine times it: one token per phrase (Thai puts spaces between
    # phrases, none between words), 9 and 8 words
    timeline = build_timeline([(0, 9.0)], FPS)
    timings = [
        WordTiming(word="ผึ้งสื่อสารกันด้วยการเต้นรำที่ซับซ้อน", start=0.0, end=4.5),
        WordTiming(word="เมื่อผึ้งงานพบแหล่งดอกไม้ที่ดี", start=4.7, end=8.7),
    ]
    # WHEN its captions are grouped
    groups = build_caption_groups([(timeline.spans[0], timings)], FPS)
    # THEN each caption shows a few words (it showed a whole phrase, highlighted as one word), no caption
    # runs across the space between phrases, and the words are written together as Thai is
    assert [len(g.words) for g in groups] == [3, 3, 3, 4, 4]
    assert [g.text for g in groups[:2]] == ["ผึ้งสื่อสารกัน", "ด้วยการเต้นรำ"]
    assert "".join(g.text for g in groups) == "".join(t.word for t in timings)
    # AND the highlighted word moves on as it is spoken, within its phrase's time
    first = groups[0].words
    assert first[0].start_frame == 0 and 0 < first[1].start_frame < first[2].start_frame < groups[1].start_frame
    assert groups[3].start_frame == snap_to_frame(4.7, FPS)


def test_a_caption_line_holding_two_thai_phrases_keeps_the_space_between_them_and_breaks_there():
    from faceless.media.captions import CaptionGroup, CaptionWord, break_lines, caption_layout, word_gaps

    # GIVEN a caption of two Thai phrases: the second's words written together, a space before it
    words = [
        CaptionWord(text="ผึ้ง", start_frame=0, end_frame=5), CaptionWord(text="สื่อสาร", start_frame=5, end_frame=10, glued=True),
        CaptionWord(text="เมื่อ", start_frame=10, end_frame=15), CaptionWord(text="ผึ้งงาน", start_frame=15, end_frame=20, glued=True),
    ]  # fmt: skip
    group = CaptionGroup(segment_index=0, words=words, start_frame=0, end_frame=20)
    # THEN its text keeps the space between the phrases only
    assert group.text == "ผึ้งสื่อสาร เมื่อผึ้งงาน"
    # AND when the line must break in two, it breaks at that space
    layout = caption_layout(1080, 1920, CaptionStyle.bold)
    narrow = layout.model_copy(update={"width": 420})
    lines, _ = break_lines([w.text for w in words], narrow, word_gaps(words))
    assert lines == [[0, 1], [2, 3]]


def test_each_word_is_set_in_the_face_of_its_script(tmp_path):
    from faceless.media.fonts import prepare_fonts
    from faceless.media.scripts import Script, language_script, text_script
    from faceless.media.captions import caption_texts

    assert language_script("zh") is Script.sc and language_script("zh-TW") is Script.tc
    assert language_script("ja") is Script.jp and language_script("ko") is Script.kr
    assert language_script("ar") is Script.arabic and language_script("he") is Script.hebrew
    assert language_script("pt-BR") is Script.latin and language_script("ru") is Script.cyrillic
    assert text_script("漢字", "ja") is Script.jp and text_script("2024", "ar") is Script.arabic
    # GIVEN an Arabic caption with a Latin brand name in it
    timeline = build_timeline([(0, 2.0)], FPS)
    groups = build_caption_groups([(timeline.spans[0], words("النحل يحب AWS"))], FPS)
    fonts = prepare_fonts(tmp_path / "fonts", caption_texts(groups), "ar")
    script = to_ass(groups, caption_layout(1080, 1920, CaptionStyle.bold, fonts), FPS)
    # THEN the style's face is the Arabic one, and the Latin word switches to Anton
    assert "Style: Caption,Faceless ARABIC," in script
    assert "\\fnAnton" in script and "\\fnFaceless ARABIC" in script
    # AND the fonts folder holds Anton and a small cut of Noto Sans Arabic, named for libass
    names = sorted(p.name for p in (tmp_path / "fonts").iterdir())
    assert names[0] == "Anton-Regular.ttf" and names[1].startswith("Faceless-arabic-")
    assert (tmp_path / "fonts" / names[1]).stat().st_size < 60_000


@pytest.mark.parametrize(
    ("language", "text", "script"),
    [("el", "μέλισσες", "greek"), ("hi", "मधुमक्खियाँ", "devanagari"), ("mr", "मधमाश्या", "devanagari"),
     ("bn", "মৌমাছি", "bengali"), ("ta", "தேனீக்கள்", "tamil"), ("te", "తేనెటీగలు", "telugu"),
     ("th", "ผึ้ง", "thai"), ("lo", "ເຜິ້ງ", "lao"), ("km", "ឃ្មុំ", "khmer"), ("my", "ပျားများ", "myanmar"),
     ("am", "ንቦች", "ethiopic")],
)
def test_scripts_anton_lacks_get_a_noto_face_of_their_own(tmp_path, language, text, script):
    from fontTools.ttLib import TTFont

    from faceless.media.fonts import prepare_fonts
    from faceless.media.scripts import Script, language_script, text_script

    # GIVEN a word in a script Anton has no glyphs for (before, it fell to Anton: boxes on screen)
    # THEN the language and the word both choose that script's face
    assert language_script(language) is Script(script) and text_script(text, "en") is Script(script)
    # AND the face cut for the captions draws every character of the word, marks included
    fonts = prepare_fonts(tmp_path / "fonts", [text], language)
    cut = TTFont(str(fonts.faces[Script(script)].path)).getBestCmap()
    assert all(ord(char) in cut for char in text)


@pytest.mark.parametrize(
    ("text", "language", "refused"),
    [("ფუტკრები ცეკვავენ", "ka", "Georgian"), ("Bees dance", "hy", "Armenian"), ("He said ગુજરાતી", "en", "Gujarati"), ("ދިވެހި", "dv", "Thaana"), ("ܫܠܡܐ", "syr", "Syriac"),
     ("मधुमक्खियाँ नाचती हैं", "hi", None), ("Οι μέλισσες", "el", None), ("Những con ong", "vi", None),
     ("蜜蜂跳舞", "zh", None), ("Пчёлы", "ru", None), ("ንቦች", "am", None), ("Bees dance 🐝 — 100%", "en", None)],
)
def test_text_no_caption_face_draws_is_refused_naming_its_script(text, language, refused):
    from faceless.errors import InvalidRequestError
    from faceless.media.scripts import check_captions_drawable

    if refused is None:
        check_captions_drawable(text, language)  # drawn with real glyphs: accepted
    else:
        with pytest.raises(InvalidRequestError, match=f"captions cannot be drawn in {refused} script"):
            check_captions_drawable(text, language)


def test_a_thai_cut_keeps_what_harfbuzz_decomposes_sara_am_into(tmp_path):
    from fontTools.ttLib import TTFont

    from faceless.media.fonts import prepare_fonts
    from faceless.media.scripts import Script

    # GIVEN a Thai word with SARA AM (U+0E33), which HarfBuzz draws as NIKHAHIT + SARA AA
    fonts = prepare_fonts(tmp_path / "fonts", ["รำ"], "th")
    cut = TTFont(str(fonts.faces[Script.thai].path)).getBestCmap()
    # THEN the cut face maps those two as well (without them libass drew a missing-glyph box)
    assert {0x0E33, 0x0E4D, 0x0E32} <= set(cut)


@pytest.mark.parametrize(
    ("text", "shouted"),
    [("Οι μέλισσες χορεύουν", "ΟΙ ΜΕΛΙΣΣΕΣ ΧΟΡΕΥΟΥΝ"), ("τσάι", "ΤΣΑΪ"), ("άυλος", "ΑΫΛΟΣ"), ("Μαΐου", "ΜΑΪΟΥ"),
     ("Ἀθῆναι", "ΑΘΗΝΑΙ"), ("ευχαριστώ", "ΕΥΧΑΡΙΣΤΩ"), ("été", "ÉTÉ"), ("Größe", "GRÖSSE"), ("3 μέρες!", "3 ΜΕΡΕΣ!")],
)
def test_capitals_follow_greek_typesetting_and_keep_other_accents(text, shouted):
    from faceless.media.captions import shout

    # Greek capitals carry no accents; a dropped one that kept two vowels apart becomes a diaeresis
    assert shout(text) == shouted


def test_a_caption_takes_at_most_two_balanced_lines_that_fit():
    from faceless.media.captions import break_lines

    layout = caption_layout(1080, 1920, CaptionStyle.bold)
    lines, scale = break_lines(["HONEYBEES", "DANCE", "TO", "TELL"], layout)
    assert len(lines) == 2 and scale == 1.0
    assert sum(len(line) for line in lines) == 4
    lines, scale = break_lines(["EXTRAORDINARILY", "INCOMPREHENSIBLE", "CHARACTERISTICS", "NOTWITHSTANDING"], layout)
    assert len(lines) == 2 and scale < 1.0


@pytest.mark.parametrize(
    "caption, expected",
    [
        ("TELLS THE DISTANCE,", "TELLS / THE DISTANCE,"),  # not "TELLS THE / DISTANCE,"
        ("VOTES WITH ITS FEET.", "VOTES / WITH ITS FEET."),  # not "VOTES WITH / ITS FEET."
        ("IT SWARMS, THEN LEAVES", "IT SWARMS, / THEN LEAVES"),  # after the comma
        ("NEARLY 12 500 BEES", "NEARLY / 12 500 BEES"),  # not "NEARLY 12 / 500 BEES"
        ("SOME SIXTY THOUSAND", "SOME / SIXTY THOUSAND"),  # not "SOME SIXTY / THOUSAND"
        ("A RICH PATCH RETURNS", "A RICH PATCH / RETURNS"),  # no boundary a list can see: the balanced split
    ],
)
def test_a_two_line_caption_breaks_where_a_reader_pauses(caption, expected):
    from faceless.media.captions import break_lines

    # GIVEN a caption too wide for one line in the bold 9:16 style
    words_ = caption.split()
    layout = caption_layout(1080, 1920, CaptionStyle.bold)
    # WHEN it is broken into lines
    lines, scale = break_lines(words_, layout)
    # THEN it takes two lines at full size, parted after punctuation or before a word that opens a phrase,
    # never inside a number, and balanced where no such place fits
    assert scale == 1.0
    assert " / ".join(" ".join(words_[i] for i in line) for line in lines) == expected


def test_a_cue_that_starts_against_the_videos_direction_is_marked_with_the_videos_direction():
    # GIVEN captions where one cue starts with a Latin name and the next with an Arabic word
    timeline = build_timeline([(0, 4.0)], FPS)
    timings = words("Apple شركة أمريكية. تأسست عام 1976.", start=0.2, step=0.4)
    groups = build_caption_groups([(timeline.spans[0], timings)], FPS)
    # WHEN written as SRT and WebVTT for a right-to-left (Arabic) video
    for text in (to_srt(groups, FPS, right_to_left=True), to_vtt(groups, FPS, right_to_left=True)):
        lines = text.splitlines()
        # THEN the Latin-led cue starts with a RIGHT-TO-LEFT MARK (players take a cue's direction from its
        # first strong letter), and the Arabic-led one is left as it is
        assert "\u200fApple شركة أمريكية." in lines
        assert "تأسست عام 1976." in lines
    # AND for a left-to-right video it is the Arabic-led cue that gets a LEFT-TO-RIGHT MARK
    for text in (to_srt(groups, FPS), to_vtt(groups, FPS)):
        lines = text.splitlines()
        assert "Apple شركة أمريكية." in lines
        assert "\u200eتأسست عام 1976." in lines
