"""The provider ports. Each has a real (cloud) adapter and an honest offline one;
`faceless.bootstrap` picks which, in one place."""

from __future__ import annotations

import re
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from faceless.models import ArtStyle, LlmUsage, Shot, WordTiming

T = TypeVar("T", bound=BaseModel)


class ChatMessage(BaseModel):
    role: str  # "system" | "user" | "assistant"
    content: str


class LlmRequest(BaseModel, Generic[T]):
    """One structured call to a language model.

    `messages` is what a real model reads. `inputs` holds the same facts as data, so the offline
    model can answer honestly from them without parsing prose; it must never add facts.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    agent: str
    messages: list[ChatMessage]
    schema_model: type[T]
    inputs: dict[str, Any] = Field(default_factory=dict)
    max_tokens: int = 1024
    temperature: float = 0.7


class Completion(BaseModel, Generic[T]):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    value: T
    usage: LlmUsage


class LanguageModel(Protocol):
    name: str
    model: str

    def complete(self, request: LlmRequest[T]) -> Completion[T]: ...


class ImageRequest(BaseModel):
    index: int
    prompt: str  # the final prompt (context and style merged)
    text: str  # the narration this image illustrates
    shot: Shot
    art_style: ArtStyle
    width: int  # wanted output size; providers render at their native size and cover-fit later
    height: int
    seed: int = 0


class GeneratedImage(BaseModel):
    data: bytes  # PNG or JPEG bytes
    # the same picture before the provider set words on it (PNG or JPEG), if it did: the thumbnail sets
    # the title on this one, so the two texts never compete
    clean_data: bytes | None = None
    width: int
    height: int
    provider: str
    model: str
    cached: bool = False  # answered by the paid-call cache: nothing was paid for it this time


class ImageGenerator(Protocol):
    name: str

    def generate(self, request: ImageRequest) -> GeneratedImage: ...


class SpeechRequest(BaseModel):
    text: str
    language: str = "en"
    voice: str | None = None
    rate: str = "+12%"  # edge-tts style relative rate


class Speech(BaseModel):
    wav: bytes  # mono 16-bit PCM WAV
    sample_rate: int
    duration_seconds: float
    words: list[WordTiming]  # one per whitespace token of the text, in order
    provider: str
    voice: str
    cached: bool = False  # answered by the paid-call cache: nothing was paid for it this time


class SpeechSynthesizer(Protocol):
    name: str

    def synthesize(self, request: SpeechRequest) -> Speech: ...

    def check_voice(self, language: str, voice: str | None) -> None:
        """Raise InvalidRequestError when this provider cannot speak `language` (in `voice`): run
        before anything is spent on a video, so cheap, local and never a paid call."""
        ...


_EDGE_VOICE_NAME = re.compile(r"^[a-z]{2,3}-[A-Za-z]{2,4}(?:-[A-Za-z]+)?-[A-Za-z]+Neural$")


def is_edge_voice_name(voice: str) -> bool:
    """A name in edge-tts's form ("en-GB-RyanNeural"): the offline voice treats it as another
    provider's choice (and speaks the language's own voice), not as a mistake."""
    return bool(_EDGE_VOICE_NAME.match(voice))


class MusicComposer(Protocol):
    name: str

    def compose(self, mood: str, duration_seconds: float, sample_rate: int = 48_000) -> bytes:
        """A WAV (stereo 16-bit) of at least `duration_seconds`."""
        ...
