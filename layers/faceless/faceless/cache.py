"""The paid-call cache: every paid call (LLM reply, image, speech) content-addressed in the blob store.

The key is the sha256 of the provider, the model and every input that shapes the result (the
canonical JSON of them), so a Step Functions retry, a re-run of the same request or a repeated
batch row finds the answer already paid for. Entries live under `cache/<kind>/<aa>/<sha256>...`
in the same blob store as the jobs (a folder locally, the bucket in the cloud): a person can open
them, and deleting `cache/` simply makes the next run pay again.

Each provider port gets a decorator here that consults the cache before the call and writes to it
after a success; `bootstrap` wraps the paid adapters only (offline ones cost nothing). A result a
provider did not make itself (a fallback's) is never stored under its key.

An entry is a payload blob (image or WAV bytes) and a JSON record written last: a reader that sees
the record sees a complete entry, whatever the store (local rename or S3 put are both atomic). An
unreadable entry counts as a miss and is overwritten by the next paid answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from faceless.errors import BlobNotFoundError
from faceless.models import LlmUsage, WordTiming
from faceless.providers.base import (
    Completion,
    GeneratedImage,
    ImageGenerator,
    ImageRequest,
    LanguageModel,
    LlmRequest,
    Speech,
    SpeechRequest,
    SpeechSynthesizer,
    T,
)
from faceless.store import BlobStore

log = logging.getLogger(__name__)

CACHE_PREFIX = "cache"
# Bump when the stored layout or the meaning of a key changes: old entries are then simply ignored.
CACHE_VERSION = 1


def cache_key(kind: str, provider: str, model: str, inputs: Any) -> str:
    """sha256 (hex) of the canonical JSON of (version, kind, provider, model, inputs)."""
    canonical = json.dumps(
        {"v": CACHE_VERSION, "kind": kind, "provider": provider, "model": model, "inputs": inputs},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=_jsonable,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, type) and issubclass(value, BaseModel):
        return value.model_json_schema()
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    raise TypeError(f"cannot key a {type(value).__name__}")


class PaidCallCache:
    """Content-addressed records and payloads under `cache/` of a blob store."""

    def __init__(self, store: BlobStore, prefix: str = CACHE_PREFIX) -> None:
        self.store = store
        self.prefix = prefix.strip("/")

    def _base(self, kind: str, key: str) -> str:
        return f"{self.prefix}/{kind}/{key[:2]}/{key}"

    def get(self, kind: str, key: str) -> tuple[dict[str, Any], bytes | None] | None:
        """(record, payload or None) of an entry, or None when there is no complete entry."""
        base = self._base(kind, key)
        try:
            record = json.loads(self.store.get_bytes(f"{base}.json"))
            payload_name = record.get("payload")
            payload = self.store.get_bytes(f"{base}.{payload_name}") if payload_name else None
        except BlobNotFoundError:
            return None
        except (ValueError, AttributeError) as error:  # a damaged record: pay again, then overwrite it
            log.warning("ignoring a damaged cache entry %s: %s", base, error)
            return None
        return record, payload

    def put(
        self, kind: str, key: str, record: dict[str, Any], payload: bytes | None = None, extension: str = "bin",
        content_type: str = "application/octet-stream",
    ) -> None:
        base = self._base(kind, key)
        record = dict(record)
        if payload is not None:
            self.store.put_bytes(f"{base}.{extension}", payload, content_type)  # the payload first...
            record["payload"] = extension
        record["stored_at"] = round(time.time(), 3)
        # ...the record last: its presence means the entry is complete
        self.store.put_bytes(f"{base}.json", json.dumps(record, ensure_ascii=False).encode(), "application/json")


# --------------------------------------------------------------------------- language model


class CachedLanguageModel:
    """A `LanguageModel` that answers from the cache when the same request was paid for before.

    A hit returns the stored value with usage `cached=True` and zero tokens (nothing was spent);
    the original call's tokens stay in the entry's record.
    """

    kind = "llm"

    def __init__(self, inner: LanguageModel, cache: PaidCallCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.model = inner.model

    def key(self, request: LlmRequest[Any]) -> str:
        return cache_key(
            self.kind,
            self.inner.name,
            self.inner.model,
            {
                "messages": [message.model_dump() for message in request.messages],
                "schema": request.schema_model.model_json_schema(),
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
            },
        )

    def complete(self, request: LlmRequest[T]) -> Completion[T]:
        started = time.perf_counter()
        key = self.key(request)
        hit = self.cache.get(self.kind, key)
        if hit is not None:
            record, _ = hit
            try:
                value = request.schema_model.model_validate(record["value"])
                paid = LlmUsage.model_validate(record["usage"])
            except (KeyError, ValidationError) as error:
                log.warning("cache entry %s does not fit %s: %s", key, request.schema_model.__name__, error)
            else:
                usage = LlmUsage(
                    agent=request.agent,
                    provider=paid.provider,
                    model=paid.model,
                    prompt_tokens=0,
                    completion_tokens=0,
                    seconds=round(time.perf_counter() - started, 3),
                    cached=True,
                )
                return Completion(value=value, usage=usage)
        completion = self.inner.complete(request)
        self.cache.put(
            self.kind,
            key,
            {"value": completion.value.model_dump(mode="json"), "usage": completion.usage.model_dump(mode="json")},
        )
        return completion


# --------------------------------------------------------------------------- images


class CachedImageGenerator:
    """An `ImageGenerator` that reuses an image already paid for the same prompt, size and model.

    The wrapped generator says what its result depends on with `cache_inputs(request)` (what it
    sends: prompt, native size, quality...); without it the whole request is the key.
    """

    kind = "images"

    def __init__(self, inner: ImageGenerator, cache: PaidCallCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.model = getattr(inner, "model", "")

    def key(self, request: ImageRequest) -> str:
        describe = getattr(self.inner, "cache_inputs", None)
        inputs = describe(request) if describe is not None else request.model_dump(mode="json")
        return cache_key(self.kind, self.inner.name, self.model, inputs)

    def generate(self, request: ImageRequest) -> GeneratedImage:
        key = self.key(request)
        hit = self.cache.get(self.kind, key)
        if hit is not None and hit[1] is not None:
            record, data = hit
            try:
                return GeneratedImage(
                    data=data, width=record["width"], height=record["height"], provider=record["provider"],
                    model=record["model"], cached=True,
                )
            except (KeyError, ValidationError) as error:
                log.warning("ignoring a damaged image cache entry %s: %s", key, error)
        image = self.inner.generate(request)
        if image.provider == self.inner.name:  # never store a stand-in's picture under this key
            self.cache.put(
                self.kind,
                key,
                {"width": image.width, "height": image.height, "provider": image.provider, "model": image.model},
                image.data,
                extension="img",
                content_type="image/png",
            )
        return image


# --------------------------------------------------------------------------- speech


class CachedSpeechSynthesizer:
    """A `SpeechSynthesizer` that reuses narration already paid for the same text, voice and rate."""

    kind = "speech"

    def __init__(self, inner: SpeechSynthesizer, cache: PaidCallCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name

    def key(self, request: SpeechRequest) -> str:
        describe = getattr(self.inner, "cache_inputs", None)
        inputs = describe(request) if describe is not None else request.model_dump(mode="json")
        return cache_key(self.kind, self.inner.name, getattr(self.inner, "model", ""), inputs)

    def check_voice(self, language: str, voice: str | None) -> None:
        self.inner.check_voice(language, voice)

    def synthesize(self, request: SpeechRequest) -> Speech:
        key = self.key(request)
        hit = self.cache.get(self.kind, key)
        if hit is not None and hit[1] is not None:
            record, wav = hit
            try:
                return Speech(
                    wav=wav,
                    sample_rate=record["sample_rate"],
                    duration_seconds=record["duration_seconds"],
                    words=[WordTiming.model_validate(w) for w in record["words"]],
                    provider=record["provider"],
                    voice=record["voice"],
                    cached=True,
                )
            except (KeyError, TypeError, ValidationError) as error:
                log.warning("ignoring a damaged speech cache entry %s: %s", key, error)
        speech = self.inner.synthesize(request)
        if speech.provider == self.inner.name:  # a fallback voice is not what this key paid for
            self.cache.put(
                self.kind,
                key,
                {
                    "sample_rate": speech.sample_rate,
                    "duration_seconds": speech.duration_seconds,
                    "words": [w.model_dump(mode="json") for w in speech.words],
                    "provider": speech.provider,
                    "voice": speech.voice,
                },
                speech.wav,
                extension="wav",
                content_type="audio/wav",
            )
        return speech

    def list_voices(self, language: str | None = None) -> list[dict]:
        return self.inner.list_voices(language)  # type: ignore[attr-defined]
