"""The offline speech provider: real espeak-ng synthesis (no network), WAV output and word timings."""

from __future__ import annotations

import io
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from faceless.errors import ConfigurationError, InvalidRequestError
from faceless.providers.base import Speech, SpeechRequest, SpeechSynthesizer
from faceless.providers.speech.espeak import (
    BASE_WPM,
    EspeakSynthesizer,
    list_voices,
    speakable_text,
    tokenize,
    words_per_minute,
)

APOLLO = "In 1969, Apollo 11 landed on the Moon — a giant leap for everyone."
PARAGRAPH = (
    "The café opened at 7:30 in the morning. Nobody came — not one customer! "
    "By noon, 42 people had tasted the naïve über-sweet pastries, and the owner smiled. "
    "“Tomorrow,” she said, “we bake twice as many.”"
)


@pytest.fixture(scope="module")
def synthesizer() -> EspeakSynthesizer:
    return EspeakSynthesizer()


def _samples(speech: Speech) -> np.ndarray:
    with wave.open(io.BytesIO(speech.wav)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").astype(np.float64)


def _rms(samples: np.ndarray, sample_rate: int, start: float, end: float) -> float:
    segment = samples[int(start * sample_rate) : int(end * sample_rate)]
    return float(np.sqrt(np.mean(segment**2))) if segment.size else 0.0


def _silent_runs(samples: np.ndarray, sample_rate: int, min_seconds: float) -> list[tuple[float, float]]:
    """Independent of the provider: (start, end) of every stretch of 10 ms frames that are at
    least 40 dB under the loudest frame, lasting `min_seconds` or more."""
    frame = sample_rate // 100
    count = len(samples) // frame
    rms = np.sqrt(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1))
    silent = rms < rms.max() * 0.01
    runs, begin = [], None
    for index, is_silent in enumerate([*silent, False]):
        if is_silent and begin is None:
            begin = index
        elif not is_silent and begin is not None:
            if (index - begin) * frame / sample_rate >= min_seconds:
                runs.append((begin * frame / sample_rate, index * frame / sample_rate))
            begin = None
    return runs


def _assert_well_formed(speech: Speech, text: str) -> None:
    assert [word.word for word in speech.words] == text.split()
    previous_end = 0.0
    for word in speech.words:
        assert word.start >= previous_end, word
        assert word.end > word.start, word
        previous_end = word.end
    assert speech.words[-1].end <= speech.duration_seconds


def test_it_implements_the_speech_port(synthesizer: EspeakSynthesizer) -> None:
    port: SpeechSynthesizer = synthesizer
    assert port.name == "espeak"


def test_english_narration_has_a_plausible_duration(synthesizer: EspeakSynthesizer) -> None:
    """GIVEN a 14-token English sentence at the default +12% rate
    WHEN it is synthesised
    THEN the clip lasts what a human-paced narration would (2 to 4 tokens a second)."""
    speech = synthesizer.synthesize(SpeechRequest(text=APOLLO, language="en", rate="+12%"))

    tokens_per_second = len(APOLLO.split()) / speech.duration_seconds
    assert 2.0 <= tokens_per_second <= 4.0
    assert speech.provider == "espeak"
    assert speech.voice == "en-us"
    assert speech.sample_rate == 22050


def test_one_timing_per_token_including_a_number_and_a_dash(synthesizer: EspeakSynthesizer) -> None:
    """GIVEN text with "1969," (spoken as several words) and "—" (not spoken at all)
    WHEN it is synthesised
    THEN there is exactly one timing per whitespace token, in order, with the token's text."""
    speech = synthesizer.synthesize(SpeechRequest(text=APOLLO))

    assert [word.word for word in speech.words] == APOLLO.split()
    assert "1969," in [word.word for word in speech.words]
    assert "—" in [word.word for word in speech.words]
    number = speech.words[1]
    assert number.end - number.start > 0.8  # "nineteen sixty-nine" takes time to say


def test_a_web_address_is_read_without_its_scheme_and_www_yet_timed_as_written(synthesizer: EspeakSynthesizer) -> None:
    """GIVEN a sentence with a full web address, and the same sentence with the bare address
    WHEN both are synthesised
    THEN "https://www." is not spelled out (the two take about as long; spelled, it added ~4 s)
    AND the timings are of the words as written, the address's covering its spoken name."""
    full = synthesizer.synthesize(SpeechRequest(text="Visit https://www.example.com/docs today."))
    bare = synthesizer.synthesize(SpeechRequest(text="Visit example.com/docs today."))

    assert abs(full.duration_seconds - bare.duration_seconds) < 0.3, (full.duration_seconds, bare.duration_seconds)
    assert [word.word for word in full.words] == ["Visit", "https://www.example.com/docs", "today."]
    address = full.words[1]
    assert address.end - address.start == pytest.approx(bare.words[1].end - bare.words[1].start, abs=0.15)


def test_text_without_web_addresses_is_read_exactly_as_written() -> None:
    """GIVEN text with no web address (a "://" or "www." start) WHEN prepared for espeak THEN unchanged."""
    for text in (APOLLO, PARAGRAPH, "e.g. U.S.A. 3.14 — a:b //c"):
        spoken, tokens = speakable_text(text, tokenize(text))
        assert spoken == text and tokens == tokenize(text)


@pytest.mark.parametrize(
    "text",
    [
        APOLLO,
        PARAGRAPH,
        "— Rockets 🚀 fly 中文 far — “quoted” U.S.A. e.g. $5 3.14 end. ...",
        "Hello. — — — — World",
        "  leading and trailing spaces\n\nwith a paragraph break  ",
        "odd\u00a0unicode\u2003spaces\tand\u3000tabs",
    ],
)
def test_timings_are_ordered_and_inside_the_audio(synthesizer: EspeakSynthesizer, text: str) -> None:
    """GIVEN text with numbers, punctuation, emoji, non-ASCII and odd spacing
    WHEN it is synthesised
    THEN timings are one per token, strictly ordered, non-overlapping and inside the clip."""
    speech = synthesizer.synthesize(SpeechRequest(text=text))

    _assert_well_formed(speech, text)


def test_the_clip_is_trimmed_but_keeps_a_short_tail(synthesizer: EspeakSynthesizer) -> None:
    """GIVEN any narration WHEN synthesised THEN speech starts at once and a ~0.15 s tail follows
    the last word, with no long silence at either end."""
    speech = synthesizer.synthesize(SpeechRequest(text=PARAGRAPH))
    samples = _samples(speech)

    assert speech.words[0].start < 0.1
    tail = speech.duration_seconds - speech.words[-1].end
    assert 0.1 <= tail <= 0.25
    assert _rms(samples, speech.sample_rate, speech.duration_seconds - 0.05, speech.duration_seconds) < 50


def test_the_wav_is_mono_16_bit_at_the_reported_rate(synthesizer: EspeakSynthesizer) -> None:
    speech = synthesizer.synthesize(SpeechRequest(text=APOLLO))

    with wave.open(io.BytesIO(speech.wav)) as reader:
        assert reader.getnchannels() == 1
        assert reader.getsampwidth() == 2
        assert reader.getframerate() == speech.sample_rate
        assert reader.getnframes() / reader.getframerate() == pytest.approx(speech.duration_seconds)
    assert np.abs(_samples(speech)).max() > 3000  # real speech, not silence


def test_a_faster_rate_gives_shorter_audio(synthesizer: EspeakSynthesizer) -> None:
    slow = synthesizer.synthesize(SpeechRequest(text=PARAGRAPH, rate="-20%"))
    fast = synthesizer.synthesize(SpeechRequest(text=PARAGRAPH, rate="+50%"))

    assert fast.duration_seconds < slow.duration_seconds * 0.7
    assert [word.word for word in fast.words] == [word.word for word in slow.words]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("+0%", BASE_WPM), ("+12%", 140), ("-5%", 119), ("+100%", 250), ("-90%", 80), ("+500%", 450)],
)
def test_rates_map_to_espeak_words_per_minute(rate: str, expected: int) -> None:
    assert words_per_minute(rate) == expected


def test_spanish_uses_a_spanish_voice(synthesizer: EspeakSynthesizer) -> None:
    text = "Hola, ¿cómo estás? El café está en la mesa desde 1998."
    speech = synthesizer.synthesize(SpeechRequest(text=text, language="es"))

    assert speech.voice == "es"
    _assert_well_formed(speech, text)
    assert 1.5 <= len(text.split()) / speech.duration_seconds <= 4.5


@pytest.mark.parametrize(
    ("voice", "language", "expected"),
    [
        (None, "en", "en-us"),
        (None, "en-GB", "en"),
        (None, "pt-BR", "pt-br"),
        (None, "pt_br", "pt-br"),
        (None, "fr-CA", "fr"),  # no Canadian French voice: the base language's
        (None, "zh-CN", "cmn"),
        ("fr", "en", "fr"),  # a named espeak voice wins
        ("gmw/en-GB-scotland", "en", "en-gb-scotland"),
        ("en-US-AriaNeural", "en", "en-us"),  # an edge-tts voice is not espeak's: the language decides
    ],
)
def test_voice_choice(
    synthesizer: EspeakSynthesizer, voice: str | None, language: str, expected: str
) -> None:
    speech = synthesizer.synthesize(SpeechRequest(text="One two three.", voice=voice, language=language))

    assert speech.voice == expected


@pytest.mark.parametrize("rate", ["fast", "12%", "+12", "+1.5%", "", "-100%"])
def test_a_bad_rate_is_rejected(synthesizer: EspeakSynthesizer, rate: str) -> None:
    with pytest.raises(InvalidRequestError, match="rate"):
        synthesizer.synthesize(SpeechRequest(text="Hello world.", rate=rate))


def test_an_unknown_language_is_rejected(synthesizer: EspeakSynthesizer) -> None:
    with pytest.raises(InvalidRequestError, match="no voice for language 'qq'"):
        synthesizer.synthesize(SpeechRequest(text="Hello world.", language="qq"))


def test_a_voice_name_that_is_neither_espeak_nor_edge_is_a_mistake_said_so(synthesizer: EspeakSynthesizer) -> None:
    # GIVEN a typo for a voice (not an espeak voice, not an edge-tts name either)
    # WHEN it is spoken or checked THEN the error names it, rather than another voice speaking silently
    with pytest.raises(InvalidRequestError, match="no voice named 'en-scotlnd'"):
        synthesizer.synthesize(SpeechRequest(text="Hello world.", voice="en-scotlnd"))
    with pytest.raises(InvalidRequestError, match="no voice named 'en-scotlnd'"):
        synthesizer.check_voice("en", "en-scotlnd")


@pytest.mark.parametrize(
    ("language", "voice"), [("en", None), ("pt-BR", None), ("en", "gmw/en-GB-scotland"), ("de", "de-DE-KatjaNeural")]
)
def test_the_check_accepts_what_synthesis_speaks(synthesizer: EspeakSynthesizer, language: str, voice: str | None) -> None:
    # GIVEN a language (and voice) espeak speaks, or an edge-tts name (the language's voice then speaks)
    # WHEN checked THEN nothing is raised, and synthesis of the same request works
    synthesizer.check_voice(language, voice)
    assert synthesizer.synthesize(SpeechRequest(text="One two.", language=language, voice=voice)).words


def test_the_check_refuses_a_language_espeak_has_no_voice_for(synthesizer: EspeakSynthesizer) -> None:
    with pytest.raises(InvalidRequestError, match="no voice for language 'qq'"):
        synthesizer.check_voice("qq", None)


@pytest.mark.parametrize("text", ["", "   \n\t ", "— ... !?", "\0"])
def test_text_with_nothing_to_say_is_rejected(synthesizer: EspeakSynthesizer, text: str) -> None:
    with pytest.raises(InvalidRequestError, match="empty"):
        synthesizer.synthesize(SpeechRequest(text=text))


def test_voices_are_listed_with_their_languages() -> None:
    everything = list_voices()
    portuguese = EspeakSynthesizer().list_voices("pt-BR")
    english = list_voices("en")

    assert len(everything) > 100
    assert {"name", "language", "gender"} <= set(everything[0])
    assert portuguese[0]["name"] == "pt-br"
    assert english[0]["name"] == "en-us"
    assert {"en-us", "en", "en-gb-scotland"} <= {voice["name"] for voice in english}
    assert all(voice["language"].startswith("en") for voice in english)


def test_concurrent_synthesis_matches_sequential(synthesizer: EspeakSynthesizer) -> None:
    """GIVEN four different requests (languages, rates)
    WHEN they run from 4 threads at once, several times each
    THEN every result is, byte for byte, the one synthesised alone (the engine lock holds, and no
    state is left over from whichever request ran before)."""
    requests = [
        SpeechRequest(text=APOLLO),
        SpeechRequest(text=PARAGRAPH, rate="+30%"),
        SpeechRequest(text="Hola, ¿cómo estás? Muy bien, gracias.", language="es"),
        SpeechRequest(text="Bonjour tout le monde, il fait beau.", language="fr", rate="-10%"),
    ]
    sequential = [synthesizer.synthesize(request) for request in requests]

    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(synthesizer.synthesize, requests * 3))

    for index, speech in enumerate(concurrent):
        assert speech == sequential[index % len(requests)]


def test_the_same_text_gives_the_same_audio_whatever_was_spoken_before(synthesizer: EspeakSynthesizer) -> None:
    """GIVEN a sentence spoken first thing, then again after other sentences and another language
    WHEN the two results are compared
    THEN the WAV bytes and word timings are identical (espeak-ng's wave generator keeps its pitch
    phase and sample counters between calls; before each synthesis the library starts afresh)."""
    request = SpeechRequest(text="Honeybees dance to tell each other where the flowers are.")
    first = synthesizer.synthesize(request)
    synthesizer.synthesize(SpeechRequest(text=PARAGRAPH, rate="+30%"))
    synthesizer.synthesize(SpeechRequest(text="Bonjour tout le monde.", language="fr"))

    again = synthesizer.synthesize(request)

    assert again.wav == first.wav
    assert again.words == first.words


def test_word_timings_follow_the_real_audio(synthesizer: EspeakSynthesizer) -> None:
    """GIVEN two phrases with a long pause between them (espeak pauses at each dash)
    WHEN synthesised
    THEN the silence found in the audio itself lies between the words around it: the next word
    starts where sound resumes and the one before ends where sound stops. Uniform or made-up
    timings would put word edges in the middle of the pause."""
    text = "Hello there. — — — — Goodbye my friend."
    speech = synthesizer.synthesize(SpeechRequest(text=text))
    samples = _samples(speech)
    rate = speech.sample_rate
    words = {word.word: word for word in speech.words}

    pauses = [run for run in _silent_runs(samples, rate, 0.3) if run[1] < speech.duration_seconds - 0.2]
    assert len(pauses) == 1
    pause_start, pause_end = pauses[0]
    assert abs(words["Goodbye"].start - pause_end) < 0.05
    assert pause_start - 0.01 <= words["there."].end <= pause_start + 0.12
    spoken = [word for word in speech.words if word.word != "—"]
    for word in spoken:
        assert _rms(samples, rate, word.start, word.end) > 500, word
    gap_rms = _rms(samples, rate, words["there."].end, words["Goodbye"].start)
    assert gap_rms < 0.05 * min(_rms(samples, rate, word.start, word.end) for word in spoken)


def test_words_after_pauses_start_when_the_sound_resumes(synthesizer: EspeakSynthesizer) -> None:
    """GIVEN a paragraph with several sentence and clause pauses
    WHEN synthesised
    THEN every pause found in the audio ends within 50 ms of some word's start."""
    speech = synthesizer.synthesize(SpeechRequest(text=PARAGRAPH))
    samples = _samples(speech)
    starts = np.array([word.start for word in speech.words])

    pauses = [
        run
        for run in _silent_runs(samples, speech.sample_rate, 0.12)
        if run[1] < speech.duration_seconds - 0.2  # not the tail
    ]
    assert len(pauses) >= 4
    for _, pause_end in pauses:
        assert np.min(np.abs(starts - pause_end)) < 0.05, pause_end


def test_a_library_that_fails_to_reload_is_reported_and_loaded_again_next_time(synthesizer, monkeypatch):
    """GIVEN the library cannot be loaded again once (the disk went away for a moment)
    WHEN two clips are spoken after it
    THEN the first fails with a ConfigurationError naming the library, and the second loads it
    afresh and speaks as before (no call into the unloaded library's code)."""
    import ctypes

    request = SpeechRequest(text="Honeybees dance to tell each other where the flowers are.")
    expected = synthesizer.synthesize(request)
    real_cdll, failures = ctypes.CDLL, []

    def load_once_failing(path, *args, **kwargs):
        if not failures:
            failures.append(path)
            raise OSError("cannot open shared object file")
        return real_cdll(path, *args, **kwargs)

    monkeypatch.setattr(ctypes, "CDLL", load_once_failing)
    with pytest.raises(ConfigurationError, match="cannot load espeak-ng"):
        synthesizer.synthesize(request)
    assert synthesizer.synthesize(request) == expected
