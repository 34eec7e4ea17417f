"""The paid-call cache: content-addressed keys, entries in the blob store, and the decorators that
consult it before every paid call (language model, images, speech). No sockets: fakes count calls."""

from __future__ import annotations

import json

import pytest

from faceless.agents.call import build_request
from faceless.agents.drafts import ContextLightDraft
from faceless.cache import (
    CachedImageGenerator,
    CachedLanguageModel,
    CachedSpeechSynthesizer,
    PaidCallCache,
    cache_key,
)
from faceless.models import WordTiming
from faceless.planning import _image_provider
from faceless.providers.base import GeneratedImage, ImageRequest, Speech, SpeechRequest
from faceless.settings import Settings
from faceless.store import LocalBlobStore
from tests.unit.fakes_llm import FakeLanguageModel


@pytest.fixture
def cache(tmp_path) -> PaidCallCache:
    return PaidCallCache(LocalBlobStore(tmp_path))


def light_request(text: str = "In 1969 Apollo 11 flew from Florida.", temperature: float = 0.0):
    return build_request("context", "Give era and region.", text, ContextLightDraft, {"text": text}, 40, temperature)


class CountingImages:
    name = "openai"
    model = "gpt-image-1"

    def __init__(self, provider: str = "openai") -> None:
        self.calls = 0
        self.provider = provider

    def cache_inputs(self, request: ImageRequest) -> dict:
        return {"prompt": request.prompt, "size": "1024x1536"}

    def generate(self, request: ImageRequest) -> GeneratedImage:
        self.calls += 1
        return GeneratedImage(data=b"\x89PNG-fake-%d" % self.calls, width=1024, height=1536, provider=self.provider, model="gpt-image-1-medium")


class CountingSpeech:
    name = "edge"

    def __init__(self) -> None:
        self.calls = 0

    def synthesize(self, request: SpeechRequest) -> Speech:
        self.calls += 1
        words = [WordTiming(word=w, start=i * 0.3, end=i * 0.3 + 0.25) for i, w in enumerate(request.text.split())]
        return Speech(wav=b"RIFF-fake", sample_rate=24_000, duration_seconds=1.5, words=words, provider="edge", voice="en-US-AriaNeural")


def image_request(prompt: str = "a red lighthouse", seed: int = 1) -> ImageRequest:
    return ImageRequest(index=0, prompt=prompt, text="t", shot="wide", art_style="cinematic", width=1080, height=1920, seed=seed)


# --------------------------------------------------------------------------- keys and entries


def test_keys_are_stable_and_change_with_every_input():
    base = cache_key("images", "openai", "gpt-image-1", {"prompt": "a", "size": "1024x1536"})
    assert base == cache_key("images", "openai", "gpt-image-1", {"size": "1024x1536", "prompt": "a"})  # order-free
    assert len(base) == 64
    variants = [
        cache_key("speech", "openai", "gpt-image-1", {"prompt": "a", "size": "1024x1536"}),
        cache_key("images", "gemini", "gpt-image-1", {"prompt": "a", "size": "1024x1536"}),
        cache_key("images", "openai", "dall-e-3", {"prompt": "a", "size": "1024x1536"}),
        cache_key("images", "openai", "gpt-image-1", {"prompt": "b", "size": "1024x1536"}),
        cache_key("images", "openai", "gpt-image-1", {"prompt": "a", "size": "1024x1024"}),
    ]
    assert len({base, *variants}) == 6


def test_an_entry_round_trips_and_lives_under_cache(cache, tmp_path):
    cache.put("images", "ab" + "0" * 62, {"width": 3}, b"bytes", extension="img")
    record, payload = cache.get("images", "ab" + "0" * 62)
    assert record["width"] == 3 and payload == b"bytes"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        f"cache/images/ab/ab{'0' * 62}.img",
        f"cache/images/ab/ab{'0' * 62}.json",
    ]
    assert cache.get("images", "cd" + "0" * 62) is None


def test_a_damaged_record_is_a_miss_not_a_crash(cache, tmp_path):
    key = "ef" + "1" * 62
    cache.put("llm", key, {"value": {}})
    (tmp_path / "cache" / "llm" / "ef" / f"{key}.json").write_text("{not json")
    assert cache.get("llm", key) is None


# --------------------------------------------------------------------------- language model


def test_a_repeated_llm_request_is_answered_from_the_cache_for_zero_tokens(cache):
    # GIVEN a model behind the cache
    inner = FakeLanguageModel({"context": {"era": "1960s", "region": "Florida"}})
    llm = CachedLanguageModel(inner, cache)

    # WHEN the same request is sent twice
    first_completion = llm.complete(light_request())
    second = llm.complete(light_request())

    # THEN the model was called once; the second answer is the same, cached, for zero tokens
    assert len(inner.requests) == 1
    assert second.value == first_completion.value
    assert (second.usage.cached, second.usage.prompt_tokens, second.usage.completion_tokens) == (True, 0, 0)
    assert second.usage.agent == "context" and second.usage.model == "fake-1"


def test_a_different_prompt_or_temperature_pays_again(cache):
    inner = FakeLanguageModel({"context": {"era": "1960s", "region": "Florida"}})
    llm = CachedLanguageModel(inner, cache)
    llm.complete(light_request())
    llm.complete(light_request(text="In 1492 a fleet left Spain."))
    llm.complete(light_request(temperature=0.7))
    assert len(inner.requests) == 3


def test_a_cached_reply_that_no_longer_fits_the_schema_is_paid_again(cache):
    inner = FakeLanguageModel({"context": {"era": "1960s", "region": "Florida"}})
    llm = CachedLanguageModel(inner, cache)
    llm.complete(light_request())
    entry = next(p for p in cache.store.root.rglob("*.json"))
    record = json.loads(entry.read_text())
    record["value"] = {"era": 5}
    entry.write_text(json.dumps(record))
    assert llm.complete(light_request()).usage.cached is False
    assert len(inner.requests) == 2


# --------------------------------------------------------------------------- images and speech


def test_an_image_is_paid_once_per_prompt_and_size(cache):
    inner = CountingImages()
    images = CachedImageGenerator(inner, cache)
    first = images.generate(image_request())
    again = images.generate(image_request(seed=99))  # the seed is not sent to OpenAI: same picture
    other = images.generate(image_request(prompt="a blue lighthouse"))
    assert inner.calls == 2
    assert (first.cached, again.cached, other.cached) == (False, True, False)
    assert again.data == first.data and (again.width, again.height, again.model) == (1024, 1536, "gpt-image-1-medium")


def test_a_stand_in_providers_picture_is_not_stored_under_the_key(cache):
    inner = CountingImages(provider="offline")  # e.g. a wrapper that fell back
    images = CachedImageGenerator(inner, cache)
    images.generate(image_request())
    images.generate(image_request())
    assert inner.calls == 2


def test_speech_is_paid_once_per_text_and_voice(cache):
    inner = CountingSpeech()
    speech = CachedSpeechSynthesizer(inner, cache)
    first = speech.synthesize(SpeechRequest(text="Tides rise and fall."))
    again = speech.synthesize(SpeechRequest(text="Tides rise and fall."))
    speech.synthesize(SpeechRequest(text="Tides rise and fall.", rate="+20%"))
    assert inner.calls == 2
    assert again.cached and again.wav == first.wav and again.words == first.words


# --------------------------------------------------------------------------- choosing the provider


@pytest.mark.parametrize(
    ("wanted", "setting", "keys", "expected"),
    [
        ("auto", "auto", {}, "offline"),
        ("auto", "auto", {"openai_api_key": "sk"}, "openai"),
        ("auto", "auto", {"gemini_api_key": "g"}, "gemini"),
        ("auto", "auto", {"openai_api_key": "sk", "gemini_api_key": "g"}, "openai"),
        ("auto", "gemini", {"openai_api_key": "sk", "gemini_api_key": "g"}, "gemini"),
        ("gemini", "auto", {"openai_api_key": "sk"}, "gemini"),  # the chain falls back at run time
        ("offline", "auto", {"openai_api_key": "sk"}, "offline"),
    ],
)
def test_auto_picks_openai_then_gemini_then_offline(wanted, setting, keys, expected):
    assert _image_provider(wanted, Settings(image_provider=setting, **keys)) == expected


def test_settings_read_the_new_variables():
    settings = Settings.from_env(
        {"GEMINI_BASE_URL": "http://127.0.0.1:9/", "FACELESS_IMAGE_QUALITY": "high", "FACELESS_CACHE": "off",
         "FACELESS_SPEECH_PROVIDER": "edge", "FACELESS_TTS_PITCH": "-2Hz", "FACELESS_OPENAI_IMAGE_MODEL": "dall-e-3"}
    )  # fmt: skip
    assert (settings.gemini_base_url, settings.image_quality, settings.cache_enabled) == ("http://127.0.0.1:9/", "high", False)
    assert (settings.speech_provider, settings.tts_pitch, settings.openai_image_model) == ("edge", "-2Hz", "dall-e-3")
