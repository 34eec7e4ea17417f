"""Refine: dedupe and multi-subject fixes pay tokens only where needed; prompts merge by template."""

from __future__ import annotations

import pytest

from faceless.agents import prompts
from faceless.agents.dedupe import find_duplicates
from faceless.agents.refine import merge_prompt, refine
from faceless.agents.subjects import multi_subject_segments
from faceless.models import ArtStyle, CharacterSheet, Context, Segment, Shot, VideoRequest, VisualBible
from faceless.providers.llm.tokens import count_text_tokens
from tests.unit.fakes_llm import FakeLanguageModel, make_plan

FOX = "a red fox running through snowy forest at dawn"
FOX_AGAIN = "a red fox running through a snowy forest at dawn"  # 0.98 similar
LIGHTHOUSE = "an old lighthouse on a rocky cliff during a storm"
LIGHTHOUSE_NEAR = "an old lighthouse on a rocky coast during a storm at night"  # 0.84 similar
MARKET = "a busy market street in Marrakesh at noon"
RAMEN = "a bowl of ramen on a wooden table"
REQUEST = VideoRequest(topic="a few scenes", art_style=ArtStyle.cinematic)


def segs(*visual_prompts: str, texts: list[str] | None = None) -> list[Segment]:
    texts = texts or [f"Narration piece {i}." for i in range(len(visual_prompts))]
    return [Segment(index=i, text=t, visual_prompt=p, shot=Shot.medium) for i, (p, t) in enumerate(zip(visual_prompts, texts))]


def rewrite_each(request) -> dict:
    return {"items": [{"i": item["i"], "p": f"rewritten {item['i']}"} for item in request.inputs["items"]]}


def test_no_similar_pair_means_no_call():
    # GIVEN distinct prompts and no two people named anywhere
    llm = FakeLanguageModel()  # any call would fail the test
    segments, usage = refine(llm, segs(FOX, LIGHTHOUSE, MARKET, RAMEN), Context(), None, REQUEST, make_plan())
    assert llm.requests == [] and usage == []
    assert all(s.reuse_image_of is None for s in segments)
    assert all(s.image_prompt.startswith(s.visual_prompt) for s in segments)


def test_near_identical_prompts_reuse_one_image_without_a_call():
    llm = FakeLanguageModel()
    segments, usage = refine(llm, segs(FOX, MARKET, FOX_AGAIN, RAMEN), Context(), None, REQUEST, make_plan())
    assert [s.reuse_image_of for s in segments] == [None, None, 0, None]
    assert llm.requests == [] and usage == []


def test_only_the_similar_pair_goes_to_the_llm_in_one_call():
    # GIVEN one pair between 0.8 and 0.95 among four prompts
    llm = FakeLanguageModel({prompts.DEDUPE: rewrite_each})
    segments, usage = refine(llm, segs(MARKET, LIGHTHOUSE, RAMEN, LIGHTHOUSE_NEAR), Context(), None, REQUEST, make_plan())
    # THEN one dedupe call carries exactly segments 1 and 3, and their prompts are replaced
    (sent,) = llm.requests
    assert sent.agent == "dedupe"
    assert [item["i"] for item in sent.inputs["items"]] == [1, 3]
    assert "i=1 |" in sent.messages[1].content and "i=0 |" not in sent.messages[1].content
    assert count_text_tokens(sent.messages[0].content) <= 120
    assert [s.visual_prompt for s in segments] == [MARKET, "rewritten 1", RAMEN, "rewritten 3"]
    assert [u.agent for u in usage] == ["dedupe"]


def test_the_similar_pair_is_left_alone_when_the_plan_forbids_the_call():
    llm = FakeLanguageModel()
    segments, usage = refine(llm, segs(LIGHTHOUSE, LIGHTHOUSE_NEAR), Context(), None, REQUEST, make_plan(dedupe_with_llm=False))
    assert llm.requests == [] and usage == []
    assert [s.visual_prompt for s in segments] == [LIGHTHOUSE, LIGHTHOUSE_NEAR]


def test_rewrites_for_segments_not_sent_are_ignored():
    llm = FakeLanguageModel({prompts.DEDUPE: {"items": [{"i": 0, "p": "sneaky"}, {"i": 1, "p": "ok"}, {"i": 9, "p": "x"}]}})
    segments, _ = refine(llm, segs(MARKET, LIGHTHOUSE, LIGHTHOUSE_NEAR), Context(), None, REQUEST, make_plan())
    assert [s.visual_prompt for s in segments] == [MARKET, "ok", LIGHTHOUSE_NEAR]


def test_a_reused_segment_takes_no_part_in_near_pairs():
    found = find_duplicates(segs(FOX, FOX_AGAIN, MARKET))
    assert found.reuse == {1: 0} and found.near_pairs == []


# --------------------------------------------------------------------------- multi-subject


TEXTS = [
    "Neil Armstrong and Buzz Aldrin walked on the Moon.",
    "Armstrong planted the flag.",
    "Collins waited in orbit while Aldrin took photos.",
    "The world watched.",
]
CONTEXT = Context(era="1960s", region="the Moon", people=["Neil Armstrong", "Buzz Aldrin", "Michael Collins"])


def test_only_segments_naming_two_or_more_people_go_to_the_subject_fix():
    segments = segs(FOX, LIGHTHOUSE, MARKET, RAMEN, texts=TEXTS)
    assert multi_subject_segments(segments, CONTEXT) == {
        0: ["Neil Armstrong", "Buzz Aldrin"],
        2: ["Buzz Aldrin", "Michael Collins"],
    }
    llm = FakeLanguageModel({prompts.SUBJECTS: rewrite_each})
    fixed, usage = refine(llm, segments, CONTEXT, None, REQUEST, make_plan())
    (sent,) = llm.requests
    assert sent.agent == "subjects"
    assert [(item["i"], item["who"]) for item in sent.inputs["items"]] == [
        (0, ["Neil Armstrong", "Buzz Aldrin"]),
        (2, ["Buzz Aldrin", "Michael Collins"]),
    ]
    assert count_text_tokens(sent.messages[0].content) <= 120
    assert [s.visual_prompt for s in fixed] == ["rewritten 0", LIGHTHOUSE, "rewritten 2", RAMEN]
    assert [u.agent for u in usage] == ["subjects"]


def test_names_found_by_the_heuristic_count_even_when_the_context_missed_them():
    segments = segs(FOX, texts=["Marie Curie worked with Pierre Curie in Paris."])
    assert multi_subject_segments(segments, Context()) == {0: ["Marie Curie", "Pierre Curie"]}


def test_one_person_means_no_subject_call():
    llm = FakeLanguageModel()
    refine(llm, segs(FOX, MARKET, texts=TEXTS[1:3:2] + ["Nobody here."]), Context(people=["Neil Armstrong"]), None, REQUEST, make_plan())
    assert llm.requests == []


# --------------------------------------------------------------------------- merge by template


def test_merge_puts_prompt_shot_setting_looks_style_consistency_and_avoid_together():
    bible = VisualBible(
        characters=[CharacterSheet(name="Neil Armstrong", look="38-year-old man, white spacesuit"), CharacterSheet(name="Buzz Aldrin", look="man, gold visor")],
        setting="lunar surface",
        palette="grey, black, white",
    )
    context = Context(era="1960s", region="the Moon", people=["Neil Armstrong"], avoid=["no modern phones", "logos"])
    segment = Segment(index=0, text="Armstrong planted the flag.", visual_prompt="an astronaut planting a flag.", shot=Shot.close_up)
    merged = merge_prompt(segment, context, bible, VideoRequest(topic="moon", art_style=ArtStyle.anime))
    assert merged == (
        "an astronaut planting a flag, close-up, set in the Moon, 1960s, Neil Armstrong: 38-year-old man, white spacesuit, "
        f"palette: grey, black, white, {prompts.ART_STYLES[ArtStyle.anime]}, {prompts.CONSISTENCY[ArtStyle.anime]}, "
        "no modern phones, no logos"
    )


@pytest.mark.parametrize("style", list(ArtStyle))
def test_every_style_has_short_style_and_consistency_templates(style):
    assert 10 <= count_text_tokens(prompts.ART_STYLES[style]) <= 25
    assert 10 <= count_text_tokens(prompts.CONSISTENCY[style]) <= 25


@pytest.mark.parametrize(
    "system",
    [
        prompts.STORYTELLER_SYSTEM,
        prompts.CONTEXT_SYSTEM,
        prompts.CONTEXT_LIGHT_SYSTEM,
        prompts.DIRECTOR_SYSTEM,
        prompts.BIBLE_SYSTEM,
        prompts.DEDUPE_SYSTEM,
        prompts.SUBJECTS_SYSTEM,
    ],
)
def test_system_prompts_are_compact(system):
    assert count_text_tokens(system) <= 120
