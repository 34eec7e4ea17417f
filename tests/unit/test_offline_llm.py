"""The offline language model: deterministic, honest (no invented facts), exact token usage."""

from __future__ import annotations

import re

import pytest

from faceless.agents import prompts
from faceless.agents.bible import write_bible
from faceless.agents.call import build_request
from faceless.agents.context import analyse_context
from faceless.agents.dedupe import similarity
from faceless.agents.director import direct
from faceless.agents.drafts import PromptFixes, StoryDraft
from faceless.agents.refine import refine
from faceless.agents.storyteller import script_from_user, target_words, write_script
from faceless.agents.text import covers, word_count
from faceless.errors import ProviderRejectedError
from faceless.models import Context, Script, Segment, Shot, VideoRequest
from faceless.providers.base import LanguageModel
from faceless.providers.llm.offline import OfflineLanguageModel, find_era, find_region
from faceless.providers.llm.tokens import count_chat_tokens, count_text_tokens
from tests.unit.fakes_llm import make_plan

LLM = OfflineLanguageModel()
HISTORY = (
    "In July 1969, Neil Armstrong and Buzz Aldrin landed in the Sea of Tranquility while Michael Collins "
    "orbited above. Back in the United States, millions watched. Armstrong spoke first. Aldrin followed."
)


def test_it_is_a_language_model():
    model: LanguageModel = LLM  # the port is a (non-runtime) Protocol: check its members
    assert callable(model.complete) and (model.name, model.model) == ("offline", "faceless-offline-1")


@pytest.mark.parametrize("seconds", [15, 30, 60, 120, 180])
def test_storyteller_writes_a_labelled_outline_near_the_target_without_facts(seconds):
    # GIVEN a topic and a duration
    topic = "the Apollo 11 moon landing"
    words = target_words(seconds)
    request = VideoRequest(topic=topic, duration_seconds=seconds)
    # WHEN the offline storyteller writes
    script, usage = write_script(LLM, request, make_plan(target_words=words))
    # THEN it is plainly an outline, near the target length, with no digits that are not in the topic
    assert script.narration.startswith(f"This is an outline on the topic: {topic}.")
    assert abs(word_count(script.narration) - words) <= max(6, 0.1 * words)
    assert set(re.findall(r"\d+", script.narration)) <= {"11"}
    assert script.title == "The Apollo 11 moon landing: an outline"
    assert script.hashtags == ["#Apollo", "#Moon", "#Landing", "#Outline"]
    # AND usage is exact: the prompt's tokens, and the tokens of the JSON it answered
    (one,) = usage
    assert (one.provider, one.model, one.agent) == ("offline", "faceless-offline-1", "storyteller")
    system = prompts.STORYTELLER_SYSTEM
    assert one.prompt_tokens > count_text_tokens(system)
    assert one.completion_tokens >= count_text_tokens(script.narration)


def test_the_outlines_description_quotes_the_topic_as_typed_and_stays_short():
    # GIVEN a topic typed as a question with a capital, and one far too long for a description
    question = "How honeybees tell each other where the flowers are?"
    long_topic = "the history of " + "very " * 50 + "old bridges"  # 276 characters: within the 300 a topic may take
    for topic, shown in ((question, "How honeybees tell each other where the flowers are"), (long_topic, None)):
        # WHEN the offline storyteller writes its outline
        script, _ = write_script(LLM, VideoRequest(topic=topic), make_plan(target_words=40))
        # THEN the description names the topic in quotes, as typed (not "about How honeybees..."), the
        # quote closed even when the topic is cut, within the 200 characters a description may take
        assert script.description.startswith("An outline narration on “")
        assert script.description.count("“") == script.description.count("”") == 1
        assert script.description.endswith("its structure only, written offline, no facts added.")
        assert len(script.description) <= 200
        if shown:
            assert f"“{shown}”" in script.description


@pytest.mark.parametrize(
    "topic, hashtags",
    [
        ("Things you need to know about black holes", ["#Black", "#Holes"]),  # not #Need #Know
        ("Why we never use more than ten percent of our brain", ["#Ten", "#Percent", "#Brain"]),  # not #Never #Use
        ("The first three days of the new Roman empire", ["#Days", "#Roman", "#Empire"]),  # not #New
    ],
)
def test_hashtags_name_the_subject_not_the_common_words_around_it(topic, hashtags):
    # GIVEN a topic phrased the way people type them, with common verbs and adverbs around the subject
    # WHEN the offline storyteller writes its outline
    script, _ = write_script(LLM, VideoRequest(topic=topic), make_plan(target_words=40))
    # THEN its hashtags are the subject's words (the same stop-words the picture cards leave out)
    assert script.hashtags == [*hashtags, "#Outline"]


def test_usage_counts_match_the_tokenizer_exactly():
    request = build_request(
        agent=prompts.STORYTELLER, system="rules", user="Topic: tides", schema=StoryDraft,
        inputs={"topic": "tides", "words": 40, "language": "en"}, max_tokens=200, temperature=0.7,
    )
    completion = LLM.complete(request)
    assert completion.usage.prompt_tokens == count_chat_tokens(request.messages)
    assert completion.usage.completion_tokens == count_text_tokens(completion.value.model_dump_json())


def test_it_is_deterministic():
    request = VideoRequest(topic="how tides work", duration_seconds=45)
    first, _ = write_script(LLM, request, make_plan(target_words=117))
    second, _ = write_script(LLM, request, make_plan(target_words=117))
    assert first == second


def test_context_reports_only_what_the_text_says():
    script = Script(title="t", description="d", narration=HISTORY, source="user")
    context, usage = analyse_context(LLM, script, make_plan(context_detail="full"))
    assert context.era == "1960s" and context.region == "United States"
    assert context.people == ["Neil Armstrong", "Buzz Aldrin", "Michael Collins"]
    assert context.avoid == [] and usage[0].agent == "context"
    # and nothing when nothing is written
    bare = Script(title="t", description="d", narration="The tide rises and falls twice a day.", source="user")
    light, _ = analyse_context(LLM, bare, make_plan(context_detail="light"))
    assert (light.era, light.region, light.people) == ("", "", [])


def test_era_and_region_come_only_from_literal_mentions():
    assert find_era("From 1914 to 1918, and again in 1939.") == "1910s–1930s"
    assert find_era("Life in the 18th century was hard.") == "18th century"
    assert find_era("They sold 2500 units for 1,999 dollars.") == ""  # not years
    assert find_region("A trip from South Africa to Kenya.") == "South Africa"
    assert find_region("the moon and the sea") == ""


def test_director_prompts_come_from_each_piece_and_shots_vary():
    script = script_from_user(VideoRequest(script=HISTORY), make_plan())
    segments, usage = direct(LLM, script, make_plan(segment_count=4), VideoRequest(script=HISTORY), None)
    assert len(segments) == 4 and covers([s.text for s in segments], HISTORY)
    for segment in segments:
        prompt_words = set(re.findall(r"\w+", segment.visual_prompt.lower())) - {"scene", "of"}
        assert prompt_words <= set(re.findall(r"\w+", segment.text.lower()))  # nothing invented
    shots = [s.shot for s in segments]
    assert shots[0] is Shot.wide and all(a is not b for a, b in zip(shots, shots[1:]))
    assert usage[0].agent == "director"


def test_director_prompts_of_a_spanish_script_leave_out_spanish_common_words():
    # GIVEN a Spanish script
    text = "Cuando una abeja encuentra flores, vuelve a la colmena. Las otras abejas entienden el baile."
    request = VideoRequest(script=text, language="es")
    # WHEN the offline director draws its pictures' prompts
    segments, _ = direct(LLM, script_from_user(request, make_plan()), make_plan(segment_count=2), request, None)
    # THEN they are the pieces' content words, without "cuando", "una", "las", "otras"
    assert [segment.visual_prompt for segment in segments] == [
        "scene of abeja, flores, vuelve, colmena", "scene of abejas, entienden, baile"
    ]


def test_bible_lists_the_people_found_with_a_neutral_look():
    script = Script(title="t", description="d", narration=HISTORY, source="user")
    bible, usage = write_bible(LLM, script, make_plan(use_bible=True))
    assert [c.name for c in bible.characters] == ["Neil Armstrong", "Buzz Aldrin", "Michael Collins"]
    assert {c.look for c in bible.characters} == {"person, neutral clothing"}
    assert bible.setting == "United States, 1960s" and usage[0].agent == "bible"


def test_refine_rewrites_near_duplicates_and_places_two_people():
    texts = [
        "An old lighthouse stood on the cliff.",
        "Storms battered the coast every night.",
        "Ada Lovelace and Charles Babbage met in London.",
    ]
    segments = [
        Segment(index=0, text=texts[0], visual_prompt="an old lighthouse on a rocky cliff during a storm", shot=Shot.wide),
        Segment(index=1, text=texts[1], visual_prompt="an old lighthouse on a rocky coast during a storm at night", shot=Shot.medium),
        Segment(index=2, text=texts[2], visual_prompt="two people talking in a parlour", shot=Shot.medium),
    ]
    refined, usage = refine(LLM, segments, Context(), None, VideoRequest(topic="history"), make_plan())
    assert [u.agent for u in usage] == ["dedupe", "subjects"]
    # the near pair got each segment's own distinct words appended, and now differs more
    assert refined[0].visual_prompt == segments[0].visual_prompt + ", featuring stood"
    assert refined[1].visual_prompt == segments[1].visual_prompt + ", featuring Storms, battered"
    assert similarity(refined[0].visual_prompt, refined[1].visual_prompt) < similarity(
        segments[0].visual_prompt, segments[1].visual_prompt
    )
    assert refined[2].visual_prompt == "two people talking in a parlour, left: Ada Lovelace, right: Charles Babbage"
    assert all(s.image_prompt.startswith(s.visual_prompt) for s in refined)


def test_an_unknown_agent_is_rejected():
    request = build_request(agent="poet", system="s", user="u", schema=PromptFixes, inputs={}, max_tokens=10, temperature=0)
    with pytest.raises(ProviderRejectedError, match="poet"):
        LLM.complete(request)


def test_missing_inputs_are_rejected_not_guessed():
    request = build_request(agent=prompts.DIRECTOR, system="s", user="u", schema=PromptFixes, inputs={}, max_tokens=10, temperature=0)
    with pytest.raises(ProviderRejectedError, match="director"):
        LLM.complete(request)
