"""Context analysis, the visual director and the bible, against a fake model."""

from __future__ import annotations

from faceless.agents import prompts
from faceless.agents.bible import needs_bible, write_bible
from faceless.agents.context import analyse_context
from faceless.agents.director import direct
from faceless.agents.drafts import ContextLightDraft
from faceless.agents.text import covers
from faceless.models import ArtStyle, CharacterSheet, Script, Shot, VideoRequest, VisualBible
from faceless.providers.llm.tokens import count_text_tokens
from tests.unit.fakes_llm import FakeLanguageModel, make_plan

NARRATION = (
    "In 1969, Neil Armstrong and Buzz Aldrin landed on the Moon. Michael Collins stayed in orbit, "
    "circling alone, while the world watched on television. The landing site was called Tranquility Base. "
    "Armstrong stepped out first. Aldrin followed him a few minutes later. They planted a flag and "
    "collected rocks. Then they flew back to Collins, and all three came home. " + "The crew was celebrated. " * 10
)
SCRIPT = Script(title="t", description="d", narration=NARRATION, source="user")
REQUEST = VideoRequest(script=NARRATION, art_style=ArtStyle.watercolor)


def items(count: int) -> dict:
    return {"items": [{"p": f"prompt number {n}", "s": "close_up"} for n in range(count)]}


# --------------------------------------------------------------------------- context


def test_full_context_sends_the_narration_and_keeps_a_tidy_answer():
    llm = FakeLanguageModel(
        {prompts.CONTEXT: {"era": "1960s.", "region": "unknown", "people": ["Neil Armstrong", "neil armstrong", "Buzz Aldrin"], "avoid": ["a", "b", "c", "d", "e"]}}
    )
    context, usage = analyse_context(llm, SCRIPT, make_plan(context_detail="full"))
    (sent,) = llm.requests
    assert count_text_tokens(sent.messages[0].content) <= 120
    assert sent.messages[1].content == " ".join(NARRATION.split())
    assert context.era == "1960s" and context.region == ""
    assert context.people == ["Neil Armstrong", "Buzz Aldrin"]
    assert len(context.avoid) == 4
    assert [u.agent for u in usage] == ["context"]


def test_light_context_sends_only_the_opening_and_asks_only_era_and_region():
    # GIVEN an ultra_fast plan
    llm = FakeLanguageModel({prompts.CONTEXT: {"era": "1960s", "region": "the Moon"}})
    context, usage = analyse_context(llm, SCRIPT, make_plan(context_detail="light"))
    # THEN the call is small: ~80 words out, the two-field schema, a one-line system prompt
    (sent,) = llm.requests
    assert sent.schema_model is ContextLightDraft
    assert len(sent.messages[1].content.split()) == 80
    assert count_text_tokens(sent.messages[0].content) <= 40
    # AND the people still come, found locally for zero tokens, and nothing to avoid
    assert context.era == "1960s" and context.region == "the Moon"
    assert context.people[:3] == ["Neil Armstrong", "Buzz Aldrin", "Michael Collins"]
    assert context.avoid == [] and len(usage) == 1


# --------------------------------------------------------------------------- director


def test_director_gives_exactly_segment_count_segments_covering_the_narration():
    llm = FakeLanguageModel({prompts.DIRECTOR: items(12)})
    segments, usage = direct(llm, SCRIPT, make_plan(segment_count=12), REQUEST, None)
    assert len(segments) == 12 and [s.index for s in segments] == list(range(12))
    assert covers([s.text for s in segments], NARRATION)
    assert [s.visual_prompt for s in segments] == [f"prompt number {n}" for n in range(12)]
    assert all(s.shot is Shot.close_up for s in segments)
    # AND the model got numbered pieces (not asked to echo text back) and a short system prompt
    (sent,) = llm.requests
    assert sent.inputs["pieces"] == [s.text for s in segments]
    assert "1. In 1969" in sent.messages[1].content and "Style: watercolor" in sent.messages[1].content
    assert count_text_tokens(sent.messages[0].content) <= 120
    assert [u.agent for u in usage] == ["director"]


def test_director_never_drops_narration_when_the_model_answers_badly():
    # GIVEN a model returning too few items, blank prompts, then (another run) too many
    few = {"items": [{"p": "a lunar module on grey dust", "s": "wide"}, {"p": "   ", "s": "aerial"}]}
    llm = FakeLanguageModel({prompts.DIRECTOR: few})
    segments, _ = direct(llm, SCRIPT, make_plan(segment_count=8), REQUEST, None)
    # THEN there are still 8 segments covering everything, with prompts made from their own words
    assert len(segments) == 8 and covers([s.text for s in segments], NARRATION)
    assert segments[0].visual_prompt == "a lunar module on grey dust"
    assert segments[1].visual_prompt.startswith("scene of ") and segments[1].shot is Shot.aerial
    assert all(s.visual_prompt.strip() for s in segments)
    assert len({s.shot for s in segments[2:]}) > 1  # fallback shots vary

    llm = FakeLanguageModel({prompts.DIRECTOR: items(30)})
    segments, _ = direct(llm, SCRIPT, make_plan(segment_count=5), REQUEST, None)
    assert len(segments) == 5 and covers([s.text for s in segments], NARRATION)


def test_director_includes_a_given_bible_compactly():
    bible = VisualBible(characters=[CharacterSheet(name="Neil Armstrong", look="man, white spacesuit")], setting="Moon, 1969", palette="grey, black")
    llm = FakeLanguageModel({prompts.DIRECTOR: items(4)})
    direct(llm, SCRIPT, make_plan(segment_count=4), REQUEST, bible)
    user = llm.requests[0].messages[1].content
    assert "Bible: Neil Armstrong: man, white spacesuit; setting: Moon, 1969; palette: grey, black" in user


# --------------------------------------------------------------------------- bible


def test_bible_is_needed_only_when_the_plan_says_so():
    assert needs_bible(make_plan(use_bible=True)) and not needs_bible(make_plan(use_bible=False))


def test_write_bible_keeps_at_most_four_unique_characters():
    chars = [{"name": n, "look": "adult, plain clothes"} for n in ("A B", "a b", "C D", "E F", "G H", "I J")]
    llm = FakeLanguageModel({prompts.BIBLE: {"chars": chars, "setting": "the Moon in 1969", "palette": "grey, white"}})
    bible, usage = write_bible(llm, SCRIPT, make_plan(use_bible=True))
    assert [c.name for c in bible.characters] == ["A B", "C D", "E F", "G H"]
    assert bible.setting == "the Moon in 1969" and [u.agent for u in usage] == ["bible"]
    assert count_text_tokens(llm.requests[0].messages[0].content) <= 120
