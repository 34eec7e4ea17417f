"""edge-tts at its library boundary: `edge_tts.Communicate.stream` is replaced by one that yields
what the service sends (MP3 chunks of 24 kHz mono speech, WordBoundary events with offsets and
durations in 100-ns ticks and the word's text), or raises what it raises (NoAudioReceived, a 403
handshake refusal). The audio is real: espeak speech encoded to MP3 with ffmpeg, once per module."""

from __future__ import annotations

import io
import wave

import aiohttp
import edge_tts
import pytest
from edge_tts.exceptions import NoAudioReceived
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from faceless.cache import CachedSpeechSynthesizer, PaidCallCache
from faceless.errors import InvalidRequestError, TransientProviderError
from faceless.providers.base import SpeechRequest
from faceless.providers.speech import edge
from faceless.providers.speech.edge import EdgeSynthesizer, edge_voice_for
from faceless.providers.speech.espeak import EspeakSynthesizer
from faceless.store import LocalBlobStore
from tests.fakes.edge_service import LEAD_SECONDS, FakeEdgeService, Recording, record

TEXT = "In 1969, Apollo 11 landed on the Moon — a giant leap for everyone."


@pytest.fixture(scope="module")
def recording() -> Recording:
    return record(TEXT)


def FakeService(recording: Recording, outcomes: list[object] | None = None) -> FakeEdgeService:  # noqa: N802
    service = FakeEdgeService(outcomes)
    service._recordings[TEXT] = recording  # encoded once per module
    return service


def handshake_403() -> aiohttp.WSServerHandshakeError:
    """What aiohttp raises when the service refuses the websocket (its token clock drifted)."""
    url = URL("wss://speech.platform.bing.com/consumer/speech/synthesize/readaloud/edge/v1")
    info = aiohttp.RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict()), url)
    return aiohttp.WSServerHandshakeError(info, (), status=403, message="Invalid response status")


def fast(**kwargs) -> EdgeSynthesizer:
    return EdgeSynthesizer(wait_initial=0.0, wait_max=0.0, **kwargs)


def test_speech_has_one_timing_per_token_from_the_word_boundaries(monkeypatch, recording):
    # GIVEN the service answers with MP3 audio and word boundaries
    service = FakeService(recording).install(monkeypatch)

    # WHEN a clip is synthesised at the default rate
    speech = fast(pitch="+2Hz").synthesize(SpeechRequest(text=TEXT, language="en", rate="+12%"))

    # THEN edge-tts was asked for word boundaries, with our voice, rate and pitch
    long_name = "Microsoft Server Speech Text to Speech Voice (en-US, AriaNeural)"  # edge-tts's own form
    assert service.calls == [{"text": TEXT, "voice": long_name, "rate": "+12%", "pitch": "+2Hz", "boundary": "WordBoundary"}]
    assert speech.provider == "edge" and speech.voice == "en-US-AriaNeural"
    # and the WAV is 24 kHz mono 16-bit, as long as the speech (edge silences trimmed)
    with wave.open(io.BytesIO(speech.wav)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (24_000, 1, 2)
        assert abs(reader.getnframes() / 24_000 - speech.duration_seconds) < 0.01
    # and every whitespace token has a timing, in order, inside the clip
    assert [w.word for w in speech.words] == TEXT.split()
    previous = 0.0
    for word in speech.words:
        assert previous <= word.start < word.end, word
        previous = word.end
    assert speech.words[-1].end <= speech.duration_seconds + 1e-6
    # and each word starts where its boundary said (shifted by the trimmed lead, within MP3 framing)
    shift = recording.word_starts["In"] - speech.words[0].start
    assert 0.05 < shift <= LEAD_SECONDS + 0.01  # the long lead was trimmed
    for word in speech.words:
        if word.word in recording.word_starts:
            assert abs(word.start - (recording.word_starts[word.word] - shift)) < 0.03, word


def test_no_audio_received_is_retried_then_succeeds(monkeypatch, recording):
    # GIVEN a service that sends no audio twice, then answers
    service = FakeService(recording, [NoAudioReceived("No audio was received."), NoAudioReceived("again")]).install(monkeypatch)

    # WHEN a clip is synthesised (3 attempts)
    speech = fast(attempts=3, fallback=EspeakSynthesizer()).synthesize(SpeechRequest(text=TEXT))

    # THEN the third attempt's edge audio is used
    assert len(service.calls) == 3
    assert speech.provider == "edge"


def test_persistent_403_falls_back_to_the_offline_voice(monkeypatch, recording):
    # GIVEN a service refusing the websocket handshake with 403 every time
    refusal = handshake_403()
    service = FakeService(recording, [refusal] * 5).install(monkeypatch)

    # WHEN a clip is synthesised with an offline fallback
    speech = fast(attempts=3, fallback=EspeakSynthesizer()).synthesize(SpeechRequest(text=TEXT))

    # THEN edge was tried 3 times, then espeak spoke, with one timing per token
    assert len(service.calls) == 3
    assert speech.provider == "espeak"
    assert [w.word for w in speech.words] == TEXT.split()


def test_without_a_fallback_the_failure_is_transient_for_the_state_machine(monkeypatch, recording):
    FakeService(recording, [NoAudioReceived("none")] * 2).install(monkeypatch)
    with pytest.raises(TransientProviderError, match="2 attempt"):
        fast(attempts=2).synthesize(SpeechRequest(text=TEXT))


def test_bad_input_is_a_clear_error_not_a_retry(monkeypatch, recording):
    service = FakeService(recording).install(monkeypatch)
    with pytest.raises(InvalidRequestError, match="rate"):
        fast().synthesize(SpeechRequest(text=TEXT, rate="fast"))
    with pytest.raises(InvalidRequestError, match="empty"):
        fast().synthesize(SpeechRequest(text=" — … "))
    with pytest.raises(InvalidRequestError, match="pitch"):
        EdgeSynthesizer(pitch="high")
    assert service.calls == []


@pytest.mark.parametrize(
    ("voice", "language", "expected"),
    [
        ("en-GB-RyanNeural", "en", "en-GB-RyanNeural"),
        (None, "es", "es-ES-ElviraNeural"),
        ("en-us", "en", "en-US-AriaNeural"),  # an espeak name: the language's edge voice
        (None, "pt-BR", "pt-BR-FranciscaNeural"),
        (None, "en-GB", "en-GB-SoniaNeural"),
        (None, "sw", "en-US-EmmaMultilingualNeural"),
    ],
)
def test_voice_choice(voice, language, expected):
    assert edge_voice_for(voice, language) == expected


@pytest.mark.parametrize(
    ("voice", "language"), [("en-GB-RyanNeural", "en"), (None, "sw"), (None, "en"), ("en-us", "en"), ("fr", "en")]
)
def test_the_check_accepts_edge_names_any_language_and_the_offline_voices_names(voice, language):
    # GIVEN edge with its offline fallback WHEN a voice it speaks (or the offline voice's name) is checked
    # THEN nothing is raised: the multilingual voice reads a language edge has no default for
    fast(fallback=EspeakSynthesizer()).check_voice(language, voice)


@pytest.mark.parametrize("fallback", [EspeakSynthesizer(), None])
def test_the_check_refuses_a_voice_neither_edge_nor_offline_knows(fallback):
    # GIVEN a typo for a voice WHEN checked THEN the error names it and says how voices are named
    with pytest.raises(InvalidRequestError, match="no voice named 'Aria'.*'en-GB-RyanNeural'"):
        fast(fallback=fallback).check_voice("en", "Aria")


def test_the_cache_answers_a_repeated_clip_and_never_stores_a_fallback(monkeypatch, recording, tmp_path):
    # GIVEN edge behind the paid-call cache, failing on the first request
    refusal = handshake_403()
    service = FakeService(recording, [refusal, refusal]).install(monkeypatch)
    cached = CachedSpeechSynthesizer(fast(attempts=2, fallback=EspeakSynthesizer()), PaidCallCache(LocalBlobStore(tmp_path)))
    request = SpeechRequest(text=TEXT)

    # WHEN the same clip is asked three times
    first = cached.synthesize(request)  # edge fails: espeak speaks, nothing cached
    second = cached.synthesize(request)  # edge answers: cached
    third = cached.synthesize(request)  # from the cache

    # THEN edge was called 3 times (2 failed + 1), never for the third clip
    assert (first.provider, first.cached) == ("espeak", False)
    assert (second.provider, second.cached) == ("edge", False)
    assert (third.provider, third.cached) == ("edge", True)
    assert len(service.calls) == 3
    assert third.wav == second.wav and third.words == second.words


def test_listing_voices_offline_says_unavailable(monkeypatch):
    async def unreachable(**_):
        raise aiohttp.ClientConnectionError("Cannot connect to host speech.platform.bing.com:443")

    monkeypatch.setattr(edge_tts, "list_voices", unreachable)
    with pytest.raises(TransientProviderError, match="unavailable"):
        edge.list_voices("en")


def test_listing_voices_filters_by_language(monkeypatch):
    async def voices(**_):
        return [
            {"ShortName": "en-US-AriaNeural", "Locale": "en-US", "Gender": "Female", "FriendlyName": "Aria"},
            {"ShortName": "es-ES-ElviraNeural", "Locale": "es-ES", "Gender": "Female", "FriendlyName": "Elvira"},
            {"ShortName": "en-GB-RyanNeural", "Locale": "en-GB", "Gender": "Male", "FriendlyName": "Ryan"},
        ]

    monkeypatch.setattr(edge_tts, "list_voices", voices)
    assert [v["name"] for v in edge.list_voices("en")] == ["en-GB-RyanNeural", "en-US-AriaNeural"]
    assert [v["name"] for v in edge.list_voices("en-GB")] == ["en-GB-RyanNeural"]
