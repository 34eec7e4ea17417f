"""Pydantic contracts: the state payloads, the API bodies and the provider results.

Everything that crosses a boundary (state machine, HTTP, blob store, provider port) is one of these.
Media never travel inside a payload: they are blob-store keys.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from faceless.agents.text import has_words, word_count


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# --------------------------------------------------------------------------- request


class VideoFormat(StrEnum):
    vertical = "9:16"
    square = "1:1"
    landscape = "16:9"


FORMAT_SIZES: dict[VideoFormat, tuple[int, int]] = {
    VideoFormat.vertical: (1080, 1920),
    VideoFormat.square: (1080, 1080),
    VideoFormat.landscape: (1920, 1080),
}


class OptimizationLevel(StrEnum):
    auto = "auto"
    ultra_fast = "ultra_fast"
    balanced = "balanced"
    quality = "quality"


class ArtStyle(StrEnum):
    cinematic = "cinematic"
    illustration = "illustration"
    anime = "anime"
    watercolor = "watercolor"
    documentary = "documentary"
    minimal = "minimal"


class ImageProviderName(StrEnum):
    auto = "auto"
    offline = "offline"
    openai = "openai"
    gemini = "gemini"


class MusicChoice(StrEnum):
    off = "off"
    on = "on"
    calm = "calm"
    upbeat = "upbeat"
    dramatic = "dramatic"
    mysterious = "mysterious"


class CaptionStyle(StrEnum):
    bold = "bold"
    karaoke = "karaoke"
    minimal = "minimal"


MAX_SCRIPT_WORDS = 520  # ~180 s at 2.6 spoken words per second, with a little slack
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
LANGUAGE_CODE_HINT = "must be a language code such as 'en', 'es' or 'pt-BR'"


def is_language_code(value: str) -> bool:
    return bool(_LANGUAGE.match(value))


class VideoRequest(Contract):
    """What a user asks for: a topic or their own narration script, and how it should look."""

    topic: str | None = Field(default=None, min_length=3, max_length=300)
    script: str | None = Field(default=None, min_length=20, max_length=20_000)
    duration_seconds: int = Field(default=30, ge=15, le=180)
    format: VideoFormat = VideoFormat.vertical
    language: str = "en"
    voice: str | None = Field(default=None, max_length=100)
    art_style: ArtStyle = ArtStyle.cinematic
    image_provider: ImageProviderName = ImageProviderName.auto
    optimization_level: OptimizationLevel = OptimizationLevel.auto
    music: MusicChoice = MusicChoice.on
    caption_style: CaptionStyle = CaptionStyle.bold

    @field_validator("topic", "script", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("topic", "script")
    @classmethod
    def _has_words(cls, value: str | None) -> str | None:
        if value is not None and not has_words(value):
            raise ValueError("has no words: only punctuation, symbols or emoji")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not is_language_code(value):
            raise ValueError(LANGUAGE_CODE_HINT)
        return value

    @field_validator("script")
    @classmethod
    def _script_fits(cls, value: str | None) -> str | None:
        if value is not None:
            words = word_count(value)  # Chinese or Japanese, without spaces, counts too
            if words > MAX_SCRIPT_WORDS:
                raise ValueError(
                    f"is about {words} spoken words, {words / 2.6:.0f} s of narration; the limit is 180 s "
                    f"(about {MAX_SCRIPT_WORDS} words)"
                )
        return value

    @model_validator(mode="after")
    def _topic_or_script(self) -> VideoRequest:
        if (self.topic is None) == (self.script is None):
            raise ValueError("give exactly one of 'topic' or 'script'")
        return self


# --------------------------------------------------------------------------- plan


class Plan(Contract):
    """Decisions taken once, up front, from the request and the settings."""

    level: OptimizationLevel  # never `auto` here: resolved by duration
    segment_count: int = Field(ge=1)
    target_words: int = Field(ge=1)
    use_bible: bool
    dedupe_with_llm: bool
    context_detail: Literal["light", "full"]
    width: int
    height: int
    max_concurrency: int = Field(ge=1)
    music_mood: str | None
    voice: str
    image_provider: str
    # one process renders every frame (fastest on 2 cores) or a clip per segment in parallel + finish
    render_mode: Literal["single", "per_segment"] = "single"


class JobSpec(Contract):
    job_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")
    tenant_id: str = Field(default="local", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    prefix: str  # blob-store folder of this job: jobs/<tenant>/<job>
    request: VideoRequest
    plan: Plan

    def key(self, *parts: str) -> str:
        return "/".join([self.prefix, *parts])


class JobInput(Contract):
    """The video state machine's input."""

    job_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")
    tenant_id: str = Field(default="local", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    request: VideoRequest
    # Set when a batch started this video (lambda:invoke.waitForTaskToken): Finalize / RecordFailure answer it.
    # Always serialized (null when absent): the ASL reads $$.Execution.Input.task_token, and a missing
    # field would be a States.Runtime error, so build this input with the model, never by hand.
    task_token: str | None = Field(default=None, max_length=2048)


# --------------------------------------------------------------------------- script & analysis


class Script(Contract):
    title: str
    description: str
    hashtags: list[str] = Field(default_factory=list)
    narration: str
    source: Literal["storyteller", "user"]


class Context(Contract):
    era: str = ""
    region: str = ""
    people: list[str] = Field(default_factory=list)
    avoid: list[str] = Field(default_factory=list)


class CharacterSheet(Contract):
    name: str
    look: str


class VisualBible(Contract):
    characters: list[CharacterSheet] = Field(default_factory=list)
    setting: str = ""
    palette: str = ""


class Shot(StrEnum):
    wide = "wide"
    medium = "medium"
    close_up = "close_up"
    aerial = "aerial"
    detail = "detail"


class Segment(Contract):
    index: int = Field(ge=0)
    text: str
    visual_prompt: str
    shot: Shot = Shot.medium
    image_prompt: str = ""  # final prompt (context + style merged by template), set by Refine
    reuse_image_of: int | None = None  # set when another segment's prompt is >= 0.95 identical


class Direction(Contract):
    segments: list[Segment]


# --------------------------------------------------------------------------- assets


class WordTiming(Contract):
    word: str
    start: float = Field(ge=0)  # seconds from the clip's start
    end: float = Field(ge=0)


class ImageAsset(Contract):
    index: int
    key: str
    width: int
    height: int
    provider: str
    model: str = ""
    reused_from: int | None = None
    cached: bool = False  # from the paid-call cache: not paid again
    clean_key: str | None = None  # the picture without the words its provider set on it (thumbnail)


class VoiceAsset(Contract):
    index: int
    key: str  # WAV in the blob store
    duration_seconds: float
    words: list[WordTiming]
    provider: str
    characters: int
    cached: bool = False  # from the paid-call cache: not paid again


class MusicAsset(Contract):
    key: str | None = None  # None when music is off
    mood: str | None = None
    duration_seconds: float = 0.0


class SegmentMedia(Contract):
    image: ImageAsset
    voice: VoiceAsset


class ClipAsset(Contract):
    """One segment's rendered clip (video only, captions burned in), for the per-segment path."""

    index: int
    key: str
    frames: int = Field(ge=1)
    duration_seconds: float
    image_score: float  # how strong its picture is as a thumbnail
    render_seconds: float


class Outputs(Contract):
    video_key: str
    captions_srt_key: str
    captions_vtt_key: str
    thumbnail_key: str
    script_key: str
    duration_seconds: float
    width: int
    height: int
    render_seconds: float


# --------------------------------------------------------------------------- usage, cost, status


class LlmUsage(Contract):
    agent: str
    provider: str
    model: str
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    seconds: float = 0.0
    cached: bool = False
    attempts: int = 1


class StageTiming(Contract):
    stage: str
    seconds: float


class CostBreakdown(Contract):
    llm_usd: float = 0.0
    images_usd: float = 0.0
    speech_usd: float = 0.0
    compute_usd: float = 0.0
    total_usd: float = 0.0


class JobStatusName(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class JobError(Contract):
    error: str
    cause: str


class JobStatus(Contract):
    job_id: str
    tenant_id: str = "local"
    status: JobStatusName
    stage: str = ""
    progress: int = Field(default=0, ge=0, le=100)
    error: JobError | None = None


class JobProgress(Contract):
    """A locally made job's stage and percent, noted in its folder as it goes (progress.json)."""

    stage: str
    progress: int = Field(ge=0, le=100)


class Metadata(Contract):
    job_id: str
    title: str
    description: str
    hashtags: list[str]
    request: VideoRequest
    plan: Plan
    duration_seconds: float
    timings: list[StageTiming]
    usage: list[LlmUsage]
    tokens_by_agent: dict[str, dict[str, int]]
    images: int
    images_reused: int
    tts_characters: int
    # calls answered by the paid-call cache, and calls actually paid to a cloud provider, per kind
    # ("llm", "images", "speech"): a warm re-run shows zero paid calls
    cache_hits: dict[str, int] = Field(default_factory=dict)
    paid_calls: dict[str, int] = Field(default_factory=dict)
    render_seconds: float
    cost: CostBreakdown
    outputs: dict[str, str]


class JobResult(Contract):
    job_id: str
    status: JobStatusName
    outputs: Outputs | None = None
    metadata_key: str | None = None
    cost: CostBreakdown | None = None
    error: JobError | None = None
