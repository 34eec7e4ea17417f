"""Storyteller: a narration sized to the plan from a topic, or the user's script for zero tokens."""

from __future__ import annotations

import pytest

from faceless.agents import prompts
from faceless.agents.storyteller import script_from_user, target_words, write_script
from faceless.agents.text import word_count
from faceless.errors import InvalidRequestError, ProviderResponseError
from faceless.models import VideoRequest
from faceless.providers.llm.tokens import count_text_tokens
from tests.unit.fakes_llm import FakeLanguageModel, make_plan


def sentences(count: int, words_each: int = 10) -> str:
    return " ".join(" ".join(["word"] * (words_each - 1)) + f" end{i}." for i in range(count))


def story(text: str, **overrides) -> dict:
    return {"title": "The first Moon landing", "desc": "How it happened.", "tags": ["#Moon", "Apollo", "#space race"], "text": text} | overrides


def test_write_script_sends_a_compact_prompt_with_the_data_in_the_user_message():
    # GIVEN a topic in Spanish and a 78-word target
    llm = FakeLanguageModel({prompts.STORYTELLER: story(sentences(8))})
    request = VideoRequest(topic="the first Moon landing", language="es", duration_seconds=30)
    # WHEN the storyteller writes
    script, usage = write_script(llm, request, make_plan(target_words=78))
    # THEN one call was made, with a short system prompt and the topic, words and language as data
    (sent,) = llm.requests
    system, user = sent.messages
    assert system.role == "system" and count_text_tokens(system.content) <= 120
    assert "the first Moon landing" in user.content and "78" in user.content and "es" in user.content
    assert sent.inputs == {"topic": "the first Moon landing", "words": 78, "language": "es"}
    # AND the script is the model's, tidied, with its usage reported
    assert script.source == "storyteller"
    assert script.title == "The first Moon landing"
    assert script.hashtags == ["#Moon", "#Apollo", "#Spacerace"]
    assert [u.agent for u in usage] == ["storyteller"] and usage[0].prompt_tokens > 0


def test_a_narration_far_too_long_is_cut_at_a_sentence_boundary():
    # GIVEN a model that writes 200 words for a 78-word target
    llm = FakeLanguageModel({prompts.STORYTELLER: story(sentences(20))})
    script, _ = write_script(llm, VideoRequest(topic="the Moon"), make_plan(target_words=78))
    # THEN it is cut to whole sentences within 115% of the target
    assert script.narration.endswith(".")
    assert 70 <= word_count(script.narration) <= 78 * 1.15
    assert script.narration == sentences(8)


def test_a_narration_too_short_is_kept_as_it_is():
    # GIVEN a model that writes 30 words for a 78-word target: the video will just be shorter
    llm = FakeLanguageModel({prompts.STORYTELLER: story(sentences(3))})
    script, _ = write_script(llm, VideoRequest(topic="the Moon"), make_plan(target_words=78))
    assert script.narration == sentences(3)


def test_title_description_and_hashtags_are_bounded_and_topped_up():
    # GIVEN a model ignoring the limits: a long title and description, one tag, stage directions
    long_title = "An extraordinarily long title " * 5
    llm = FakeLanguageModel(
        {prompts.STORYTELLER: story("[Music] **Hello** there. " + sentences(7), title=long_title, desc="d " * 300, tags=["x"])}
    )
    script, _ = write_script(llm, VideoRequest(topic="volcanic islands of Iceland"), make_plan(target_words=78))
    assert len(script.title) <= 70 and len(script.description) <= 200
    assert 3 <= len(script.hashtags) <= 6 and all(t.startswith("#") for t in script.hashtags)
    assert script.hashtags[:3] == ["#Volcanic", "#Islands", "#Iceland"]
    assert script.narration.startswith("Hello there.")


def test_an_empty_narration_is_a_response_error_worth_retrying():
    llm = FakeLanguageModel({prompts.STORYTELLER: story("  [Music] ")})
    with pytest.raises(ProviderResponseError, match="empty narration"):
        write_script(llm, VideoRequest(topic="the Moon"), make_plan())


def test_script_from_user_needs_no_model_and_keeps_the_script_verbatim():
    # GIVEN a user's script with untidy whitespace
    text = (
        "  The   Great Barrier Reef is the largest coral reef system on Earth.\n\nCorals build the reef, "
        "and corals are tiny animals. Warming seas bleach the corals and the reef suffers.  "
    )
    request = VideoRequest(script=text)
    # WHEN it becomes the script
    script = script_from_user(request, make_plan())
    # THEN the narration is the text with whitespace normalised, and the title its first sentence
    assert script.source == "user"
    assert script.narration == " ".join(text.split())
    assert script.title == "The Great Barrier Reef is the largest coral reef system on Earth"
    assert len(script.title) <= 70 and len(script.description) <= 200
    # AND hashtags are salient words (the most frequent first: coral, corals, corals, Corals count as one,
    # named by the form read first), no stop-words
    assert script.hashtags[:2] == ["#Reef", "#Coral"]
    assert 3 <= len(script.hashtags) <= 5
    assert not {"#The", "#And", "#Are"} & set(script.hashtags)


GERMAN = (
    "Bienen tanzen, um einander zu zeigen, wo die Blumen sind. Wenn eine Kundschafterin eine Wiese findet, "
    "kehrt sie in den Stock zurück und tanzt. Die Richtung des Tanzes zeigt zur Sonne, und seine Dauer zeigt "
    "die Entfernung. Die anderen Bienen verstehen den Tanz und fliegen direkt zu den Blumen, die sie suchen, "
    "wenn sie hungrig sind."
)
FRENCH = (
    "Les abeilles dansent pour se dire où sont les fleurs. Quand une abeille éclaireuse trouve un champ de "
    "fleurs, elle revient à la ruche et elle danse. La direction de la danse indique le soleil, et sa durée "
    "indique la distance. Les autres abeilles comprennent la danse et elles volent vers les fleurs."
)


@pytest.mark.parametrize(
    ("language", "text", "common_words"),
    [("de", GERMAN, {"#Sind", "#Wenn", "#Eine", "#Seine"}), ("fr", FRENCH, {"#Elle", "#Elles", "#Pour", "#Quand"})],
)
def test_a_scripts_hashtags_leave_out_the_common_words_of_its_language(language, text, common_words):
    # GIVEN a German or French script whose most frequent long words include "sind", "wenn", "eine", "elle"
    request = VideoRequest(script=text, language=language)
    # WHEN it becomes the script
    script = script_from_user(request, make_plan())
    # THEN its hashtags name what it is about, not the language's common words
    assert script.hashtags[:2] in (["#Tanzen", "#Bienen"], ["#Abeilles", "#Fleurs"])
    assert not common_words & set(script.hashtags), script.hashtags


def test_a_hindi_scripts_title_is_its_first_sentence_and_its_hashtags_whole_words():
    # GIVEN a Hindi script: sentences end with a danda, words carry vowel signs (marks)
    text = (
        "मधुमक्खियाँ नाचकर एक दूसरे को बताती हैं कि फूल कहाँ हैं। जब एक खोजी मधुमक्खी फूलों का खेत "
        "ढूंढती है, तो वह छत्ते में लौटकर नाचती है।"
    )
    # WHEN it becomes the script
    script = script_from_user(VideoRequest(script=text, language="hi"), make_plan())
    # THEN the title is the first sentence (it ran on into the second), without its danda
    assert script.title == "मधुमक्खियाँ नाचकर एक दूसरे को बताती हैं कि फूल कहाँ हैं"
    # AND there are hashtags (there were none), whole words with their vowel signs
    assert "#मधुमक्खियाँ" in script.hashtags and len(script.hashtags) >= 3


def test_script_from_user_leaves_emoji_out_of_the_narration_and_always_has_a_title():
    # GIVEN a user's script with emoji, whose first "sentence" is marks only
    text = "... 🐝 Bees dance to say where the flowers are 🌸🌼. They waggle, and the hive follows 👍🏽."
    # WHEN it becomes the script
    script = script_from_user(VideoRequest(script=text), make_plan())
    # THEN nothing is read aloud (or captioned) that a voice would name or a caption font cannot draw
    assert script.narration == "... Bees dance to say where the flowers are. They waggle, and the hive follows."
    # AND the title is the first words, not an empty string
    assert script.title.startswith("Bees dance to say where the flowers are")


def test_script_from_user_shortens_a_long_first_sentence_and_description_at_word_boundaries():
    text = "word " * 30 + "ending. " + "more text here " * 40
    script = script_from_user(VideoRequest(script=text), make_plan())
    assert len(script.title) <= 70 and script.title.endswith("word")
    assert len(script.description) <= 200 and script.description.endswith("…")


def test_script_from_user_needs_a_script():
    with pytest.raises(InvalidRequestError):
        script_from_user(VideoRequest(topic="the Moon"), make_plan())


def test_target_words_is_about_two_point_six_words_a_second():
    assert target_words(30) == 78 and target_words(60) == 156
