"""Storyteller: topic -> narration sized to the duration, plus title, description and hashtags.

With a user script there is no call at all: the script is the narration (`script_from_user`).
"""

from __future__ import annotations

import re

from faceless.agents import prompts
from faceless.agents.call import ask, build_request
from faceless.agents.drafts import StoryDraft
from faceless.agents.text import (
    CJK_SENTENCE_MARKS,
    SENTENCE_MARKS,
    cut_at_word,
    hashtag,
    normalise_whitespace,
    salient_words,
    sentence_spans,
    top_keywords,
    without_pictographs,
    word_count,
    words_of,
)
from faceless.errors import InvalidRequestError, ProviderResponseError
from faceless.models import LlmUsage, Plan, Script, VideoRequest
from faceless.providers.base import LanguageModel

WORDS_PER_SECOND = 2.6  # spoken words per second at the default TTS rate (+12%)
TITLE_MAX = 70
DESCRIPTION_MAX = 200
MIN_HASHTAGS, MAX_HASHTAGS = 3, 6
USER_HASHTAGS = 5
# A narration over 130% of the target would overrun the duration (and pay TTS and images for it):
# it is cut at a sentence boundary to <= 115% of the target. One under 70% is kept as it is: the
# video is just shorter, and asking again would cost a second call.
TOO_LONG_RATIO = 1.30
TRIM_TO_RATIO = 1.15


def target_words(duration_seconds: float) -> int:
    """Narration words that fill `duration_seconds` when spoken."""
    return max(1, round(duration_seconds * WORDS_PER_SECOND))


def write_script(llm: LanguageModel, request: VideoRequest, plan: Plan) -> tuple[Script, list[LlmUsage]]:
    """Ask the model for a narration of ~`plan.target_words` words about `request.topic`."""
    if not request.topic:
        raise InvalidRequestError("topic: the storyteller needs a topic (use script_from_user for a script)")
    words = plan.target_words
    llm_request = build_request(
        agent=prompts.STORYTELLER,
        system=prompts.STORYTELLER_SYSTEM,
        user=f"Topic: {request.topic}\nWords: {words}\nLanguage: {request.language}",
        schema=StoryDraft,
        inputs={"topic": request.topic, "words": words, "language": request.language},
        # ~1.4 tokens a word covers most languages; the rest is title, description, tags, JSON
        max_tokens=int(words * 1.4 * TOO_LONG_RATIO) + 200,
        temperature=0.7,
    )
    draft, usage = ask(llm, llm_request)
    narration = clean_narration(draft.text)
    if not narration:
        raise ProviderResponseError("storyteller: the model returned an empty narration")
    narration = fit_to_target(narration, words)
    title = cut_at_word(_unquote(draft.title), TITLE_MAX) or cut_at_word(request.topic, TITLE_MAX)
    description = cut_at_word(draft.desc, DESCRIPTION_MAX) or cut_at_word(narration, DESCRIPTION_MAX)
    hashtags = normalise_hashtags(draft.tags, fallback_text=f"{request.topic} {title}")
    script = Script(title=title, description=description, hashtags=hashtags, narration=narration, source="storyteller")
    return script, [usage]


def script_from_user(request: VideoRequest, plan: Plan) -> Script:
    """The user's script as the narration, verbatim (whitespace normalised, emoji out); zero tokens."""
    if not request.script:
        raise InvalidRequestError("script: no script was given")
    narration = normalise_whitespace(without_pictographs(request.script))
    spans = sentence_spans(narration)
    first = narration[spans[0].start : spans[0].end] if spans else narration
    # a first "sentence" of marks only ("... So it begins.") gives no title: the first words do
    heading = _unquote(first).rstrip(SENTENCE_MARKS + CJK_SENTENCE_MARKS) if words_of(first) else " ".join(words_of(narration))
    title = cut_at_word(heading, TITLE_MAX)
    description = _description(narration)
    keywords = top_keywords(narration, USER_HASHTAGS, language=request.language)
    hashtags = [tag for tag in (hashtag(word) for word in keywords) if tag]
    return Script(title=title, description=description, hashtags=hashtags, narration=narration, source="user")


def clean_narration(text: str) -> str:
    """Spoken text only: stage directions in brackets, markdown marks and emoji removed."""
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"[*#_`]+", "", text)
    return normalise_whitespace(without_pictographs(text))


def fit_to_target(narration: str, target: int) -> str:
    """Cut a narration far over `target` words at a sentence boundary (see TOO_LONG_RATIO)."""
    if word_count(narration) <= target * TOO_LONG_RATIO:
        return narration
    limit = target * TRIM_TO_RATIO
    kept = ""
    for span in sentence_spans(narration):
        candidate = narration[: span.end]
        if word_count(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    # the first sentence alone is too long: cut it at a word boundary
    words = narration.split()[: max(1, target)]
    return " ".join(words).rstrip(",;:-–—") + "."


def normalise_hashtags(tags: list[str], fallback_text: str) -> list[str]:
    """The model's tags as unique `#Word`s (at most 6), topped up to 3 from the fallback text."""
    unique: list[str] = []

    def add(tag: str, limit: int) -> None:
        if len(tag) > 2 and len(unique) < limit and tag.lower() not in {u.lower() for u in unique}:
            unique.append(tag)

    for tag in tags:
        add(hashtag(tag.replace(" ", "")), MAX_HASHTAGS)
    for word in salient_words(fallback_text):
        add(hashtag(word), MIN_HASHTAGS)
    return unique


def _description(narration: str) -> str:
    if len(narration) <= DESCRIPTION_MAX:
        return narration
    return cut_at_word(narration, DESCRIPTION_MAX - 1) + "…"


def _unquote(text: str) -> str:
    return normalise_whitespace(text).strip("\"'“”‘’«» ")
