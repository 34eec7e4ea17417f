"""Natural voices: Microsoft Edge's read-aloud service through `edge-tts`, with word timings.

- `boundary="WordBoundary"`: since edge-tts 7.2 the default yields sentence boundaries only; we
  ask for one event per word (offset and duration in 100-ns ticks, and the word's text).
- The service fails now and then (`NoAudioReceived`, a 403 while its token clock drifts, a dropped
  socket): each call is retried with `tenacity` (exponential backoff with jitter) and, when the
  retries are spent, the offline espeak-ng voice speaks instead (the clip records which voice).
- Its MP3 (24 kHz mono) is decoded to 16-bit PCM with the imageio-ffmpeg binary; the clip's edge
  silences are trimmed and the boundary events are mapped onto the text's whitespace tokens with
  the same alignment as the espeak voice (`espeak.align_words`), so captions get one timing per
  token whatever the voice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from faceless.errors import InvalidRequestError, ProviderResponseError, TransientProviderError
from faceless.providers.base import Speech, SpeechRequest, SpeechSynthesizer, is_edge_voice_name
from faceless.providers.speech.espeak import _Token, _WordEvent, timed_speech, tokenize

log = logging.getLogger(__name__)

PROVIDER_NAME = "edge"
MODEL_NAME = "edge-tts"
SAMPLE_RATE = 24_000  # edge's audio-24khz-48kbitrate-mono-mp3
TICKS_PER_SECOND = 10_000_000
DEFAULT_VOICE = "en-US-AriaNeural"
# A natural default voice per language (and a few regional variants); any other language gets the
# multilingual voice, which reads most languages.
DEFAULT_VOICES: dict[str, str] = {
    "en": "en-US-AriaNeural",
    "en-gb": "en-GB-SoniaNeural",
    "en-au": "en-AU-NatashaNeural",
    "en-in": "en-IN-NeerjaNeural",
    "es": "es-ES-ElviraNeural",
    "es-mx": "es-MX-DaliaNeural",
    "es-us": "es-US-PalomaNeural",
    "fr": "fr-FR-DeniseNeural",
    "fr-ca": "fr-CA-SylvieNeural",
    "de": "de-DE-KatjaNeural",
    "it": "it-IT-ElsaNeural",
    "pt": "pt-BR-FranciscaNeural",
    "pt-pt": "pt-PT-RaquelNeural",
    "nl": "nl-NL-ColetteNeural",
    "pl": "pl-PL-ZofiaNeural",
    "sv": "sv-SE-SofieNeural",
    "da": "da-DK-ChristelNeural",
    "nb": "nb-NO-PernilleNeural",
    "fi": "fi-FI-NooraNeural",
    "tr": "tr-TR-EmelNeural",
    "ru": "ru-RU-SvetlanaNeural",
    "uk": "uk-UA-PolinaNeural",
    "el": "el-GR-AthinaNeural",
    "cs": "cs-CZ-VlastaNeural",
    "ro": "ro-RO-AlinaNeural",
    "hu": "hu-HU-NoemiNeural",
    "ar": "ar-SA-ZariyahNeural",
    "he": "he-IL-HilaNeural",
    "hi": "hi-IN-SwaraNeural",
    "id": "id-ID-GadisNeural",
    "vi": "vi-VN-HoaiMyNeural",
    "th": "th-TH-PremwadeeNeural",
    "ja": "ja-JP-NanamiNeural",
    "ko": "ko-KR-SunHiNeural",
    "zh": "zh-CN-XiaoxiaoNeural",
    "zh-tw": "zh-TW-HsiaoChenNeural",
    "zh-hk": "zh-HK-HiuMaanNeural",
}
MULTILINGUAL_VOICE = "en-US-EmmaMultilingualNeural"
_RATE = re.compile(r"^[+-]\d{1,3}%$")
_PITCH = re.compile(r"^[+-]\d{1,3}Hz$")

T = TypeVar("T")


def edge_voice_for(voice: str | None, language: str) -> str:
    """`voice` when it is an edge voice name ("en-GB-RyanNeural"), else the language's default."""
    if voice and is_edge_voice_name(voice):
        return voice
    code = language.strip().lower().replace("_", "-")
    return DEFAULT_VOICES.get(code) or DEFAULT_VOICES.get(code.split("-")[0]) or MULTILINGUAL_VOICE


@dataclass(frozen=True)
class Boundary:
    """One WordBoundary event as edge-tts yields it (times in 100-ns ticks from the audio start)."""

    offset: int
    duration: int
    text: str


def _retryable_errors() -> tuple[type[BaseException], ...]:
    import aiohttp
    from edge_tts import exceptions

    return (
        exceptions.NoAudioReceived,
        exceptions.WebSocketError,
        exceptions.UnexpectedResponse,
        exceptions.UnknownResponse,
        aiohttp.ClientError,  # includes the 403 handshake refusal (WSServerHandshakeError)
        asyncio.TimeoutError,
        OSError,
    )


def _run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous code, in this thread or (if an event loop
    is already running here) in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())  # type: ignore[arg-type]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()  # type: ignore[arg-type]


class EdgeSynthesizer:
    """`SpeechSynthesizer` over edge-tts, retried, with an offline fallback voice."""

    name = PROVIDER_NAME
    model = MODEL_NAME

    def __init__(
        self,
        pitch: str = "+0Hz",
        volume: str = "+0%",
        attempts: int = 3,
        wait_initial: float = 0.5,
        wait_max: float = 4.0,
        timeout: float = 60.0,
        fallback: SpeechSynthesizer | None = None,
    ) -> None:
        if not _PITCH.match(pitch):
            raise InvalidRequestError(f"pitch must look like '+0Hz' or '-5Hz', got {pitch!r}")
        if attempts < 1:
            raise InvalidRequestError(f"attempts must be >= 1, got {attempts}")
        self.pitch = pitch
        self.volume = volume
        self.attempts = attempts
        self.wait_initial = wait_initial
        self.wait_max = wait_max
        self.timeout = timeout
        self.fallback = fallback

    # what the result depends on: the paid-call cache keys on it
    def cache_inputs(self, request: SpeechRequest) -> dict[str, Any]:
        return {
            "text": _clean(request.text),
            "voice": edge_voice_for(request.voice, request.language),
            "rate": request.rate,
            "pitch": self.pitch,
            "volume": self.volume,
        }

    def check_voice(self, language: str, voice: str | None) -> None:
        """Any language has a voice (the multilingual one, else). A voice is an edge name, or the
        offline voice's (another provider's choice: the language's edge voice speaks); nothing else."""
        if not voice or is_edge_voice_name(voice):
            return
        if self.fallback is not None:
            try:
                self.fallback.check_voice(language, voice)
                return
            except InvalidRequestError:
                pass  # said below, in edge's terms
        raise InvalidRequestError(
            f"edge-tts has no voice named {voice!r}: its voices are named like 'en-GB-RyanNeural' "
            f"(`faceless voices --language {language}` or GET /voices?language={language} lists them)"
        )

    def synthesize(self, request: SpeechRequest) -> Speech:
        text = _clean(request.text)
        tokens = tokenize(text)
        if not any(token.spoken for token in tokens):
            raise InvalidRequestError("speech text is empty or has only punctuation")
        if not _RATE.match(request.rate.strip()):
            raise InvalidRequestError(f"rate must look like '+12%' or '-5%', got {request.rate!r}")
        voice = edge_voice_for(request.voice, request.language)
        try:
            mp3, boundaries = self._fetch_with_retries(text, voice, request.rate.strip())
            samples = decode_mp3(mp3)
            try:
                return speech_from_edge(samples, SAMPLE_RATE, tokens, text, boundaries, voice)
            except InvalidRequestError as silent:  # the text was fine: the audio came back silent
                raise ProviderResponseError(f"edge-tts audio for voice {voice!r} is silent: {silent}") from None
        except (TransientProviderError, ProviderResponseError) as error:
            if self.fallback is None:
                raise
            log.warning("edge-tts failed for %r (%s); speaking with %s instead", voice, error, self.fallback.name)
            return self.fallback.synthesize(request)

    def _fetch_with_retries(self, text: str, voice: str, rate: str) -> tuple[bytes, list[Boundary]]:
        from tenacity import Retrying, before_sleep_log, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

        retryable = _retryable_errors()
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(initial=self.wait_initial, max=self.wait_max),
            retry=retry_if_exception_type(retryable),
            before_sleep=before_sleep_log(log, logging.INFO),
            reraise=True,
        )
        try:
            return retrying(lambda: _run(lambda: self._fetch(text, voice, rate)))
        except retryable as error:
            raise TransientProviderError(
                f"edge-tts gave no audio for voice {voice!r} after {self.attempts} attempt(s): {type(error).__name__}: {error}"
            ) from error

    async def _fetch(self, text: str, voice: str, rate: str) -> tuple[bytes, list[Boundary]]:
        import edge_tts

        try:
            communicate = edge_tts.Communicate(
                text,
                voice,
                rate=rate,
                pitch=self.pitch,
                volume=self.volume,
                boundary="WordBoundary",
                receive_timeout=int(self.timeout),
            )
        except ValueError as error:  # edge-tts validates voice, rate, pitch and volume
            raise InvalidRequestError(f"edge-tts: {error}") from None
        audio = bytearray()
        boundaries: list[Boundary] = []

        async def collect() -> None:
            async for chunk in communicate.stream():
                if chunk["type"] == "audio":
                    audio.extend(chunk["data"])
                elif chunk["type"] == "WordBoundary":
                    boundaries.append(Boundary(int(chunk["offset"]), int(chunk["duration"]), str(chunk["text"])))

        await asyncio.wait_for(collect(), timeout=self.timeout * 2)
        if not audio:
            from edge_tts.exceptions import NoAudioReceived

            raise NoAudioReceived("edge-tts finished without audio")
        return bytes(audio), boundaries

    def list_voices(self, language: str | None = None) -> list[dict]:
        """edge's voices (needs the network); raises TransientProviderError when it cannot be reached."""
        return list_voices(language, timeout=min(self.timeout, 15.0))


def list_voices(language: str | None = None, timeout: float = 15.0) -> list[dict]:
    import edge_tts

    try:
        voices = _run(lambda: asyncio.wait_for(edge_tts.list_voices(), timeout=timeout))
    except (*_retryable_errors(), ValueError) as error:
        raise TransientProviderError(f"edge-tts voice list unavailable: {type(error).__name__}: {error}") from error
    code = (language or "").strip().lower().replace("_", "-")
    listed = []
    for voice in voices:
        locale = str(voice.get("Locale", ""))
        folded = locale.lower()
        if code and not (folded == code or folded.startswith(code + "-")):
            continue
        listed.append(
            {
                "name": voice.get("ShortName", ""),
                "language": locale,
                "gender": str(voice.get("Gender", "")).lower() or None,
                "description": voice.get("FriendlyName", ""),
            }
        )
    return sorted(listed, key=lambda v: (v["language"], v["name"]))


# ------------------------------------------------------------------ audio and timings


def _clean(text: str) -> str:
    return text.replace("\0", " ").strip()


def decode_mp3(mp3: bytes) -> np.ndarray:
    """edge's MP3 -> int16 mono PCM at SAMPLE_RATE, with the imageio-ffmpeg binary."""
    from faceless.media.ffmpeg import ffmpeg_exe, run_tracked, stderr_tail

    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-f", "mp3", "-i", "pipe:0",
        "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1",
    ]  # fmt: skip
    try:
        done = run_tracked(command, input=mp3, timeout=120, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ProviderResponseError(f"could not decode edge-tts audio: {error}") from error
    if done.returncode != 0 or not done.stdout:
        raise ProviderResponseError(f"edge-tts sent audio ffmpeg cannot decode: {stderr_tail(done.stderr)}")
    return np.frombuffer(done.stdout, dtype="<i2")


def boundary_events(text: str, boundaries: list[Boundary]) -> list[_WordEvent]:
    """Each boundary's position in `text` (found in order) and start time; unplaceable ones dropped."""
    events: list[_WordEvent] = []
    folded = text.casefold()
    cursor = 0
    for boundary in boundaries:
        word = boundary.text.strip()
        if not word:
            continue
        index = text.find(word, cursor)
        if index < 0:
            index = folded.find(word.casefold(), cursor)
        if index < 0:
            log.debug("edge boundary %r not found in the text after position %d", word, cursor)
            continue
        events.append(_WordEvent(text_index=index, seconds=boundary.offset / TICKS_PER_SECOND))
        cursor = index + len(word)
    return events


def speech_from_edge(
    samples: np.ndarray, sample_rate: int, tokens: list[_Token], text: str, boundaries: list[Boundary], voice: str
) -> Speech:
    """Trim the clip's edge silences and give every whitespace token a timing from the boundaries."""
    return timed_speech(samples, sample_rate, tokens, boundary_events(text, boundaries), PROVIDER_NAME, voice)
