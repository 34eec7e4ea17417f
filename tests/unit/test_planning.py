"""Planning: decisions taken before any paid call."""

from __future__ import annotations

import pytest

from faceless.models import OptimizationLevel, VideoRequest
from faceless.planning import make_plan
from faceless.settings import Settings


@pytest.mark.parametrize(
    ("seconds", "level", "segments", "bible"),
    [(15, "ultra_fast", 3, False), (30, "ultra_fast", 6, False), (60, "balanced", 12, False), (90, "quality", 18, True), (180, "quality", 36, True)],
)
def test_auto_level_segments_and_bible_follow_the_duration(seconds, level, segments, bible):
    # GIVEN a topic request of a given length at level auto
    plan = make_plan(VideoRequest(topic="volcanoes", duration_seconds=seconds), Settings())
    # THEN the level, one segment per ~5 s and the Bible rule follow DESIGN §1
    assert plan.level == OptimizationLevel(level)
    assert plan.segment_count == segments
    assert plan.use_bible is bible
    assert plan.target_words == round(seconds * 2.6)


@pytest.mark.parametrize(("fmt", "size"), [("9:16", (1080, 1920)), ("1:1", (1080, 1080)), ("16:9", (1920, 1080))])
def test_sizes_follow_the_format(fmt, size):
    plan = make_plan(VideoRequest(topic="volcanoes", format=fmt), Settings())
    assert (plan.width, plan.height) == size


def test_a_users_script_sets_length_and_level():
    # GIVEN a 200-word script (about 77 s of narration) with the default 30 s duration
    plan = make_plan(VideoRequest(script="word " * 200), Settings())
    # THEN the plan follows the script, not the default duration
    assert plan.target_words == 200
    assert plan.level == OptimizationLevel.quality
    assert plan.segment_count == 15


def test_music_choice_and_concurrency_come_through():
    assert make_plan(VideoRequest(topic="volcanoes", music="off"), Settings()).music_mood is None
    assert make_plan(VideoRequest(topic="volcanoes", music="on"), Settings()).music_mood == "calm"
    assert make_plan(VideoRequest(topic="volcanoes", music="dramatic"), Settings(max_concurrency=3)).max_concurrency == 3


def test_a_chinese_script_without_spaces_is_sized_by_its_characters():
    # GIVEN a Chinese script of 168 characters and no spaces (about 30 s read aloud)
    script = "蜜蜂用舞蹈告诉同伴花在哪里，舞蹈的方向指向太阳。" * 7
    # WHEN the job is planned
    plan = make_plan(VideoRequest(script=script, language="zh"), Settings())
    # THEN it counts about one spoken word per two characters, and gets one picture per ~5 s,
    # not one picture for the whole narration (as a single "word" between spaces would)
    assert plan.target_words == 77
    assert plan.segment_count == 6


def test_a_thai_script_is_sized_by_its_words_not_its_phrases():
    # GIVEN a Thai script: 16 phrases parted by spaces, 164 words in all (Thai puts no space between words)
    phrases = [
        "ผึ้งสื่อสารกันด้วยการเต้นรำที่ซับซ้อน", "เมื่อผึ้งงานพบแหล่งดอกไม้ที่ดี", "มันจะกลับไปที่รังและเต้นเป็นรูปเลขแปด",
        "ทิศทางของการเต้นบอกทิศทางของดอกไม้เทียบกับดวงอาทิตย์",
    ]
    script = " ".join(phrases * 4)
    # WHEN the job is planned
    plan = make_plan(VideoRequest(script=script, language="th"), Settings())
    # THEN it counts its words and gets a picture per few seconds, not one picture for four phrases
    assert plan.target_words == 4 * (9 + 8 + 12 + 12)
    assert plan.segment_count >= 8
