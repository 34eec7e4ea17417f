"""Offline speech: espeak-ng (shipped by the `espeakng-loader` wheel) driven through ctypes.

espeak-ng runs in SYNCHRONOUS mode: `espeak_Synth` returns once the whole text is spoken, after
calling our callback with PCM buffers and events. Its `espeakEVENT_WORD` events give, per spoken
word, the audio time (ms) and the 1-based code point position in the text, which we map back to
the whitespace tokens of the request so captions can highlight each word. Web addresses are read
without their "https://" and "www." (`speakable_text`), which espeak would spell out letter by letter.

The library is a process-global singleton (one voice, one callback, one state machine), so every
call into it holds `_ESPEAK_LOCK`: the state machine's Map runs segments in threads. It also keeps
synthesis state in C statics that no API call resets (the pitch phase and sample counters of its wave
generator): the same text came out a few samples different depending on what was spoken before, and
the Map's threads speak segments in no fixed order. So each synthesis after the first reloads the
library (`dlclose`, then load and initialise again, ~3 ms): the same request gives the same bytes.
"""

from __future__ import annotations

import _ctypes
import ctypes
import io
import math
import re
import threading
import unicodedata
import wave
from bisect import bisect_right
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from faceless.errors import ConfigurationError, InvalidRequestError, ProviderRejectedError
from faceless.models import WordTiming
from faceless.providers.base import Speech, SpeechRequest, is_edge_voice_name

# ------------------------------------------------------------------ espeak-ng C API (speak_lib.h)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # without it a missing data folder calls exit() on our process
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_PARAMETER_RATE = 1
_EE_OK = 0
_BUFFER_MILLISECONDS = 200  # PCM per callback; fewer Python round trips than the 60 ms default

ESPEAK_DEFAULT_WPM = 175  # espeakRATE_NORMAL
# What "+0%" means for us. espeak's 175 wpm measures ~3.6 spoken words/s on real narration; 125 makes
# the default "+12%" speak ~2.6 words/s, the pace the storyteller sizes narration for (as edge-tts does).
BASE_WPM = 125
ESPEAK_MIN_WPM = 80  # espeakRATE_MINIMUM
ESPEAK_MAX_WPM = 450  # espeakRATE_MAXIMUM


class _EspeakEventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _EspeakEvent(ctypes.Structure):
    """`espeak_EVENT`: 6 ints, then an 8-byte aligned pointer and union (40 bytes on x86_64)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based code point index of the word in the text
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms from the start of this message's audio
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EspeakEventId),
    ]


class _EspeakVoiceStruct(ctypes.Structure):
    """`espeak_VOICE`. `languages` is a packed list of (priority byte, NUL-terminated name)."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_EspeakEvent)
)

# ------------------------------------------------------------------ voices

_GENDERS = {1: "male", 2: "female"}
# espeak ranks British English first for "en"; we default to US English, like the edge-tts voices.
_PREFERRED_VOICE_FOR_LANGUAGE = {"en": "en-us"}


class EspeakVoice(BaseModel):
    name: str  # short name, usable as SpeechRequest.voice: "en-us", "es", "pt-br", "cmn"
    identifier: str  # file under espeak-ng-data/voices: "gmw/en-US"
    description: str  # espeak's display name: "English (America)"
    languages: list[str]  # language codes, most specific first: ["en-us", "en"]
    priorities: list[int]  # espeak's preference per language (lower = preferred)
    gender: str | None = None


def _normalise_code(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def _read_languages(packed: int | None) -> list[tuple[int, str]]:
    """Decode espeak's packed language list: (priority byte, name, NUL)*, then a 0 byte."""
    languages: list[tuple[int, str]] = []
    if not packed:
        return languages
    cursor = packed
    while (priority := ctypes.string_at(cursor, 1)[0]) != 0:
        name = ctypes.string_at(cursor + 1)
        languages.append((priority, name.decode("utf-8", "replace")))
        cursor += 1 + len(name) + 1
    return languages


def _voice_from_struct(voice: _EspeakVoiceStruct) -> EspeakVoice:
    identifier = (voice.identifier or b"").decode("utf-8", "replace")
    languages = _read_languages(voice.languages)
    return EspeakVoice(
        name=identifier.rsplit("/", 1)[-1].lower(),
        identifier=identifier,
        description=(voice.name or b"").decode("utf-8", "replace").strip(),
        languages=[_normalise_code(name) for _, name in languages],
        priorities=[priority for priority, _ in languages],
        gender=_GENDERS.get(voice.gender),
    )


def _voice_named(voices: list[EspeakVoice], requested: str) -> EspeakVoice | None:
    """The voice a user named: by short name, identifier, description, or exact language code."""
    key = _normalise_code(requested)
    for voice in voices:
        if key in (voice.name, voice.identifier.lower(), voice.description.lower()):
            return voice
    return _best_voice_for_code(voices, key)


def _best_voice_for_code(voices: list[EspeakVoice], code: str) -> EspeakVoice | None:
    preferred = _PREFERRED_VOICE_FOR_LANGUAGE.get(code)
    if preferred is not None:
        for voice in voices:
            if voice.name == preferred:
                return voice
    ranked = [
        (priority, order, voice)
        for order, voice in enumerate(voices)
        for language, priority in zip(voice.languages, voice.priorities, strict=True)
        if language == code
    ]
    return min(ranked, key=lambda entry: (entry[0], entry[1]))[2] if ranked else None


def _voice_for_language(voices: list[EspeakVoice], language: str) -> EspeakVoice | None:
    """"pt-BR" -> the pt-br voice if espeak has one, else the base language's ("pt")."""
    code = _normalise_code(language)
    if not code:
        return None
    return _best_voice_for_code(voices, code) or _best_voice_for_code(voices, code.split("-")[0])


def resolve_voice(voices: list[EspeakVoice], voice: str | None, language: str) -> EspeakVoice:
    """`voice` when it names an espeak voice, else one for `language`: an edge-tts name is another
    provider's choice (a request written for the cloud still renders offline); any other is a mistake."""
    if voice:
        named = _voice_named(voices, voice)
        if named is not None:
            return named
        if not is_edge_voice_name(voice):
            raise InvalidRequestError(
                f"espeak-ng has no voice named {voice!r} (`faceless voices --language {language}` or "
                f"GET /voices?language={language} lists them)"
            )
    chosen = _voice_for_language(voices, language)
    if chosen is None:
        raise InvalidRequestError(
            f"espeak-ng has no voice for language {language!r} "
            "(use a code such as 'en', 'es', 'pt-BR'; `faceless voices` or GET /voices lists them all)"
        )
    return chosen


def _voice_matches_language(voice: EspeakVoice, code: str) -> bool:
    return any(language == code or language.startswith(code + "-") for language in voice.languages)


# ------------------------------------------------------------------ rate

_RATE_PATTERN = re.compile(r"^([+-])(\d{1,4})%$")  # edge-tts: "+12%", "-5%", "+0%"


def words_per_minute(rate: str) -> int:
    """edge-tts relative rate -> espeak words per minute around BASE_WPM."""
    match = _RATE_PATTERN.match(rate.strip())
    if match is None:
        raise InvalidRequestError(f"rate must look like '+12%' or '-5%', got {rate!r}")
    percent = int(match.group(2)) * (1 if match.group(1) == "+" else -1)
    if percent <= -100:
        raise InvalidRequestError(f"rate {rate!r} would stop speech entirely")
    wpm = round(BASE_WPM * (1 + percent / 100))
    return min(max(wpm, ESPEAK_MIN_WPM), ESPEAK_MAX_WPM)


# ------------------------------------------------------------------ the engine (process-global)

_ESPEAK_LOCK = threading.Lock()
# dlclose(3) on Linux and macOS; FreeLibrary on Windows
_UNLOAD_LIBRARY = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary")


@dataclass(frozen=True)
class _WordEvent:
    text_index: int  # 0-based code point index into the text we passed
    seconds: float  # audio time of the word's start


@dataclass(frozen=True)
class _RawSpeech:
    samples: np.ndarray  # int16 mono
    events: list[_WordEvent]


class _EspeakEngine:
    """The loaded library. Create and use only while holding `_ESPEAK_LOCK`."""

    def __init__(self, library_path: str, data_path: str) -> None:
        if not Path(data_path).is_dir():
            raise ConfigurationError(f"espeak-ng data folder not found: {data_path}")
        self._library_path, self._data_path = library_path, data_path
        self._chunks: list[bytes] = []
        self._events: list[tuple[int, int]] = []
        self._callback = _SynthCallback(self._on_synth)  # kept referenced: espeak holds the pointer
        self._load()
        self.voices: list[EspeakVoice] = self._list_voices()
        if not self.voices:
            raise ConfigurationError(f"espeak-ng found no voices in {data_path}")

    def _load(self) -> None:
        """Load and initialise the library: its C statics start as they do in a new process."""
        try:
            self._lib: Any = ctypes.CDLL(self._library_path)
        except OSError as error:
            raise ConfigurationError(f"cannot load espeak-ng from {self._library_path}: {error}") from error
        self._declare_signatures()
        sample_rate = self._lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MILLISECONDS, self._data_path.encode(), _INITIALIZE_DONT_EXIT
        )
        if sample_rate <= 0:
            raise ConfigurationError(f"espeak_Initialize failed ({sample_rate}) with data {self._data_path}")
        self.sample_rate: int = sample_rate
        self._lib.espeak_SetSynthCallback(self._callback)
        self._spoken_since_load = False

    def _reload(self) -> None:
        """Unload the library (its last reference, so the loader frees it) and load it afresh."""
        if self._lib is not None:
            self._lib.espeak_Terminate()
            _UNLOAD_LIBRARY(self._lib._handle)
            self._lib = None  # a failed load below must not leave a handle to unloaded code
        self._load()

    def _declare_signatures(self) -> None:
        lib = self._lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoiceStruct))
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Terminate.argtypes = []
        lib.espeak_Terminate.restype = ctypes.c_int

    def _list_voices(self) -> list[EspeakVoice]:
        listed = self._lib.espeak_ListVoices(None)
        voices: list[EspeakVoice] = []
        index = 0
        while listed and listed[index]:
            voices.append(_voice_from_struct(listed[index].contents))
            index += 1
        return voices

    def _on_synth(self, wav: Any, sample_count: int, events: Any) -> int:
        """espeak's callback (on the synthesising thread): keep the PCM and the word events."""
        if wav and sample_count > 0:
            self._chunks.append(ctypes.string_at(wav, sample_count * 2))
        if events:
            index = 0
            while (event := events[index]).type != _EVENT_LIST_TERMINATED:
                if event.type == _EVENT_WORD:
                    self._events.append((event.text_position, event.audio_position))
                index += 1
        return 0  # 0 = continue

    def synthesize(self, text: str, voice: EspeakVoice, wpm: int) -> _RawSpeech:
        if self._spoken_since_load or self._lib is None:
            self._reload()
        self._spoken_since_load = True
        if self._lib.espeak_SetVoiceByName(voice.identifier.encode()) != _EE_OK:
            raise ProviderRejectedError(f"espeak-ng could not load voice {voice.identifier!r}")
        self._lib.espeak_SetParameter(_PARAMETER_RATE, wpm, 0)  # after the voice, which resets it
        self._chunks, self._events = [], []
        encoded = text.encode("utf-8") + b"\0"
        status = self._lib.espeak_Synth(
            encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if status != _EE_OK:
            raise ProviderRejectedError(f"espeak_Synth failed with status {status}")
        samples = np.frombuffer(b"".join(self._chunks), dtype="<i2")
        events = [
            _WordEvent(text_index=position - 1, seconds=milliseconds / 1000)
            for position, milliseconds in self._events
        ]
        self._chunks, self._events = [], []
        return _RawSpeech(samples=samples, events=events)


_ENGINE: _EspeakEngine | None = None


def _engine() -> _EspeakEngine:
    """The one engine of this process, created on first use. Call with `_ESPEAK_LOCK` held."""
    global _ENGINE
    if _ENGINE is None:
        import espeakng_loader  # imported lazily: cloud-only deployments need not ship it

        _ENGINE = _EspeakEngine(espeakng_loader.get_library_path(), espeakng_loader.get_data_path())
    return _ENGINE


# ------------------------------------------------------------------ audio activity and trimming

_FRAME_SECONDS = 0.01
_SILENCE_BELOW_PEAK = 0.01  # a frame is silent 40 dB under the loudest frame
_SILENCE_FLOOR_RMS = 30.0
_LONG_SILENCE_SECONDS = 0.08  # silence at either end longer than this is cut
_LEAD_SECONDS = 0.05  # kept before the first sound when a leading silence is cut
_TAIL_SECONDS = 0.15  # kept after the last sound, so clips do not end abruptly
_PAUSE_KEEP_SECONDS = 0.1  # a word keeps at most this much of the silence after it
_MIN_WORD_MS = 20


@dataclass(frozen=True)
class _Activity:
    """Per-frame voice activity of a clip, with O(1) lookups of the last sound before a time."""

    voiced: np.ndarray  # bool per frame
    last_voiced_upto: np.ndarray  # per frame: index of the last voiced frame <= it, or -1
    frame_seconds: float

    @classmethod
    def of(cls, samples: np.ndarray, sample_rate: int) -> _Activity:
        frame = max(1, round(sample_rate * _FRAME_SECONDS))
        count = len(samples) // frame
        frames = samples[: count * frame].astype(np.float32).reshape(count, frame)
        rms = np.sqrt(np.mean(frames * frames, axis=1)) if count else np.zeros(0, np.float32)
        threshold = max(float(rms.max(initial=0.0)) * _SILENCE_BELOW_PEAK, _SILENCE_FLOOR_RMS)
        voiced = rms > threshold
        last = np.maximum.accumulate(np.where(voiced, np.arange(count), -1)) if count else voiced
        return cls(voiced=voiced, last_voiced_upto=last.astype(np.int64), frame_seconds=frame / sample_rate)

    def first_voiced_frame(self) -> int | None:
        found = np.flatnonzero(self.voiced)
        return int(found[0]) if found.size else None

    def last_voiced_frame(self) -> int | None:
        found = np.flatnonzero(self.voiced)
        return int(found[-1]) if found.size else None

    def sound_end_before(self, start: float, end: float) -> float | None:
        """End time of the last voiced frame lying inside [start, end), or None if all silent."""
        last_frame = min(int(end / self.frame_seconds) - 1, len(self.voiced) - 1)
        if last_frame < 0:
            return None
        voiced_frame = int(self.last_voiced_upto[last_frame])
        sound_end = (voiced_frame + 1) * self.frame_seconds
        return sound_end if voiced_frame >= 0 and sound_end > start else None

    def end_before_pause(self, start: float, end: float) -> float:
        """`end`, pulled back when the interval ends in a pause: the word keeps at most
        `_PAUSE_KEEP_SECONDS` of silence. Continuous in the pause length, so a pause a few ms
        longer or shorter (as espeak's pauses vary with text and rate) moves the end a few ms, not a whole step."""
        sound_end = self.sound_end_before(start, end)
        if sound_end is None:
            return end
        return min(end, sound_end + _PAUSE_KEEP_SECONDS)


@dataclass(frozen=True)
class _Trim:
    first_sample: int
    speech_end_sample: int  # where the last word ends
    end_sample: int  # speech end plus the natural tail (zero-padded past the raw audio)


def _trim_bounds(activity: _Activity, sample_count: int, sample_rate: int) -> _Trim:
    """espeak's own edges are tight (a few ms); leading punctuation or a trailing dash add a
    pause, which we cut. Short edges are left alone: where a decaying sound crosses a threshold
    shifts with the slightest change in the sound, and a cut there would make lengths jumpy."""
    first, last = activity.first_voiced_frame(), activity.last_voiced_frame()
    if first is None or last is None:
        raise InvalidRequestError("espeak-ng produced no audible speech for this text")
    onset = round(first * activity.frame_seconds * sample_rate)
    sound_end = round((last + 1) * activity.frame_seconds * sample_rate)
    long_silence = round(_LONG_SILENCE_SECONDS * sample_rate)
    first_sample = onset - round(_LEAD_SECONDS * sample_rate) if onset > long_silence else 0
    speech_end = sound_end if sample_count - sound_end > long_silence else sample_count
    return _Trim(
        first_sample=first_sample,
        speech_end_sample=speech_end,
        end_sample=speech_end + round(_TAIL_SECONDS * sample_rate),
    )


def _cut(samples: np.ndarray, trim: _Trim) -> np.ndarray:
    clip = samples[trim.first_sample : trim.end_sample]
    missing = trim.end_sample - trim.first_sample - len(clip)
    return np.concatenate([clip, np.zeros(missing, dtype=clip.dtype)]) if missing > 0 else clip


# ------------------------------------------------------------------ word timings


@dataclass(frozen=True)
class _Token:
    text: str
    start: int  # code point span in the text
    end: int
    spoken: bool  # has a letter, digit or symbol; punctuation-only tokens ("—", "...") are silent


def _is_speakable(character: str) -> bool:
    return unicodedata.category(character)[0] in "LNS"


def tokenize(text: str) -> list[_Token]:
    """The whitespace tokens of `text` (same as `text.split()`), with their code point spans."""
    return [
        _Token(
            text=match.group(),
            start=match.start(),
            end=match.end(),
            spoken=any(_is_speakable(character) for character in match.group()),
        )
        for match in re.finditer(r"\S+", text)
    ]


_WEB_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?", re.IGNORECASE)


def _speakable(token: str) -> str:
    """How espeak should read a token: a web address without its scheme and "www." (espeak spells them
    out letter by letter: "https://www." alone took ~4 s of a clip), anything else as written."""
    if "://" not in token and not token.lower().startswith("www."):
        return token
    rest = token[_WEB_PREFIX.match(token).end() :]
    return rest if any(_is_speakable(character) for character in rest) else token


def speakable_text(text: str, tokens: list[_Token]) -> tuple[str, list[_Token]]:
    """The text espeak reads (`_speakable` tokens, the rest as it is) and the tokens with their spans
    in it: each keeps its own text, so the word timings are those of the words as written."""
    parts: list[str] = []
    spoken: list[_Token] = []
    cursor = length = 0
    for token in tokens:
        form = _speakable(token.text)
        parts += [text[cursor : token.start], form]
        length += token.start - cursor
        spoken.append(replace(token, start=length, end=length + len(form)))
        length += len(form)
        cursor = token.end
    parts.append(text[cursor:])
    return "".join(parts), spoken


def _token_anchors(tokens: list[_Token], events: list[_WordEvent]) -> list[float | None]:
    """Each token's earliest word event time, or None. A number like "1969" gets several events;
    a position inside whitespace (espeak reports the space before some sentence starts) belongs to
    the next token. Anchors are kept in time order: a backwards event is dropped."""
    starts = [token.start for token in tokens]
    anchors: list[float | None] = [None] * len(tokens)
    for event in events:
        index = bisect_right(starts, event.text_index) - 1
        if index < 0 or event.text_index >= tokens[index].end:
            index += 1
        index = min(index, len(tokens) - 1)
        current = anchors[index]
        anchors[index] = event.seconds if current is None else min(current, event.seconds)
    latest = -math.inf
    for index, anchor in enumerate(anchors):
        if anchor is not None:
            if anchor < latest:
                anchors[index] = None
            else:
                latest = anchor
    return anchors


def _interpolated_starts(
    tokens: list[_Token], anchors: list[float | None], activity: _Activity, speech_end: float
) -> list[float]:
    """Start times for every token. Tokens without an event share the time between the anchors
    around them: spoken ones in proportion to their length over the sound, silent punctuation
    after the sound (in the pause, if there is one)."""
    anchored = [index for index, anchor in enumerate(anchors) if anchor is not None]
    group_starts = anchored if anchored and anchored[0] == 0 else [0, *anchored]
    starts: list[float] = [0.0] * len(tokens)
    for position, first in enumerate(group_starts):
        last = group_starts[position + 1] if position + 1 < len(group_starts) else len(tokens)
        begin = anchors[first] if anchors[first] is not None else 0.0
        finish = anchors[last] if last < len(tokens) else speech_end
        finish = max(finish, begin)
        sound_until = activity.end_before_pause(begin, finish)
        weights = [len(tokens[index].text) if tokens[index].spoken else 0 for index in range(first, last)]
        total = sum(weights)
        elapsed = 0
        for offset, weight in enumerate(weights):
            if total == 0:
                starts[first + offset] = begin
            elif weight == 0 and elapsed == total:
                starts[first + offset] = sound_until  # punctuation after the group's last word
            else:
                starts[first + offset] = begin + (sound_until - begin) * elapsed / total
            elapsed += weight
    return starts


def align_words(
    tokens: list[_Token], events: list[_WordEvent], activity: _Activity, speech_end: float
) -> list[WordTiming]:
    """One timing per token: start from espeak's word events (interpolated where missing), end at
    the next word's start, but keeping at most `_PAUSE_KEEP_SECONDS` of a pause. Times in whole ms,
    strictly increasing, at least `_MIN_WORD_MS` long."""
    anchors = _token_anchors(tokens, events)
    starts = _interpolated_starts(tokens, anchors, activity, speech_end)
    timings: list[WordTiming] = []
    previous_end_ms = 0
    for index, token in enumerate(tokens):
        start = starts[index]
        end = starts[index + 1] if index + 1 < len(tokens) else speech_end
        if token.spoken:
            end = activity.end_before_pause(start, end)
        start_ms = max(round(start * 1000), previous_end_ms)
        end_ms = max(round(end * 1000), start_ms + _MIN_WORD_MS)
        timings.append(WordTiming(word=token.text, start=start_ms / 1000, end=end_ms / 1000))
        previous_end_ms = end_ms
    return timings


# ------------------------------------------------------------------ WAV


def _wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(samples.astype("<i2", copy=False).tobytes())
    return buffer.getvalue()


# ------------------------------------------------------------------ the provider


class EspeakSynthesizer:
    """The offline `SpeechSynthesizer`: espeak-ng, ~1000x real time, 100+ languages."""

    name = "espeak"

    def synthesize(self, request: SpeechRequest) -> Speech:
        text = request.text.replace("\0", " ")  # a NUL would end the C string early
        tokens = tokenize(text)
        if not any(token.spoken for token in tokens):
            raise InvalidRequestError("speech text is empty or has only punctuation")
        wpm = words_per_minute(request.rate)
        spoken_text, spoken_tokens = speakable_text(text, tokens)
        with _ESPEAK_LOCK:
            engine = _engine()
            voice = resolve_voice(engine.voices, request.voice, request.language)
            raw = engine.synthesize(spoken_text, voice, wpm)
            sample_rate = engine.sample_rate
        return _speech_from_raw(raw, spoken_tokens, sample_rate, voice)

    def check_voice(self, language: str, voice: str | None) -> None:
        with _ESPEAK_LOCK:
            resolve_voice(_engine().voices, voice, language)

    def list_voices(self, language: str | None = None) -> list[dict]:
        """espeak's voices (name, identifier, description, language(s), gender); with `language`,
        only those for it ("en" includes "en-us", "en-gb-scotland", ...), preferred first."""
        return list_voices(language)


def list_voices(language: str | None = None) -> list[dict]:
    with _ESPEAK_LOCK:
        voices = list(_engine().voices)
    if language:
        code = _normalise_code(language)
        best = _voice_for_language(voices, code)
        voices = [voice for voice in voices if _voice_matches_language(voice, code)]
        if best is not None and best not in voices:
            voices.insert(0, best)  # "pt-BR" when espeak only knows "pt"
        voices.sort(key=lambda voice: voice != best)
    return [
        {
            "name": voice.name,
            "identifier": voice.identifier,
            "description": voice.description,
            "language": voice.languages[0] if voice.languages else voice.name,
            "languages": voice.languages,
            "gender": voice.gender,
        }
        for voice in voices
    ]


def _speech_from_raw(raw: _RawSpeech, tokens: list[_Token], sample_rate: int, voice: EspeakVoice) -> Speech:
    return timed_speech(raw.samples, sample_rate, tokens, raw.events, EspeakSynthesizer.name, voice.name)


def timed_speech(
    samples: np.ndarray, sample_rate: int, tokens: list[_Token], events: list[_WordEvent], provider: str, voice: str
) -> Speech:
    """Trim a clip's edge silences and give every whitespace token a timing from the word events
    (seconds from the untrimmed start). Shared by every voice, so captions align the same way."""
    trim = _trim_bounds(_Activity.of(samples, sample_rate), len(samples), sample_rate)
    clip = _cut(samples, trim)
    offset = trim.first_sample / sample_rate
    shifted = [_WordEvent(event.text_index, max(0.0, event.seconds - offset)) for event in events]
    speech_end = (trim.speech_end_sample - trim.first_sample) / sample_rate
    words = align_words(tokens, shifted, _Activity.of(clip, sample_rate), speech_end)
    needed = math.ceil(words[-1].end * sample_rate)
    if needed > len(clip):  # minimum word lengths pushed the last word past the tail: pad
        clip = np.concatenate([clip, np.zeros(needed - len(clip), dtype=clip.dtype)])
    return Speech(
        wav=_wav_bytes(clip, sample_rate),
        sample_rate=sample_rate,
        duration_seconds=len(clip) / sample_rate,
        words=words,
        provider=provider,
        voice=voice,
    )
