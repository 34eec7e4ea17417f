"""Decisions taken once per job, before any paid call: level, segment count, sizes, providers."""

from __future__ import annotations


from faceless.agents.levels import level_policy
from faceless.agents.text import word_count
from faceless.models import FORMAT_SIZES, MusicChoice, Plan, VideoRequest
from faceless.settings import Settings

WORDS_PER_SECOND = 2.6  # spoken words per second at the default TTS rate +12%
SECONDS_PER_SEGMENT = 5.0


def make_plan(request: VideoRequest, settings: Settings) -> Plan:
    if request.script:
        words = word_count(request.script)  # a script without spaces (CJK) counts too
        seconds = words / WORDS_PER_SECOND
        # a user's script sets the length: choose the level from what it will last
        sized = request.model_copy(update={"duration_seconds": int(min(180, max(15, round(seconds))))})
    else:
        seconds = float(request.duration_seconds)
        words = round(seconds * WORDS_PER_SECOND)
        sized = request
    policy = level_policy(sized)
    level = policy.level
    segments = max(1, min(words, round(seconds / SECONDS_PER_SEGMENT)))
    width, height = FORMAT_SIZES[request.format]
    mood = None if request.music is MusicChoice.off else ("calm" if request.music is MusicChoice.on else request.music.value)
    return Plan(
        level=level,
        segment_count=segments,
        target_words=words,
        use_bible=policy.use_bible,
        dedupe_with_llm=policy.dedupe_with_llm,
        context_detail=policy.context_detail,
        width=width,
        height=height,
        max_concurrency=settings.max_concurrency,
        render_mode=settings.render_mode,
        music_mood=mood,
        voice=request.voice or "default",
        image_provider=_image_provider(request.image_provider.value, settings),
    )


def _image_provider(wanted: str, settings: Settings) -> str:
    """The request's provider, else the setting's; `auto` picks OpenAI when its key is set, then
    Gemini, else the offline cards. (An unconfigured choice falls back along the chain at run time.)"""
    if wanted == "auto":
        wanted = settings.image_provider
    if wanted == "auto":
        if settings.openai_api_key:
            return "openai"
        if settings.gemini_api_key:
            return "gemini"
        return "offline"
    return wanted
