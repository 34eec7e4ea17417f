"""Request validation: bad input is refused with a message that names the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from faceless.models import OptimizationLevel, VideoFormat, VideoRequest


def error_text(**fields) -> str:
    with pytest.raises(ValidationError) as caught:
        VideoRequest(**fields)
    return str(caught.value)


def test_a_valid_request_gets_defaults():
    request = VideoRequest(topic="  how tides work  ")
    assert request.topic == "how tides work"
    assert (request.duration_seconds, request.format, request.optimization_level) == (30, VideoFormat.vertical, OptimizationLevel.auto)


@pytest.mark.parametrize("seconds", [0, 14, 181, 600])
def test_duration_out_of_range_is_refused_naming_the_field(seconds):
    assert "duration_seconds" in error_text(topic="tides", duration_seconds=seconds)


@pytest.mark.parametrize("seconds", [15, 180])
def test_duration_bounds_are_accepted(seconds):
    assert VideoRequest(topic="tides", duration_seconds=seconds).duration_seconds == seconds


@pytest.mark.parametrize("value", ["4:3", "vertical", "9x16", ""])
def test_an_unknown_format_is_refused_naming_the_field(value):
    message = error_text(topic="tides", format=value)
    assert "format" in message and "9:16" in message


def test_topic_and_script_together_are_refused_naming_both():
    message = error_text(topic="tides", script="The tide rises twice a day along most coasts.")
    assert "'topic'" in message and "'script'" in message


def test_neither_topic_nor_script_is_refused():
    assert "exactly one of 'topic' or 'script'" in error_text()
    assert "exactly one of 'topic' or 'script'" in error_text(topic="   ")  # blank counts as missing


@pytest.mark.parametrize(("field", "value"), [("language", "english"), ("art_style", "oil"), ("optimization_level", "max"), ("script", "too short")])
def test_other_bad_fields_are_refused_naming_the_field(field, value):
    fields = {"topic": "tides"} if field != "script" else {}
    assert field in error_text(**fields, **{field: value})


def test_unknown_fields_are_refused():
    assert "colour" in error_text(topic="tides", colour="red")


@pytest.mark.parametrize(
    ("field", "value"),
    [("topic", "🐝🐝🐝"), ("topic", "???"), ("script", "!!! ??? ... --- *** ### @@@ %%%% ^^^ &&&"), ("script", "😀 🐝 🌸 " * 10)],
)
def test_a_topic_or_script_with_nothing_to_say_is_refused_naming_it(field, value):
    # GIVEN a topic or script of symbols, punctuation or emoji only WHEN validated THEN the field is named, and why
    message = error_text(**{field: value})
    assert field in message and "has no words" in message


CHINESE_SENTENCE = "蜜蜂用舞蹈告诉同伴花在哪里，舞蹈的方向指向太阳。"  # 24 characters (22 of them words), no spaces


def test_a_chinese_script_longer_than_three_minutes_is_refused_though_it_has_no_spaces():
    # GIVEN a Chinese script of 1,200 characters in one unbroken run (about 550 spoken words, 3.5 min)
    script = CHINESE_SENTENCE * 50
    # WHEN it is requested, THEN it is refused naming the field and the limit, as a long English one is
    message = error_text(script=script, language="zh")
    assert "script" in message and "180 s" in message and "550 spoken words" in message


def test_a_chinese_script_within_three_minutes_is_accepted():
    script = CHINESE_SENTENCE * 20  # 480 characters, about 220 spoken words
    assert VideoRequest(script=script, language="zh").script == script
